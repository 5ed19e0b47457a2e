"""Reserve allocation and the IMF (issue 10 parts 2, 3): regression tests for each defect.

The purchase budget tracks a target share (not frozen at adoption); sales can be partial
(a share of mined coins, a partial ``sell`` event); a seized-asset law sells seized coins
only; IMF losses never exceed what a nation's programmes had to disburse; non-financing
instruments are not programmes; programmes end and new ones start.
"""

from __future__ import annotations

import numpy as np
import pytest

from adoption_model.model import AdoptionModel
from adoption_model.nations import load_nations
from adoption_model.submodels import reserve


def _quiet(**extra: object) -> dict[str, object]:
    """No decisions (nobody reviews), so only the mechanism under test moves."""
    return {"rule.review_probability": 0.0, "price.kappa": 0.0, **extra}


def test_purchases_track_the_target_share_each_month() -> None:
    """DEU adopts by event: it buys 1/24 of its target a month until it reaches the target
    share of its reserves (a constant price path); when the price halves for a month the
    share falls below the target and it buys again."""
    over = _quiet(
        steps=40,
        **{"price.process": "path", "price.path": [105_000.0] * 40},
        events=[
            {"date": "2025-07", "kind": "adopt", "nation": "DEU"},
            {"date": "2028-06", "kind": "price_shock", "change": -0.5},
        ],
    )
    m = AdoptionModel(seed=2, overrides=over)
    m.run_model()
    deu = m.nation_frame().query("nation == 'DEU'").set_index("step")
    price = m.model_frame().set_index("step")["btc_price"]
    value = deu["holdings"] * price
    share = value / (deu["reserves_usd"] + value)
    target = m.live.adoption.target_share  # DEU has no sanctions exposure
    crash = int(np.flatnonzero(m.model_frame()["date"] == "2028-06")[0])
    # at a constant price it reaches the target and never overshoots it
    assert share.loc[: crash - 1].max() == pytest.approx(target, rel=1e-9)
    first = deu.index[deu["bought"] > 0][0]
    assert first == 1
    usd = deu["bought"] * price
    goal = target * (deu["reserves_usd"] + value)
    assert usd.loc[1] == pytest.approx(goal.loc[1] / 24, rel=1e-9)  # the pace: 1/24
    assert deu.loc[crash - 1, "bought"] < deu.loc[crash, "bought"]  # buys the dip
    reached = share.index[share >= target * (1 - 1e-9)][0]
    assert 20 <= reached <= 26  # about purchase_months to build it
    assert (deu.loc[reached + 1 : crash - 1, "bought"] < 1e-9).all()  # at the target: holds


def test_target_share_rises_with_sanctions_exposure() -> None:
    m = AdoptionModel(seed=1, overrides={"steps": 0})
    ad = m.live.adoption
    w = reserve.target_share(np.array([0.0, 0.5, 1.0]), ad)
    np.testing.assert_allclose(w, [ad.target_share, 0.04, ad.target_share_sanctioned])


def test_a_miner_without_a_reserve_sells_part_of_its_mined_coins() -> None:
    """Bhutan mines and sells part: half of each month's coins, the holdings still grow."""
    m = AdoptionModel(seed=4, overrides=_quiet(steps=12))
    m.run_model()
    btn = m.nation_frame().query("nation == 'BTN'").set_index("step").loc[1:]
    assert (btn["mined"] > 0).all()
    np.testing.assert_allclose(btn["sold"], 0.5 * btn["mined"])
    assert btn["state"].eq("mining").all() and btn["holdings"].is_monotonic_increasing


def test_a_partial_sell_event_keeps_the_policy_and_the_origins_in_proportion() -> None:
    over = _quiet(
        steps=3, events=[{"date": "2025-07", "kind": "sell", "nation": "BTN", "fraction": 0.3}]
    )
    m = AdoptionModel(seed=1, overrides=over)
    i = m.resolve_nation("BTN")
    h0 = m.state.holdings[i]
    m.step()
    st = m.state
    assert st.sold[i] == pytest.approx(0.3 * h0 + 0.5 * st.mined[i])
    assert st.mining[i] and not st.sold_out[i]
    assert st.seized_btc[i] + st.mined_btc[i] + st.bought_btc[i] == pytest.approx(st.holdings[i])


def test_seized_asset_law_sells_seized_coins_only() -> None:
    """China adopts a reserve and buys toward 3% of its reserves, then a sale law applies:
    its 194,000 seized coins are sold at once, the coins it bought are kept and it stays a
    reserve holder."""
    over = {
        "steps": 8,
        "rule.review_probability": 0.0,
        "events": [
            {"date": "2025-07", "kind": "adopt", "nation": "CHN"},
            {"date": "2025-09", "kind": "mandate", "nation": "CHN"},
            {"date": "2025-09", "kind": "set", "key": "rule.review_probability", "value": 1.0},
            {"date": "2025-09", "kind": "set", "key": "rule.coef.s_law", "value": 50.0},
            # no discretionary sales (the estimated s0 is high): only the law can sell
            {"date": "2025-09", "kind": "set", "key": "rule.coef.s0", "value": -20.0},
        ],
    }
    m = AdoptionModel(seed=3, overrides=over)
    m.run_model()
    chn = m.nation_frame().query("nation == 'CHN'").set_index("step")
    sale = chn.index[chn["sold"] > 0][0]
    assert chn.loc[sale, "sold"] == pytest.approx(194_000)
    bought = chn.loc[:sale, "bought"].sum()
    assert bought > 0 and chn.loc[sale, "holdings"] == pytest.approx(bought)
    assert chn.loc[sale, "state"] == "reserve"
    i = m.resolve_nation("CHN")
    assert m.state.seized_btc[i] == 0
    # the law term is off once no seized coin is left: no second sale
    assert chn.loc[sale + 1 :, "sold"].sum() == 0


def test_non_financing_instrument_is_not_a_programme() -> None:
    t = load_nations().set_index("iso3")
    assert t.loc["PRY", "imf_facility"] == "PCI"
    assert not t.loc["PRY", "imf_financing"] and not t.loc["PRY", "imf_programme_active"]
    assert t.loc["PRY", "imf_undisbursed_usd"] == 0
    m = AdoptionModel(seed=1, overrides={"steps": 0})
    assert not m.state.programme[m.resolve_nation("PRY")]


@pytest.mark.slow
def test_imf_losses_never_exceed_what_programmes_had_to_disburse() -> None:
    """Over 20 baseline seeds (and a hard line, where losses are largest) no nation loses
    more than its programmes still had to disburse; programmes end and new ones start."""
    worst = 0.0
    starts = ends = 0
    for scenario in ("baseline", "imf_hard_line"):
        for seed in range(20 if scenario == "baseline" else 5):
            m = AdoptionModel(scenario, seed=seed, overrides={"output.nation_frame": False})
            m.run_model()
            st = m.state
            assert (st.imf_lost_usd <= st.imf_scheduled_usd * (1 + 1e-12)).all()
            assert (st.imf_undisbursed_usd >= -1e-6).all()
            ok = st.imf_scheduled_usd > 0
            if ok.any():
                worst = max(worst, float((st.imf_lost_usd[ok] / st.imf_scheduled_usd[ok]).max()))
            mf = m.model_frame()
            starts += int(mf["imf_programme_starts"].sum())
            ends += int(mf["imf_programme_ends"].sum())
    assert 0.0 < worst <= 1.0 + 1e-12  # a whole programme lost at most (float rounding)
    assert starts > 0 and ends > 0
