"""A classroom: one server, 30 concurrent sessions, each stepping its own model for a minute.

Two kinds of client (``--mode``):

``ws`` (default): each session is a lightweight client that speaks the page's own protocol,
the Jupyter widget protocol over a websocket, as a browser tab does: it GETs the page (its
own session cookie), opens the kernel websocket with a kernel id of its own (its own Solara
session, its own app state and model), runs the app, receives its widgets, types a seed of
its own into the seed box, clicks Reset, then clicks Step as soon as the previous step's
re-render has been sent. A step's latency runs from the click to the kernel's ``idle``
status for it (every widget update of the re-render has arrived; the map's title must then
show the new month). Nothing is rendered, so the two cores go to the server.

``browser``: each session is a page in headless Chromium (its own browser context), clicking
Step and waiting for the counter; the 30 pages share the server's two cores, so this
measures Chromium as much as the server.

Isolation: every session must have been sent exactly its own step counts (0, 1, ..., its
clicks, in order; never another session's) and, in ``ws`` mode, must run its own seed. Prints
the p50/p95 step latency over all sessions, steps served per second, and the server's memory
(RSS of the server process) with one session (reference, same run) and with all of them.

    python benchmarks/bench_classroom.py [--mode ws|browser] [--sessions 30] [--seconds 60]

References:
    Jupyter messaging protocol, https://jupyter-client.readthedocs.io/en/stable/messaging.html
    Jupyter widget message protocol, ipywidgets ``packages/schema/messages.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import struct
import time
import urllib.request
import uuid
from typing import Any

import psutil
from adoption_model.viz.serve import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from websockets.asyncio.client import connect

STEP_RE = r"/^Step: (\d+)$/"
START = 2025 * 12 + 5  # the baseline starts 2025-06; month k is START + k


def month(k: int) -> str:
    m = START + k
    return f"{m // 12}-{m % 12 + 1:02d}"


# --- ws mode: a minimal widget-protocol client ------------------------------------------


def _decode(raw: str | bytes) -> dict[str, Any]:
    """A message from the server (JSON text, or Jupyter's binary framing with buffers)."""
    if isinstance(raw, str):
        return json.loads(raw)
    nbufs = struct.unpack("!i", raw[:4])[0]
    offsets = list(struct.unpack("!" + "I" * nbufs, raw[4 : 4 * (nbufs + 1)]))
    return json.loads(raw[offsets[0] : offsets[1] if nbufs > 1 else None].decode("utf8"))


class WidgetSession:
    """One Solara session driven over its websocket (no browser)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/"
        self.kernel_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.states: dict[str, dict[str, Any]] = {}
        self.texts_seen: list[str] = []  # every "Step: n" text this session was sent
        self.ws: Any = None

    def _cookie(self) -> str:
        with urllib.request.urlopen(self.url, timeout=60) as r:  # noqa: S310 - loopback
            cookies = r.headers.get_all("Set-Cookie") or []
        return "; ".join(c.split(";", 1)[0] for c in cookies)

    def _msg(self, msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
        return {
            "header": {
                "msg_id": str(uuid.uuid4()),
                "msg_type": msg_type,
                "session": self.client_id,
                "username": "bench",
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }

    async def _send(self, msg_type: str, content: dict[str, Any]) -> str:
        msg = self._msg(msg_type, content)
        await self.ws.send(json.dumps(msg))
        return msg["header"]["msg_id"]

    def _take(self, msg: dict[str, Any]) -> None:
        kind = msg["header"]["msg_type"]
        content = msg.get("content", {})
        if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
            self.states[content["comm_id"]] = dict(content["data"].get("state", {}))
            self._note(content["data"].get("state", {}))
        elif kind == "comm_msg":
            data = content.get("data", {})
            if (
                data.get("method") in ("update", "echo_update")
                and content["comm_id"] in self.states
            ):
                self.states[content["comm_id"]].update(data.get("state", {}))
                self._note(data.get("state", {}))

    def _note(self, state: dict[str, Any]) -> None:
        for child in state.get("children", None) or []:
            if isinstance(child, str) and child.startswith("Step: "):
                self.texts_seen.append(child)

    async def _until(self, done) -> dict[str, Any]:
        while True:
            msg = _decode(await self.ws.recv())
            self._take(msg)
            if done(msg):
                return msg

    async def open(self) -> None:
        """Load the page: cookie, websocket, run the app, receive its widgets."""
        cookie = await asyncio.to_thread(self._cookie)
        ws_url = self.url.replace("http://", "ws://", 1)
        self.ws = await connect(
            f"{ws_url}jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.client_id}",
            additional_headers={"Cookie": cookie},
            max_size=None,
            open_timeout=120,
            ping_interval=None,
        )
        control = str(uuid.uuid4())
        await self._send(
            "comm_open", {"comm_id": control, "target_name": "solara.control", "data": {}}
        )
        await self._send(
            "comm_msg",
            {"comm_id": control, "data": {"method": "run", "args": {"path": "", "appName": None}}},
        )
        await self._until(
            lambda m: (
                m["header"]["msg_type"] == "comm_msg"
                and m["content"].get("comm_id") == control
                and m["content"]["data"].get("method") == "finished"
            )
        )

    def button(self, label: str) -> str:
        """The comm id of the (single) button labelled ``label``."""
        found = [
            cid
            for cid, s in self.states.items()
            if s.get("_model_name") == "BtnModel" and label in (s.get("children") or [])
        ]
        if len(found) != 1:
            raise RuntimeError(f"expected one {label!r} button, found {len(found)}")
        return found[0]

    def step_text(self) -> str:
        """The step counter as shown now ("Step: n")."""
        shown = [
            c
            for s in self.states.values()
            for c in (s.get("children") or [])
            if isinstance(c, str) and c.startswith("Step: ")
        ]
        if len(shown) != 1:
            raise RuntimeError(f"expected one step counter, found {shown}")
        return shown[0]

    def shows(self, text: str) -> bool:
        """Whether some widget of the page shows ``text`` now (in a text trait or child)."""
        for state in self.states.values():
            for value in state.values():
                items = value if isinstance(value, list) else [value]
                if any(isinstance(v, str) and text in v for v in items):
                    return True
        return False

    async def type_text(self, label: str, text: str) -> None:
        """Type into the text field labelled ``label`` and press Enter."""
        found = [
            cid
            for cid, s in self.states.items()
            if s.get("_model_name") == "TextFieldModel" and s.get("label") == label
        ]
        if len(found) != 1:
            raise RuntimeError(f"expected one {label!r} text field, found {len(found)}")
        await self._send(
            "comm_msg",
            {
                "comm_id": found[0],
                "data": {"method": "update", "state": {"v_model": text}, "buffer_paths": []},
            },
        )
        self.states[found[0]]["v_model"] = text
        msg_id = await self._send(
            "comm_msg",
            {
                "comm_id": found[0],
                "data": {"method": "custom", "content": {"event": "keyup.enter", "data": {}}},
            },
        )
        await self._idle(msg_id)

    async def _idle(self, msg_id: str) -> None:
        await self._until(
            lambda m: (
                m["header"]["msg_type"] == "status"
                and m["content"].get("execution_state") == "idle"
                and m.get("parent_header", {}).get("msg_id") == msg_id
            )
        )

    async def click(self, label: str) -> float:
        """Click a button; milliseconds until the server has sent the whole re-render."""
        comm_id = self.button(label)
        t = time.perf_counter()
        msg_id = await self._send(
            "comm_msg",
            {
                "comm_id": comm_id,
                "data": {"method": "custom", "content": {"event": "click", "data": {}}},
            },
        )
        await self._idle(msg_id)
        return (time.perf_counter() - t) * 1e3

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def ws_session(
    url: str, seconds: float, seed: int, latencies: list[float], opened: WidgetSession | None
) -> tuple[int, bool]:
    """Step one session for ``seconds``; (clicks, isolation held)."""
    s = opened or await ws_open(url, seed)
    clicks = 0
    ok = True
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        latencies.append(await s.click("Step"))
        clicks += 1
        ok = ok and s.shows(f"World map, {month(clicks)}")
    ok = ok and s.texts_seen == [f"Step: {k}" for k in range(clicks + 1)]
    ok = ok and s.step_text() == f"Step: {clicks}" and s.shows(f"seed {seed}")
    await s.close()
    return clicks, ok


async def ws_open(url: str, seed: int) -> WidgetSession:
    """A session that has loaded the page and reset its model to its own seed."""
    s = WidgetSession(url)
    await s.open()
    await s.type_text("Seed (applies on Reset)", str(seed))
    await s.click("Reset")
    if not s.shows(f"seed {seed}"):
        raise RuntimeError(f"session did not take its seed {seed}")
    s.texts_seen = [s.step_text()]
    return s


async def run_ws(sessions: int, seconds: float) -> tuple:
    proc, url = start_server()
    try:
        one: list[float] = []
        await ws_session(url, 5, 999, one, None)
        base_mb = rss_mb(proc.pid)
        lat: list[float] = []
        opened = [await ws_open(url, 1000 + i) for i in range(sessions)]  # ramp up
        t0 = time.monotonic()
        results = await asyncio.gather(
            *(ws_session(url, seconds, 1000 + i, lat, o) for i, o in enumerate(opened))
        )
        wall = time.monotonic() - t0
        peak_mb = rss_mb(proc.pid)
    finally:
        stop_server(proc)
    return [c for c, _ in results], all(ok for _, ok in results), lat, one, wall, base_mb, peak_mb


# --- browser mode: headless Chromium pages ----------------------------------------------


async def open_page(browser, url: str):
    """A new session: its own browser context (cookies) and so its own Solara session."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    await page.goto(url, timeout=300_000)
    await page.wait_for_selector(".am-world-map path.am-nation", timeout=300_000)
    return ctx, page


async def session(browser, url: str, seconds: float, latencies: list[float], opened=None):
    ctx, page = opened or await open_page(browser, url)
    button = page.get_by_role("button", name="Step", exact=True)
    clicks = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        await button.click()
        clicks += 1
        await page.locator(f"text=/^Step: {clicks}$/").first.wait_for(timeout=60_000)
        latencies.append((time.perf_counter() - t) * 1e3)
    shown = await page.locator(f"text={STEP_RE}").first.inner_text()
    await ctx.close()
    return clicks, int(shown.split()[-1])


def rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


async def run_browser(sessions: int, seconds: float) -> tuple:
    from playwright.async_api import async_playwright

    proc, url = start_server()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            one: list[float] = []
            await session(browser, url, 5, one)
            base_mb = rss_mb(proc.pid)
            lat: list[float] = []
            opened = [await open_page(browser, url) for _ in range(sessions)]  # ramp up
            t0 = time.monotonic()
            results = await asyncio.gather(
                *(session(browser, url, seconds, lat, o) for o in opened)
            )
            wall = time.monotonic() - t0
            peak_mb = rss_mb(proc.pid)
            await browser.close()
    finally:
        stop_server(proc)
    isolated = all(clicks == shown for clicks, shown in results)
    return [c for c, _ in results], isolated, lat, one, wall, base_mb, peak_mb


def report(mode, sessions, seconds, clicks, isolated, lat, one, wall, base_mb, peak_mb) -> None:
    """Print the classroom's numbers."""
    lat = sorted(lat)
    p95 = lat[int(round(0.95 * (len(lat) - 1)))]
    total = sum(clicks)
    client = "widget-protocol websocket clients" if mode == "ws" else "headless Chromium pages"
    print(f"classroom ({mode}): {sessions} {client} x {seconds:.0f} s on one server (2 cores)")
    print(f"  steps served {total} ({total / wall:.1f}/s); per session {clicks}")
    print(f"  step latency p50 {statistics.median(lat):.0f} ms, p95 {p95:.0f} ms")
    print(
        f"  single-session reference p50 {statistics.median(one):.0f} ms "
        f"-> classroom p50 / single = {statistics.median(lat) / statistics.median(one):.1f}x"
    )
    print(
        f"  server memory: {base_mb:.0f} MiB after 1 session, {peak_mb:.0f} MiB with "
        f"{sessions} ({(peak_mb - base_mb) / sessions:.1f} MiB per session)"
    )
    print(f"  isolation: {'every session saw only its own state' if isolated else 'FAIL'}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("ws", "browser"), default="ws")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    runner = run_ws if args.mode == "ws" else run_browser
    clicks, isolated, lat, one, wall, base_mb, peak_mb = asyncio.run(
        runner(args.sessions, args.seconds)
    )
    report(
        args.mode, args.sessions, args.seconds, clicks, isolated, lat, one, wall, base_mb, peak_mb
    )
    return 0 if isolated else 1


if __name__ == "__main__":
    raise SystemExit(main())
