"""Start the classroom view's server on a free loopback port (shared by the view benchmarks)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

from adoption_model.commands.view import server_command, server_env
from viz import assets

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def start(seed: int = 11) -> tuple[subprocess.Popen, str]:
    """The server process and its URL (assets cache filled first if needed)."""
    root = assets.default_cache_dir()
    if assets.missing(root):
        assets.fetch(root, quiet=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = server_env(None, root, seed)
    env["SOLARA_ASSETS_CDN"] = "http://127.0.0.1:9/"
    proc = subprocess.Popen(
        server_command("127.0.0.1", port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(240):
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("server did not start")
