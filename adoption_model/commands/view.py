"""``adoption-model view``: start the classroom view (a Solara app) on this machine.

The app is served by ``solara run viz/app.py --production`` on 127.0.0.1 with Solara's
telemetry off and its front-end files taken from a local cache (see
:mod:`adoption_model.viz.assets`), so nothing leaves the machine. The command and its
environment are :func:`adoption_model.viz.serve.server_command` and
:func:`adoption_model.viz.serve.server_env`: the CLI imports the view's launcher, the view
never imports the CLI. ``--host 0.0.0.0`` serves a classroom
from one laptop (with a warning: anyone on the network can then open it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from adoption_model.errors import InputError
from adoption_model.guards import check_seed, child_preexec

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``view`` subcommand."""
    p = subparsers.add_parser(
        "view",
        help="start the classroom view in the browser (offline, on 127.0.0.1)",
        description=(
            "Start the classroom view: a world map and network that light up as nations "
            "adopt, charts over time, and a panel that explains each decision. Runs offline "
            "once the front-end files are cached (--fetch-assets)."
        ),
    )
    p.add_argument("scenario", nargs="?", default=None, help="scenario name or TOML file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--seed", type=int, default=None, help="seed of every session's first model")
    p.add_argument(
        "--assets-dir",
        type=Path,
        default=None,
        help="Solara front-end cache (default: ~/.cache/adoption-model/solara-assets)",
    )
    p.add_argument(
        "--fetch-assets",
        action="store_true",
        help="fill the front-end cache with npm (needs the npm registry once) and exit",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fetch the assets, or check the scenario and serve the app until interrupted."""
    from adoption_model.extras import require

    require("viz")
    from adoption_model.viz import assets
    from adoption_model.viz.serve import server_command, server_env

    assets_dir = args.assets_dir or assets.default_cache_dir()
    if args.fetch_assets:
        assets.fetch(assets_dir)
        print(f"front-end files cached in {assets_dir}; `adoption-model view` now works offline")
        return 0
    if args.scenario:
        from adoption_model.scenario import load_scenario

        load_scenario(args.scenario)  # a bad name or file is a one-line error, before serving
    check_seed(args.seed)
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: must be between 1 and 65535")
    gone = assets.missing(assets_dir)
    if gone:
        print(
            f"adoption-model: warning: {assets_dir} lacks Solara's front-end files; the page "
            "will fetch them from the internet (or stay blank offline). Run "
            "`adoption-model view --fetch-assets` once while online.",
            file=sys.stderr,
        )
    if args.host not in LOOPBACK:
        print(
            f"adoption-model: warning: --host {args.host} exposes the view to every machine "
            "that can reach this one (no password); use it only on a trusted classroom network.",
            file=sys.stderr,
        )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"classroom view: http://{shown}:{args.port}/  (Ctrl+C to stop)", flush=True)
    if args.host in ("0.0.0.0", "::"):
        import socket

        print(
            f"students: http://{socket.gethostname()}:{args.port}/ (or this machine's IP address)"
        )
    proc = subprocess.Popen(  # the server dies with this command, even after kill -9
        server_command(args.host, args.port),
        env=server_env(args.scenario, assets_dir, args.seed),
        preexec_fn=child_preexec(),
    )
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        return 0
