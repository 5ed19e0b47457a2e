"""Serve the classroom view: the server's command line and environment, and a test server.

:func:`server_command` and :func:`server_env` are what ``adoption-model view`` runs. The
browser tests and the view benchmarks start the server through :func:`start_server` and
drive it with headless Chromium, so they serve the view the same way the CLI does
(production mode, telemetry off, the local front-end cache) and with the flags this
machine's closed network needs. The CLI imports this module; it imports nothing of the
CLI.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from adoption_model.viz import ENV_SCENARIO, ENV_SEED, assets

#: Debian's Chromium (playwright drives it; ``playwright install`` cannot download browsers).
CHROMIUM = "/usr/bin/chromium"
#: Headless, no sandbox (root), and no background traffic to hosts a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the view (the app is not imported here)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(Path(__file__).resolve().parent / "app.py"),
        "--production",
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
    ]


def server_env(scenario: str | None, assets_dir: Path, seed: int | None = None) -> dict[str, str]:
    """Environment for the server: telemetry off, local assets, the scenario to show."""
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("REACTON_FAST", "1")  # reacton's fast tree walk: about half the step cost
    # Solara's rules-of-hooks check is a development aid; in production it only warns about
    # Mesa 3.3.1's own SolaraViz code, which a teacher cannot act on
    env.setdefault("SOLARA_CHECK_HOOKS", "off")
    env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets_dir)
    env["SOLARA_ASSETS_PROXY"] = "True"
    if scenario:
        env[ENV_SCENARIO] = scenario
    if seed is not None:
        env[ENV_SEED] = str(seed)
    return env


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    assets_root: Path | None = None,
    scenario: str | None = None,
    seed: int = 11,
    timeout: float = 120.0,
) -> tuple[subprocess.Popen, str]:
    """Start the view's server and wait until it answers; return ``(process, url)``.

    The front-end cache is filled first if it is incomplete (``npm pack``, see
    :mod:`adoption_model.viz.assets`). The server's CDN points at a dead loopback address, so
    the page can only work from the local cache. Raises ``RuntimeError`` (with the server's
    last output) if it exits or does not answer within ``timeout`` seconds.
    """
    root = assets.default_cache_dir() if assets_root is None else assets_root
    if assets.missing(root):
        assets.fetch(root, quiet=True)
    port = free_port()
    env = server_env(scenario, root, seed)
    env["SOLARA_ASSETS_CDN"] = "http://127.0.0.1:9/"  # dead loopback: the server cannot go out
    log = tempfile.TemporaryFile()  # a file, not a pipe: a long run never blocks on it
    proc = subprocess.Popen(
        server_command("127.0.0.1", port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"server did not start within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate the server (kill it if it does not stop within 15 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
