"""The classroom view's components, rendered without a browser (``solara.render``).

Real models, real geometry files, real Solara rendering; the browser tests drive the same
app through Chromium (tests/test_view_browser.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara
from adoption_model.viz import STATE_COLOURS, assets
from adoption_model.viz import components as comp
from adoption_model.viz.charts import chart_data, event_marks
from adoption_model.viz.map import country_paths, fills_and_tips, shapes_and_dots
from adoption_model.viz.network_view import _LAYOUTS, graph_key, layout
from adoption_model.viz.why import breakdown_html, decision_story, neighbours
from solara.widgets.widgets import HTML as HTMLWidget

from adoption_model.model import AdoptionModel
from adoption_model.state import STATE_NAMES


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    """Each test starts from the default session settings (as a new browser tab would)."""
    monkeypatch.delenv(comp.ENV_SCENARIO, raising=False)
    comp.settings.set({**comp.default_settings(), "seed": 7})
    comp.selected.set(None)
    yield


@pytest.fixture(scope="module")
def stepped() -> AdoptionModel:
    m = AdoptionModel(seed=3)
    for _ in range(24):
        m.step()
    return m


def test_every_nation_appears_on_the_map_as_outline_or_dot():
    m = AdoptionModel(seed=1)
    shapes, dots = shapes_and_dots(m)
    outlined = {s["id"] for s in shapes}
    dotted = {d["id"] for d in dots}
    codes = {str(c) for c in m.ids}
    assert codes <= outlined | dotted
    assert not (outlined & dotted)
    assert len(codes & outlined) >= 160  # the 1:110m outlines cover the large nations
    assert {"SGP", "MLT", "MDV"} <= dotted  # micro-states become dots
    assert set(country_paths()) == outlined


def test_fills_follow_the_state_colours_and_tips_name_the_numbers(stepped):
    fills, tips, legend = fills_and_tips(stepped)
    codes = stepped.state.state_code()
    for i, c in enumerate(stepped.ids):
        assert fills[str(c)] == STATE_COLOURS[STATE_NAMES[int(codes[i])]]
    assert sum(item["count"] for item in legend) == stepped.n
    assert [item["name"] for item in legend] == list(STATE_NAMES)
    assert tips["PAK"].startswith("Pakistan (PAK)")
    assert "GDP $" in tips["PAK"] and "BTC held" in tips["PAK"]


def test_charts_carry_the_model_frame_and_mark_events():
    m = AdoptionModel(
        seed=2,
        overrides={
            "events": [
                {"date": "2026-01", "kind": "imf_stance", "stance": 1.0, "name": "IMF hardens"}
            ]
        },
    )
    syria = "data: sanctions_exposure (sanctions_curated, high)"  # the table's dated change
    marks = event_marks(m)
    assert marks == [
        {"x": 2, "label": syria, "fired": False},
        {"x": 7, "label": "IMF hardens", "fired": False},
    ]
    for _ in range(8):
        m.step()
    data = chart_data(m)
    assert data["marks"] == [
        {"x": 2, "label": syria, "fired": True},
        {"x": 7, "label": "IMF hardens", "fired": True},
    ]
    df = m.model_frame()
    assert data["series"][0]["y"] == [float(x) for x in df["n_adopters"]]
    assert data["series"][3]["y"][-1] == pytest.approx(df["btc_price"].iloc[-1] / 1e3, rel=1e-6)
    assert data["horizon"] == m.scenario.steps
    assert data["dates"][-1] == m.date


def test_why_panel_explains_the_last_decision_in_words(stepped):
    story, ex = decision_story(stepped, "PAK")
    assert "Pakistan" in story and stepped.date in story
    html = breakdown_html(ex)
    used = ex.drop(index=["utility", "probability"])
    nonzero = [t for t in used.index if (used.loc[t, ["adopt", "mine", "sell"]].abs() > 0).any()]
    assert nonzero
    for term in nonzero:
        assert f"data-term='{term}'" in html
    for action in ("hold", "adopt", "mine", "sell"):
        assert f"data-action='{action}'" in html
    nb = neighbours(stepped, stepped.index_of["PAK"])
    idx, w = stepped.network.in_neighbours(stepped.index_of["PAK"])
    assert nb[0]["code"] == str(stepped.ids[idx[np.argmax(w)]])
    assert all(n["state"] in STATE_NAMES for n in nb)


def test_network_layout_is_computed_once_per_graph():
    m = AdoptionModel(seed=5, overrides={"network.kind": "barabasi_albert", "network.n": 300})
    _LAYOUTS.pop(graph_key(m), None)
    first = layout(m)
    assert graph_key(m) in _LAYOUTS
    for _ in range(3):
        m.step()
    assert layout(m) is first  # stepping never recomputes the layout
    twin = AdoptionModel(seed=5, overrides={"network.kind": "barabasi_albert", "network.n": 300})
    assert layout(twin) is first  # same graph, same cached layout
    real = AdoptionModel(seed=5)
    xy = layout(real)
    i = real.index_of["NOR"], real.index_of["ZAF"]
    assert xy[i[0], 1] < xy[i[1], 1]  # north is up: the real network sits on the map


def _buttons(rc, label):
    return rc.find(v.Btn, children=[label])


def test_page_steps_resets_and_keeps_sessions_apart():
    from adoption_model.viz.app import Page
    from solara.components.applayout import AppLayout

    box, rc = solara.render(AppLayout(children=[Page()]), handle_error=False)
    step_text = rc.find(v.Html, children=["Step: 0"])
    step_text.assert_single()
    _buttons(rc, "Step").widget.click()
    rc.find(v.Html, children=["Step: 1"]).assert_single()
    _buttons(rc, "Step").widget.click()
    rc.find(v.Html, children=["Step: 2"]).assert_single()
    _buttons(rc, "Reset").widget.click()
    rc.find(v.Html, children=["Step: 0"]).assert_single()
    # a second session has a model of its own: stepping it leaves the first one alone
    box2, rc2 = solara.render(AppLayout(children=[Page()]), handle_error=False)
    _buttons(rc2, "Step").widget.click()
    _buttons(rc2, "Step").widget.click()
    _buttons(rc2, "Step").widget.click()
    rc2.find(v.Html, children=["Step: 3"]).assert_single()
    rc.find(v.Html, children=["Step: 0"]).assert_single()
    rc2.close()
    rc.close()


def test_seed_box_sets_the_seed_reset_uses_and_a_typo_is_reported():
    from adoption_model.viz.app import Page
    from solara.components.applayout import AppLayout

    assert comp.parse_seed(" 42 ") == 42 and comp.parse_seed("") is None
    with pytest.raises(comp.InputError, match="seed: 'x1' is not a whole number"):
        comp.parse_seed("x1")
    box, rc = solara.render(AppLayout(children=[Page()]), handle_error=False)
    seed_box = rc.find(v.TextField, label="Seed (applies on Reset)")
    assert seed_box.widget.v_model == "7"  # the session's first seed
    seed_box.widget.v_model = "42"
    seed_box.widget.fire_event("keyup.enter", None)  # what pressing Enter in the box sends
    _buttons(rc, "Reset").widget.click()
    rc.find(v.Html, children=["Running: logit rule, seed 42"]).assert_single()
    assert comp.ClassroomModel(seed="42").seed == 42
    assert comp.ClassroomModel(seed="").seed == 7  # empty: the session's default
    seed_box.widget.v_model = "forty"
    seed_box.widget.fire_event("focusout", None)
    _buttons(rc, "Reset").widget.click()  # a typo keeps the page working and says so
    note = rc.find(v.Alert, type="warning")
    note.assert_single()
    text = " ".join(note.widget.children)
    assert "'forty' is not a whole number" in text and text.endswith("used seed 7")
    rc.close()


def test_live_lever_changes_the_running_model_from_the_next_step():
    m = comp.ClassroomModel()
    base_a, base_c = m.live.rule.coef.a_peer, m.live.rule.coef.c_peer
    rv = solara.reactive(m)
    box, rc = solara.render(comp.Controls(rv), handle_error=False)
    slider = rc.find(v.Html, class_="am-lever-peer").find(v.Slider).widget
    slider.v_model = 2 * base_a
    assert m.live.rule.coef.a_peer == pytest.approx(2 * base_a)
    assert m.live.rule.coef.c_peer == pytest.approx(2 * base_c)
    assert m.scenario.rule.coef.a_peer == pytest.approx(base_a)  # the record is untouched
    assert (
        rc.find(v.Html, class_="am-lever-peer")
        .find(v.Slider)
        .widget.label.startswith(f"Peer influence: {2 * base_a:g}")
    )
    energy = rc.find(v.Html, class_="am-lever-energy").find(v.Slider).widget
    before = m.state.energy_cost_usd_mwh.copy()
    energy.v_model = 2.0
    np.testing.assert_allclose(m.state.energy_cost_usd_mwh, 2.0 * before)
    # levers survive Reset: the next model starts with them
    again = comp.ClassroomModel()
    assert again.live.rule.coef.a_peer == pytest.approx(2 * base_a)
    np.testing.assert_allclose(again.state.energy_cost_usd_mwh, 2.0 * before)
    rc.close()


def test_decision_rule_applies_on_reset_and_scenario_switches_now(tmp_path, monkeypatch):
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        'name = "tiny"\n[network]\nkind = "erdos_renyi"\nn = 60\nmean_degree = 4\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(comp.ENV_SCENARIO, str(toml))
    m = comp.ClassroomModel()
    rv = solara.reactive(m)
    box, rc = solara.render(comp.Controls(rv), handle_error=False)
    rc.find(v.Select, label="Decision rule (applies on Reset)").widget.v_model = "threshold"
    assert rv.value is m and m.live.rule.kind == "logit"  # not yet
    assert comp.ClassroomModel().live.rule.kind == "threshold"  # what Reset builds
    rc.find(v.Select, label="Scenario (switches now)").widget.v_model = str(toml)
    assert rv.value is not m
    assert rv.value.network.kind == "erdos_renyi" and rv.value.n == 60
    rc.close()


def test_why_panel_select_box_fills_the_breakdown(stepped):
    from adoption_model.viz.why import WhyPanel

    chosen = solara.reactive(None)
    box, rc = solara.render(WhyPanel(stepped, chosen.value, chosen.set), handle_error=False)
    rc.find(v.Select, label="Country").widget.v_model = "Pakistan (PAK)"
    assert chosen.value == "PAK"
    box, rc2 = solara.render(WhyPanel(stepped, "PAK", chosen.set), handle_error=False)
    html = " ".join(w.unsafe_innerHTML or "" for w in rc2.find(HTMLWidget).widgets)
    assert "am-breakdown" in html and "data-action='adopt'" in html
    assert "Who it listens to most" in html
    rc.close()
    rc2.close()


def test_assets_list_the_exact_versions_solara_asks_for():
    import solara.server

    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2").read_text()
    pkgs = assets.required_packages()
    for name in ("@widgetti/solara-vuetify-app", "requirejs", "@widgetti/vue-grid-layout"):
        assert name in pkgs
    assert f"@widgetti/solara-vuetify-app@{pkgs['@widgetti/solara-vuetify-app']}/" in template
    assert f"requirejs@{pkgs['requirejs']}/" in template
    files = assets.required_files()
    assert any(f.endswith(".css") for f in files) and any(f.endswith(".js") for f in files)


def test_view_command_rejects_a_bad_scenario_in_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "adoption_model", "view", "no-such-scenario"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("adoption-model: error:")
    assert "Traceback" not in proc.stderr


def test_panels_send_json_that_follows_each_step():
    import json

    from adoption_model.viz.charts import chart_json
    from adoption_model.viz.map import fills_and_tips_json, map_geometry

    m = AdoptionModel(seed=4)
    geo = json.loads(map_geometry(m))
    assert {s["id"] for s in geo["shapes"]} == set(country_paths())
    for _ in range(3):
        fills, tips, legend = fills_and_tips_json(m)
        assert (json.loads(fills), json.loads(tips), legend) == fills_and_tips(m)
        assert json.loads(chart_json(m)) == chart_data(m)
        assert len(chart_data(m)["dates"]) == m.steps + 1  # rebuilt after every step
        m.step()
    assert map_geometry(m) is map_geometry(m)  # built once per model
