"""The bundled scenario library: every file validates, documents its changes and runs."""

from __future__ import annotations

import numpy as np
import pytest

from adoption_model.compare.assumptions import flatten
from adoption_model.runner import run
from adoption_model.scenario import Scenario, bundled_scenarios, load_scenario

LIBRARY = sorted(bundled_scenarios())
EXPECTED = {
    "baseline",
    "us_reserve_expansion",
    "imf_hard_line",
    "imf_accommodation",
    "price_crash",
    "price_boom",
    "energy_boom",
    "brics_coordination",
    "seized_asset_sales",
    "contagion_off",
    "watts_cascade",
    "bass_complete",
}


def test_library_has_every_scenario_of_the_issue() -> None:
    assert EXPECTED <= set(LIBRARY)


@pytest.mark.parametrize("name", LIBRARY)
def test_scenario_validates_and_runs_a_short_horizon(name: str) -> None:
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.description.strip(), f"{name}: no description"
    result = run(sc, seed=7, overrides={"steps": 6})
    frame = result.model_frame
    assert 1 <= len(frame) <= 7
    assert frame["step"].iloc[0] == 0
    assert ((frame["adoption_share"] >= 0) & (frame["adoption_share"] <= 1)).all()
    assert np.isfinite(frame["btc_sovereign"]).all()


@pytest.mark.parametrize("name", [n for n in LIBRARY if n != "baseline"])
def test_every_changed_parameter_has_a_stated_source(name: str) -> None:
    sc = load_scenario(name)
    base = Scenario().to_dict()
    mine = sc.to_dict()
    for key in ("name", "description", "assumptions", "events", "seed"):
        base.pop(key, None)
        mine.pop(key, None)
    flat_base, flat_mine = flatten(base), flatten(mine)
    changed = {k for k in flat_mine if flat_mine[k] != flat_base.get(k)}
    missing = sorted(k for k in changed if k not in sc.assumptions)
    assert not missing, f"{name}: no [assumptions] entry for {missing}"
    for i in range(len(sc.events)):
        assert f"events[{i}]" in sc.assumptions, f"{name}: events[{i}] has no assumption"
    assert all(text.strip() for text in sc.assumptions.values())


def test_contagion_off_has_zero_peer_and_world_terms() -> None:
    off = run("contagion_off", seed=3, overrides={"steps": 24}).nation_frame
    base = run("baseline", seed=3, overrides={"steps": 24}).nation_frame
    peer_cols = [c for c in off.columns if c.endswith("_peer")] + ["adopt_world"]
    assert {"adopt_peer", "mine_peer", "sell_peer", "adopt_world"} <= set(peer_cols)
    for col in peer_cols:
        assert (off[col] == 0.0).all(), col
    # the same terms are live in the baseline, so the check above can fail
    assert (base["adopt_peer"] != 0).any() and (base["adopt_world"] != 0).any()
    # the nations still see their neighbours; only the coefficients are zero
    assert (off["peer"] > 0).any()


def test_us_reserve_expansion_buys_a_sixtieth_of_a_million_each_month() -> None:
    steps = {"steps": 10}  # 2025-06 .. 2026-04: four months of the programme
    us = run("us_reserve_expansion", seed=5, overrides=steps).nation_frame
    base = run("baseline", seed=5, overrides=steps).nation_frame
    u = us[us["nation"] == "USA"].set_index("date")["holdings"]
    b = base[base["nation"] == "USA"].set_index("date")["holdings"]
    extra = (u - b).round(6)
    assert extra["2025-12"] == 0.0
    assert extra["2026-04"] == pytest.approx(4 * 1_000_000 / 60)


def test_seized_asset_sales_makes_mandated_holders_sell() -> None:
    nf = run("seized_asset_sales", seed=11).nation_frame
    start = nf[nf["step"] == 0].set_index("nation")["holdings"]
    sold = nf.groupby("nation", observed=True)["sold"].sum()
    # with the law term a sale is all but certain once a nation reviews (about ten reviews
    # a decade), and a mandated sale is of all holdings at once
    emptied = [n for n in ("GBR", "CHN", "FIN", "GEO") if sold[n] >= start[n]]
    assert len(emptied) >= 3, emptied
    assert sold["USA"] == 0.0  # pledged never to sell
    # over ten years the baseline's holders may sell too; the law makes them sell sooner
    held = ["GBR", "CHN", "FIN", "GEO"]
    early = nf[nf["step"] <= 24].groupby("nation", observed=True)["sold"].sum()
    base = run("baseline", seed=11).nation_frame
    base_early = base[base["step"] <= 24].groupby("nation", observed=True)["sold"].sum()
    assert base_early[held].sum() < early[held].sum()


def test_energy_boom_pakistan_mines_2000_mw_from_2026() -> None:
    nf = run("energy_boom", seed=2, overrides={"steps": 8}).nation_frame
    pak = nf[nf["nation"] == "PAK"].set_index("date")
    assert pak.loc["2025-12", "mining_mw"] == 0.0 or pak.loc["2025-12", "state"] != "mining"
    assert pak.loc["2026-01", "mining_mw"] == 2000.0
    assert pak.loc["2026-01", "mined"] > 0


def test_brics_members_adopt_together() -> None:
    nf = run("brics_coordination", seed=4, overrides={"steps": 20}).nation_frame
    at = nf[nf["date"] == "2027-01"].set_index("nation")
    members = ["ARE", "BRA", "CHN", "EGY", "ETH", "IDN", "IND", "IRN", "RUS", "ZAF"]
    assert set(at.loc[members, "state"].astype(str)) <= {"reserve", "both"}


@pytest.mark.slow
def test_watts_cascade_is_bimodal_from_one_seed() -> None:
    sizes = [run("watts_cascade", seed=s).summary["adoption_share_end"] for s in range(12)]
    # Watts (2002): one seed either dies out (tiny) or triggers a global cascade
    assert all(x < 0.05 or x > 0.5 for x in sizes), sizes
    assert any(x > 0.5 for x in sizes)


def test_bass_complete_follows_the_bass_recursion() -> None:
    sc = load_scenario("bass_complete")
    shares = np.mean(
        [run(sc, seed=s).model_frame["adoption_share"].to_numpy()[:13] for s in range(10)], axis=0
    )
    p, q = sc.rule.p, sc.rule.q
    expected = [0.0]
    for _ in range(12):
        f = expected[-1]
        expected.append(f + (1 - f) * (p + q * f))
    np.testing.assert_allclose(shares, expected, atol=0.03)
