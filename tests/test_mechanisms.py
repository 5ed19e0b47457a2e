"""Conservation, events, IMF audits, sale mandates, pledges and explanations on the real model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adoption_model.model import AdoptionModel
from adoption_model.runner import run
from adoption_model.scenario import LogitCoefficients


@pytest.fixture(scope="module")
def busy_run():
    """A baseline run with extra buying, selling and mining so every flow is exercised."""
    over = {
        "steps": 60,
        "rule.review_probability": 0.3,
        "rule.coef.s0": -1.0,
        "price.kappa": 20.0,
        "events": [
            {"date": "2025-08", "kind": "buy", "nation": "USA", "btc": 200000, "months": 24},
            {"date": "2025-09", "kind": "mandate", "nations": ["GBR", "FIN"]},
            {"date": "2025-10", "kind": "mine", "nation": "PAK", "mw": 2000},
        ],
    }
    return run(overrides=over, seed=21)


def test_btc_flows_add_up(busy_run) -> None:
    nf = busy_run.nation_frame.sort_values(["nation", "step"])
    for _, g in nf.groupby("nation"):
        h = g["holdings"].to_numpy()
        flows = (g["bought"] + g["mined"] - g["sold"]).to_numpy()
        np.testing.assert_allclose(h[1:], h[:-1] + flows[1:], rtol=1e-9, atol=1e-6)
    mf = busy_run.model_frame
    change = mf["btc_sovereign"].diff().iloc[1:]
    net = (mf["btc_bought"] + mf["btc_mined"] - mf["btc_sold"]).iloc[1:]
    np.testing.assert_allclose(change, net, rtol=1e-9, atol=1e-5)
    assert mf["btc_bought"].sum() > 0 and mf["btc_mined"].sum() > 0 and mf["btc_sold"].sum() > 0


def test_holdings_and_reserves_never_negative_and_within_supply(busy_run) -> None:
    nf, mf = busy_run.nation_frame, busy_run.model_frame
    assert (nf["holdings"] >= 0).all()
    assert (nf["reserves_usd"] >= 0).all()
    assert (mf["btc_sovereign"] <= mf["supply_btc"]).all()
    assert mf["supply_btc"].is_monotonic_increasing


def test_starting_state_matches_the_data() -> None:
    frame = run(overrides={"steps": 0}, seed=1).model_frame
    assert frame["btc_sovereign"].iloc[0] == 529_705
    assert frame["supply_share"].iloc[0] == pytest.approx(529_705 / 19_880_000)
    m = AdoptionModel(seed=1, overrides={"steps": 0})
    states = {n.code: n.state for n in m.nations if n.state != "none"}
    assert states == {"BTN": "mining", "PAK": "reserve", "SLV": "reserve", "USA": "reserve"}


def test_halvings_and_supply() -> None:
    mf = run(overrides={"steps": 90}, seed=1).model_frame
    sub = dict(zip(mf["date"], mf["subsidy_btc"], strict=True))
    assert sub["2028-03"] == 3.125 and sub["2028-04"] == 1.5625 and sub["2032-04"] == 0.78125
    added = mf["supply_btc"].diff().iloc[1:].to_numpy()
    np.testing.assert_allclose(added, 4383.0 * mf["subsidy_btc"].iloc[1:].to_numpy())


def test_events_fire_in_their_month() -> None:
    events = [
        {"date": "2026-03", "kind": "price_shock", "change": -0.6, "name": "crash"},
        {"date": "2026-01", "kind": "adopt", "nation": "DEU"},
        {"date": "2026-06", "kind": "imf_stance", "stance": 0.9},
    ]
    quiet = {"steps": 14, "rule.review_probability": 0.0, "price.kappa": 0.0}
    a = AdoptionModel(seed=4, overrides=quiet)
    b = AdoptionModel(seed=4, overrides={**quiet, "events": events})
    a.run_model()
    b.run_model()
    fa, fb = a.model_frame().set_index("date"), b.model_frame().set_index("date")
    assert fb.loc["2026-02", "btc_price"] == fa.loc["2026-02", "btc_price"]
    assert fb.loc["2026-03", "btc_price"] / fa.loc["2026-03", "btc_price"] == pytest.approx(0.4)
    assert fb.loc["2026-05", "imf_stance"] == 0.5 and fb.loc["2026-06", "imf_stance"] == 0.9
    nf = b.nation_frame()
    deu = nf[nf["nation"] == "DEU"].set_index("date")["state"]
    assert deu["2025-12"] == "none" and deu["2026-01"] == "reserve"
    own = [e["date"] for e in b.fired_events if not e["name"].startswith("data:")]
    assert own == ["2026-01", "2026-03", "2026-06"]
    # the nation table's dated changes fire too (Syria's US sanctions end, 2025-07)
    assert [e["nations"] for e in b.fired_events if e["name"].startswith("data:")] == [["SYR"]]


def test_imf_review_withholds_the_scheduled_tranche() -> None:
    """A programme country buying under a hard-line IMF fails its next review: that
    review's tranche (undisbursed / reviews left) is withheld from its FX reserves."""
    over = {
        "steps": 12,
        "rule.review_probability": 0.0,
        "imf.stance": 1.0,
        "imf.detection_probability": 1.0,
        "imf.new_programme_rate": 0.0,
        "events": [{"date": "2025-07", "kind": "buy", "nation": "PAK", "btc": 1200, "months": 12}],
    }
    m = AdoptionModel(seed=1, overrides=over)
    st, i = m.state, m.resolve_nation("PAK")
    review, end, left0 = st.imf_next_review[i], st.imf_end[i], st.imf_undisbursed_usd[i]
    tranche = left0 / ((end - review) // 6 + 1)
    m.run_model()
    pak = m.nation_frame().query("nation == 'PAK'").set_index("step")
    mf = m.model_frame().set_index("step")
    assert (pak.loc[1:, "bought"] > 0).all()  # compliance is a choice: nothing freezes it
    assert mf.loc[review, "imf_detections"] >= 1
    paid = pak.loc[review, "bought"] * mf.loc[review, "btc_price"]
    assert pak.loc[review, "reserves_usd"] == pytest.approx(
        pak.loc[review - 1, "reserves_usd"] - paid - tranche
    )
    # the next review (six months on, still accumulating) fails too: an equal tranche,
    # and after two failures in a row the programme goes off track
    assert review + 6 <= 12
    assert st.imf_lost_usd[i] == pytest.approx(2 * tranche)
    assert st.imf_suspended[i] and not st.programme[i]
    assert st.imf_lost_usd[i] <= st.imf_scheduled_usd[i]
    # with a neutral IMF nobody is ever caught
    calm = run(overrides={**over, "imf.stance": 0.0}, seed=1).model_frame
    assert calm["imf_detections"].sum() == 0 and calm["imf_withheld_usd"].sum() == 0


def test_seized_asset_mandate_sells_seized_coins_at_once() -> None:
    over = {
        "steps": 6,
        "rule.review_probability": 1.0,
        "events": [{"date": "2025-07", "kind": "mandate", "nation": "GBR"}],
    }
    m = AdoptionModel(seed=3, overrides=over)
    m.run_model()
    gbr = m.nation_frame().query("nation == 'GBR'").set_index("step")
    sale_step = gbr.index[gbr["sold"] > 0][0]
    assert gbr.loc[sale_step, "sold"] == 61_000
    assert gbr.loc[sale_step, "holdings"] == 0
    assert gbr.loc[sale_step, "state"] == "sold out"


def test_no_sell_pledge_is_respected() -> None:
    over = {"steps": 24, "rule.review_probability": 1.0, "rule.coef.s0": 20.0}
    m = AdoptionModel(seed=3, overrides=over)
    m.run_model()
    nf = m.nation_frame()
    for code in ("USA", "PAK"):
        rows = nf[nf["nation"] == code]
        assert (rows["sold"] == 0).all() and (rows["p_sell"] == 0).all()
    assert nf.loc[nf["nation"] == "CHN", "sold"].sum() > 0  # no pledge: it sells


def test_discretionary_sale_in_equal_tranches() -> None:
    over = {
        "steps": 10,
        "rule.review_probability": 0.0,
        "selling.months": 4,
        "events": [
            {"date": "2025-07", "kind": "set", "key": "rule.review_probability", "value": 0.0}
        ],
    }
    m = AdoptionModel(seed=1, overrides=over)
    m.state.start_sale(np.array([m.resolve_nation("CHN")]), m.steps, m.live.selling.months)
    m.run_model()
    chn = m.nation_frame().query("nation == 'CHN'")
    sold = chn.loc[chn["sold"] > 0, "sold"].to_numpy()
    np.testing.assert_allclose(sold, [194_000 / 4] * 4)


def test_mining_earns_by_hashrate_share_and_stops_when_unprofitable() -> None:
    over = {
        "steps": 3,
        "rule.review_probability": 0.0,
        "events": [{"date": "2025-07", "kind": "mine", "nation": "PAK", "mw": 2000}],
    }
    m = AdoptionModel(seed=1, overrides=over)
    m.step()
    w = m.world
    h = 2000 * 1e6 / w.efficiency_j_per_th
    h_btn = 100 * 1e6 / w.efficiency_j_per_th
    expected = 4383.0 * (w.subsidy + 0.03) * h / (w.network_hashrate_th + h + h_btn)
    assert m.nations[m.resolve_nation("PAK")].mined == pytest.approx(expected, rel=1e-12)
    # energy that costs more than mining earns: the miner stops after stop_after_months
    costly = {**over, "steps": 12, "mining.stop_after_months": 3}
    m2 = AdoptionModel(seed=1, overrides=costly)
    m2.state.energy_cost_usd_mwh[m2.resolve_nation("PAK")] = 10_000.0
    m2.run_model()
    pak = m2.nation_frame().query("nation == 'PAK'").set_index("step")["state"]
    assert pak[1] == "both" and pak[2] == "both" and pak[3] == "reserve"  # third loss: stop


def test_explain_breaks_down_the_decision() -> None:
    m = AdoptionModel(seed=8, overrides={"steps": 5})
    m.run_model()
    table = m.explain("pak")
    terms = table.drop(index=["utility", "probability"])
    for opt in ("adopt", "mine", "sell"):
        assert terms[opt].sum() == pytest.approx(table.loc["utility", opt])
    probs = table.loc["probability", ["hold", "adopt", "mine", "sell"]]
    assert probs.sum() == pytest.approx(1.0)
    assert table.attrs["nation"] == "PAK" and table.attrs["date"] == "2025-11"
    a_peer = LogitCoefficients().a_peer
    assert table.loc["peer", "adopt"] == pytest.approx(a_peer * table.attrs["peer"])
    nf = m.nation_frame()
    row = nf[(nf["nation"] == "PAK") & (nf["step"] == 5)].iloc[0]
    assert row["u_adopt"] == pytest.approx(table.loc["utility", "adopt"])
    assert row["adopt_imf"] == pytest.approx(table.loc["imf", "adopt"])


def test_live_parameter_change_takes_effect_next_step() -> None:
    a = AdoptionModel(seed=2, overrides={"steps": 4})
    a.step()
    a.set_parameter("rule.coef.a_peer", 0.0)
    a.step()
    assert (a.last_terms[:, 0, 3] == 0).all()
    assert a.scenario.rule.coef.a_peer == LogitCoefficients().a_peer  # recorded: unchanged


def test_save_writes_complete_results(tmp_path, busy_run) -> None:
    out = busy_run.save(tmp_path / "run")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "first_adoptions.csv",
        "model.parquet",
        "nations.parquet",
        "provenance.json",
        "scenario.toml",
        "summary.json",
    ]
    assert pd.read_parquet(out / "model.parquet").equals(busy_run.model_frame)
    again = run(out / "scenario.toml")
    assert again.model_frame.equals(busy_run.model_frame)  # reproducible from the record


def test_sell_event_sells_the_fraction_once() -> None:
    over = {
        "steps": 4,
        "rule.review_probability": 0.0,
        "events": [{"date": "2025-08", "kind": "sell", "nation": "GBR", "fraction": 0.25}],
    }
    m = AdoptionModel(seed=1, overrides=over)
    m.run_model()
    gbr = m.nation_frame().query("nation == 'GBR'").set_index("step")
    assert gbr.loc[2, "sold"] == 61_000 * 0.25
    assert gbr["sold"].sum() == 61_000 * 0.25  # once, not every month
    assert gbr.loc[4, "holdings"] == 61_000 * 0.75
    price = m.model_frame().set_index("step").loc[2, "btc_price"]
    assert gbr.loc[2, "reserves_usd"] == pytest.approx(gbr.loc[1, "reserves_usd"] + 15_250 * price)
