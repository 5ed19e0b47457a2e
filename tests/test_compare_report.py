"""The comparison report renders offline in headless Chromium with its charts and maps."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from adoption_model.viz.serve import CHROMIUM, CHROMIUM_ARGS

from adoption_model.compare import compare

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    compare(["baseline", "price_crash", "bass_complete"], replications=3, seed=5, steps=24).save(
        out
    )
    return out / "report.html"


def test_report_html_is_self_contained(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    # no external references of any kind: every src is an inline data URI
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?!data:|#)", text)
    assert "http://" not in text and "https://" not in text and "@import" not in text
    assert text.count("data:image/png;base64,") >= 2 + 2 + 2  # fans, two maps, more
    for heading in (
        "Outcomes",
        "Differences against baseline",
        "Assumptions side by side",
        "Convergence",
        "Nations most likely to adopt",
    ):
        assert heading in text
    assert "scenario digests:" in text and "replicate seeds" in text


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_offline_in_chromium(report: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    url = report.resolve().as_uri()
    attempted: list[str] = []

    def route(r) -> None:  # abort everything but the report itself
        if r.request.url == url:
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "compare_report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", route)
            page.goto(url, wait_until="load")
            images = page.eval_on_selector_all(
                "img",
                "els => els.map(e => [e.alt, e.complete, e.naturalWidth, e.naturalHeight,"
                " e.getBoundingClientRect().width])",
            )
            tables = page.locator("table").count()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert attempted == [], f"the report tried to load {attempted}"
    alts = [i[0] for i in images]
    assert any(a.startswith("map of adoption, baseline") for a in alts)
    assert any(a.startswith("map of adoption, price_crash") for a in alts)
    assert not any("bass_complete" in a and a.startswith("map") for a in alts)  # synthetic
    assert any(a.startswith("fan chart") for a in alts)
    for alt, complete, w, h, shown in images:
        assert complete and w > 100 and h > 100 and shown > 100, alt
    assert tables >= 5
    # the screenshot is not blank: many distinct colours from charts and maps
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size[1] > 2000
        colours = im.convert("RGB").resize((300, 600)).getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200
