"""Serve the classroom view on a free loopback port and drive it with headless Chromium.

Shared by the browser tests and the view benchmarks, so they start the server and the
browser the same way ``adoption-model view`` does (production mode, telemetry off, the
local front-end cache) and with the flags this machine's closed network needs.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from adoption_model.viz import assets

from adoption_model.commands.view import server_command, server_env

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
