"""Step round trip in the browser: click Step -> counter, map and charts updated (197 nations).

Prints the median and p95 over 50 steps in headless Chromium against the real server
(production mode, loopback), and the ratio to one bare ``model.step()`` measured in the same
run (the share of the round trip that is the simulation itself). Floor: median <= 300 ms.

Then the server's own cost of one step (``--server-steps``, 0 to skip): the app rendered in
this process as the server renders it (one Solara kernel context, so a step is one render
pass over the page), Step clicked on its widget, with no country and with Pakistan in the
why panel. That is the Python a server spends per step and student, and what limits how
many steps per second one server process gives a class. Target: at most 20 ms.

    python benchmarks/bench_view.py [--steps 50] [--server-steps 100] [--server-only]
"""

from __future__ import annotations

import argparse
import statistics
import time

from adoption_model.viz.serve import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

from adoption_model.model import AdoptionModel

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


def server_step_ms(steps: int, country: str | None) -> list[float]:
    """Milliseconds of server Python per Step click (model step and re-render), in process."""
    import ipyvuetify as v
    import solara
    import solara.server.starlette  # noqa: F401 - Solara then scopes state as the server does
    from solara.components.applayout import AppLayout
    from solara.server import kernel_context

    kernel_context.set_current_context(kernel_context.create_dummy_context())
    from adoption_model.viz import components
    from adoption_model.viz.app import Page

    components.selected.set(None)
    _box, rc = solara.render(AppLayout(children=[Page()]), handle_error=False)
    button = rc.find(v.Btn, children=["Step"]).widget
    if country:
        components.selected.set(country)
    for _ in range(5):  # warm up
        button.click()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        button.click()
        times.append((time.perf_counter() - t) * 1e3)
    rc.close()
    return times


def report_server(steps: int, ref: float) -> bool:
    """Print the server's per-step cost; whether it meets the 20 ms target."""
    ok = True
    print(f"server cost of one Step (model step + re-render), 197 nations, {steps} steps")
    for label, country in (("no country chosen", None), ("why panel on PAK", "PAK")):
        t = sorted(server_step_ms(steps, country))
        med = statistics.median(t)
        p95 = t[int(round(0.95 * (len(t) - 1)))]
        ok = ok and med <= 20
        print(
            f"  {label:18s} median {med:6.1f} ms   p95 {p95:6.1f} ms"
            f"   ({1000 / med:.0f} steps/s per core; {med / ref:.0f}x model.step())"
        )
    print("  PASS (target: median <= 20 ms)" if ok else "  ABOVE TARGET: median > 20 ms")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--server-steps", type=int, default=100)
    ap.add_argument("--server-only", action="store_true", help="skip the browser round trip")
    args = ap.parse_args()
    if args.server_only:
        report_server(args.server_steps, model_step_ms())
        return 0
    from playwright.sync_api import sync_playwright

    proc, url = start_server()
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
        stop_server(proc)
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
    if args.server_steps:
        report_server(args.server_steps, ref)
    return 0 if med <= 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
