"""A classroom: one server, 30 concurrent browser sessions, each stepping its own model.

Every session (a page in headless Chromium, its own Solara session and model) clicks Step
as fast as its round trips allow for the duration. At the end each page's step counter must
equal its own number of clicks (no session sees another's state). Prints the p50/p95 step
latency over all sessions, steps per second served, and the server's memory (RSS of the
server process), against the same server's memory with one session (reference, same run).

    python benchmarks/bench_classroom.py [--sessions 30] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _viewserver import CHROMIUM, CHROMIUM_ARGS, start  # noqa: E402

STEP_RE = r"/^Step: (\d+)$/"


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


async def run(sessions: int, seconds: float) -> int:
    from playwright.async_api import async_playwright

    proc, url = start()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            one: list[float] = []
            await session(browser, url, 5, one)
            base_mb = rss_mb(proc.pid)
            lat: list[float] = []
            t0 = time.monotonic()
            opened = [await open_page(browser, url) for _ in range(sessions)]  # ramp up
            t0 = time.monotonic()
            results = await asyncio.gather(
                *(session(browser, url, seconds, lat, o) for o in opened)
            )
            wall = time.monotonic() - t0
            peak_mb = rss_mb(proc.pid)
            await browser.close()
    finally:
        proc.terminate()
    isolated = all(clicks == shown for clicks, shown in results)
    lat.sort()
    p95 = lat[int(round(0.95 * (len(lat) - 1)))]
    total = sum(c for c, _ in results)
    print(f"classroom: {sessions} sessions x {seconds:.0f} s on one server (2 cores)")
    print(f"  steps served {total} ({total / wall:.1f}/s); per session {[c for c, _ in results]}")
    print(f"  step latency p50 {statistics.median(lat):.0f} ms, p95 {p95:.0f} ms")
    print(
        f"  single-session reference p50 {statistics.median(one):.0f} ms "
        f"-> classroom p50 / single = {statistics.median(lat) / statistics.median(one):.1f}x"
    )
    print(
        f"  server memory: {base_mb:.0f} MiB after 1 session, {peak_mb:.0f} MiB with "
        f"{sessions} ({(peak_mb - base_mb) / sessions:.1f} MiB per session)"
    )
    print(f"  isolation: {'every session shows its own step count' if isolated else 'FAIL'}")
    return 0 if isolated else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    return asyncio.run(run(args.sessions, args.seconds))


if __name__ == "__main__":
    raise SystemExit(main())
