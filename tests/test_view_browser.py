"""The classroom view in a real headless Chromium, against the real server (production mode).

The server runs on a free loopback port with telemetry off, Solara's front-end files from
the local cache and its CDN pointed at a dead loopback address, so nothing can be fetched
from outside; the browser aborts (and records) every request to a non-loopback host.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and a filled assets cache
(``python -m adoption_model.viz.assets fetch``; this module fills it with npm when it
can). Without them the tests skip with the reason, except under ``CI=true`` where that is a failure.
Screenshots of the main states land in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from adoption_model.viz import assets
from adoption_model.viz.serve import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def assets_dir() -> Path:
    """A filled Solara assets cache (filled with ``npm pack`` when missing)."""
    root = assets.default_cache_dir()
    if assets.missing(root):
        try:
            assets.fetch(root, quiet=True)
        except Exception as exc:  # noqa: BLE001 - any failure means: cannot serve offline
            _unavailable(f"Solara assets cache {root} incomplete and cannot be filled ({exc})")
    return root


@pytest.fixture(scope="module")
def server(assets_dir):
    proc, url = start_server(assets_dir)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Outside:
    """Every request the page tried to send to a non-loopback host (all aborted)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, route) -> None:
        host = urlparse(route.request.url).hostname or ""
        if host in LOOPBACK:
            route.continue_()
        else:
            self.urls.append(route.request.url)
            route.abort()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    outside = Outside()
    context.route("**/*", outside)
    pg = context.new_page()
    pg.goto(server)
    pg.wait_for_selector(".am-world-map path.am-nation", timeout=90_000)
    pg.wait_for_selector(".am-chart polyline", state="attached", timeout=30_000)
    pg.outside = outside
    yield pg
    assert outside.urls == [], f"requests left loopback: {outside.urls}"
    context.close()


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"view-{name}.png"), full_page=True)


def step_count(pg) -> int:
    text = pg.locator("text=/^Step: \\d+$/").first.inner_text()
    return int(re.search(r"\d+", text).group())


def wait_step(pg, n: int, timeout: float = 20.0) -> None:
    pg.locator(f"text=/^Step: {n}$/").first.wait_for(timeout=timeout * 1000)


def map_fills(pg) -> list[str]:
    return pg.eval_on_selector_all(
        ".am-world-map .am-nation", "els => els.map(e => e.getAttribute('fill'))"
    )


def chart_points(pg) -> list[str]:
    return pg.eval_on_selector_all(
        ".am-chart polyline", "els => els.map(e => e.getAttribute('points'))"
    )


def test_page_loads_with_map_legend_and_charts(page):
    nations = page.locator(".am-world-map .am-nation")
    assert nations.count() >= 197  # outlines of the model's nations plus dots for the small
    assert page.locator(".am-world-map [data-iso='PAK']").count() == 1
    assert page.locator(".am-world-map [data-iso='SGP']").count() == 1  # a dot
    legend = page.locator(".am-world-map .am-legend").inner_text()
    for state in ("none", "reserve", "mining", "both", "sold out"):
        assert state in legend
    assert page.locator(".am-chart").count() == 4
    assert step_count(page) == 0
    page.locator(".am-world-map [data-iso='USA']").hover()
    assert "United States (USA)" in page.locator(".am-world-map .am-tip").inner_text()
    shot(page, "loaded")


def test_step_advances_counter_map_and_charts(page):
    before_points = chart_points(page)
    before_fills = map_fills(page)
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    page.wait_for_function(
        "n => document.querySelector('.am-chart polyline').getAttribute('points')"
        ".split(' ').length > n",
        arg=len(before_points[0].split(" ")),
    )
    assert chart_points(page) != before_points
    for k in range(2, 40):  # the map changes once some nation changes policy
        if map_fills(page) != before_fills:
            break
        page.get_by_role("button", name="Step", exact=True).click()
        wait_step(page, k)
    assert map_fills(page) != before_fills
    shot(page, "stepped")


def test_play_then_pause_then_reset(page):
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_function(
        "() => /Step: ([3-9]|\\d\\d+)/.test(document.body.innerText)", timeout=30_000
    )
    page.get_by_role("button", name="❚❚", exact=True).click()
    time.sleep(0.8)
    paused = step_count(page)
    time.sleep(1.2)
    assert step_count(page) == paused >= 3
    shot(page, "paused")
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_step(page, 0)


def test_clicking_a_country_explains_its_decision(page):
    for k in range(1, 4):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_step(page, k)
    page.locator(".am-world-map [data-iso='PAK']").click()
    why = page.locator(".am-why")
    why.locator(".am-breakdown").wait_for(timeout=20_000)
    text = why.inner_text()
    assert "Pakistan" in text and "Chances if it reviews its policy" in text
    assert why.locator(".am-prob").count() == 4
    assert why.locator(".am-term").count() >= 2  # some terms and the total
    assert why.locator(".am-neighbour").count() >= 1
    assert page.locator(".am-world-map [data-iso='PAK']").get_attribute("stroke") == "#111"
    shot(page, "why-pakistan")


def test_peer_slider_shows_its_value_and_applies_next_step(page):
    thumb = page.locator(".am-lever-peer [role='slider']")
    thumb.focus()
    thumb.press("End")
    page.locator(".am-lever-peer", has_text="Peer influence: 6").wait_for(timeout=10_000)
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    # the lever survives the step (it is the running model's live value) and Reset keeps it
    assert "Peer influence: 6" in page.locator(".am-lever-peer").inner_text()
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_step(page, 0)
    assert "Peer influence: 6" in page.locator(".am-lever-peer").inner_text()
    shot(page, "lever")


def test_scenario_picker_switches_scenario(page):
    page.locator(".am-scenario").click()
    page.locator(".v-menu__content .v-list-item", has_text="bass_complete").click()
    page.locator(".am-main-view .am-network").wait_for(timeout=60_000)
    assert "complete graph, 1000 nodes" in page.locator(".am-main-view").inner_text()
    assert page.locator(".am-main-view .am-nation").count() == 1000
    shot(page, "scenario-bass-complete")


def test_controls_are_above_the_fold_on_a_laptop_screen(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    outside = Outside()
    context.route("**/*", outside)
    pg = context.new_page()
    pg.goto(server)
    pg.wait_for_selector(".am-world-map path.am-nation", timeout=90_000)
    for name in ("Reset", "▶", "Step"):
        box = pg.get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, name
    step_y = pg.get_by_role("button", name="Step", exact=True).bounding_box()["y"]
    levers_y = pg.get_by_text("Scenario and levers", exact=True).bounding_box()["y"]
    assert step_y < levers_y  # Mesa's controls first, the levers card below them
    assert not pg.get_by_text("Page 0").is_visible()  # Mesa's lone tab is hidden
    assert pg.get_by_label("Seed (applies on Reset)").input_value() == "11"
    pg.get_by_label("Seed (applies on Reset)").fill("42")
    pg.get_by_label("Seed (applies on Reset)").press("Enter")
    pg.get_by_role("button", name="Reset", exact=True).click()
    pg.locator(".am-running-rule", has_text="seed 42").wait_for(timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "view-laptop-1280x800.png"))
    assert outside.urls == [], f"requests left loopback: {outside.urls}"
    context.close()
