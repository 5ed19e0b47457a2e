"""Step round trip in the browser: click Step -> counter, map and charts updated (197 nations).

Prints the median and p95 over 50 steps in headless Chromium against the real server
(production mode, loopback), and the ratio to one bare ``model.step()`` measured in the same
run (the share of the round trip that is the simulation itself). Floor: median <= 300 ms.

    python benchmarks/bench_view.py [--steps 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _viewserver import CHROMIUM, CHROMIUM_ARGS, start  # noqa: E402

from adoption_model.model import AdoptionModel  # noqa: E402

UPDATED = """k => {
  const steps = [...document.querySelectorAll('span, div')].some(e => e.innerText === 'Step: ' + k);
  const pl = document.querySelector('.am-chart polyline');
  const pts = pl ? pl.getAttribute('points').split(' ').length : 0;
  const title = document.querySelector('.am-world-map');
  return steps && pts === k + 1 && title && title.innerText.includes(window.__amDate(k));
}"""


def model_step_ms(n: int = 200) -> float:
    m = AdoptionModel(seed=11, overrides={"steps": n})
    t = time.perf_counter()
    for _ in range(n):
        m.step()
    return (time.perf_counter() - t) / n * 1e3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc, url = start()
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url)
            page.wait_for_selector(".am-world-map path.am-nation", timeout=120_000)
            page.evaluate(
                "() => { window.__amDate = k => { const m = 2025 * 12 + 5 + k;"
                " return Math.floor(m / 12) + '-' + String(m % 12 + 1).padStart(2, '0'); } }"
            )
            button = page.get_by_role("button", name="Step", exact=True)
            times = []
            for k in range(1, args.steps + 1):
                t = time.perf_counter()
                button.click()
                page.wait_for_function(UPDATED, arg=k, timeout=30_000, polling="raf")
                times.append((time.perf_counter() - t) * 1e3)
            b.close()
    finally:
        proc.terminate()
    ref = model_step_ms()
    times.sort()
    med = statistics.median(times)
    p95 = times[int(round(0.95 * (len(times) - 1)))]
    print(f"browser step round trip, 197 nations, {len(times)} steps")
    print(f"  median {med:7.1f} ms   p95 {p95:7.1f} ms   (floor: median <= 300 ms)")
    print(
        f"  reference: model.step() alone {ref:.2f} ms"
        f" -> round trip / model step = {med / ref:.0f}x"
    )
    print("  PASS" if med <= 300 else "  FAIL: median above 300 ms")
    return 0 if med <= 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
