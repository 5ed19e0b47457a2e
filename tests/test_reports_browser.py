"""The discover and key-players reports in headless Chromium, from file://, network off."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def browser():
    from adoption_model.viz.serve import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} not found: browser tests cannot run under CI")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    from adoption_model.discovery import discover
    from adoption_model.discovery.keyplayers import key_players

    out = tmp_path_factory.mktemp("reports")
    rng = np.random.default_rng(0)
    runs = pd.DataFrame(rng.random((400, 4)), columns=["a", "b", "c", "d"])
    runs["y"] = ((runs["a"] > 0.5) & (runs["b"] < 0.5)).astype(float)
    d = discover(runs, "y >= 0.5", factors=["a", "b", "c", "d"])
    kp = key_players("baseline", k=1, replications=2, steps=12, candidates=["DEU", "BRA"],
                     backend="serial")  # fmt: skip
    return {"discover": d.save(out / "d"), "key-players": kp.save(out / "k")}


@pytest.mark.parametrize("name,charts", [("discover", 4), ("key-players", 2)])
def test_report_renders_offline(browser, reports, name, charts):
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                  route.continue_() if route.request.url.startswith("file:")
                  else route.abort()))  # fmt: skip
    page = context.new_page()
    page.goto(reports[name].resolve().as_uri())
    page.wait_for_selector("svg.am-chart", timeout=30_000)
    sizes = page.eval_on_selector_all(
        "svg.am-chart",
        "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height,"
        " e.querySelectorAll('path').length])",
    )
    assert len(sizes) == charts
    assert all(w > 200 and h > 100 and paths > 5 for w, h, paths in sizes), sizes
    assert page.locator("table").count() >= 2
    assert [u for u in requests if not u.startswith("file:")] == []
    Path("test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=f"test-artifacts/report-{name}.png", full_page=True)
    context.close()
