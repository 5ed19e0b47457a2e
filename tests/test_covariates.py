"""Covariates with meaning (issue 10 part 1), each checked on the real model and data.

FX stress by reserve-adequacy class, debt stress by class on net debt, sanctions exposure,
crypto bans and the state's capacity to mine (docs/ODD.md 7.2; data README).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adoption_model.model import AdoptionModel
from adoption_model.nations import load_dated_changes, load_nations, nation_provenance
from adoption_model.submodels.decision import ADOPT, MINE, TERMS

FX, DEBT, SANCTIONS = TERMS.index("fx"), TERMS.index("debt"), TERMS.index("sanctions")
EURO = ["AUT", "BEL", "DEU", "ESP", "FIN", "FRA", "GRC", "IRL", "ITA", "NLD", "PRT", "SVK"]


def decided(overrides: dict | None = None, nations: pd.DataFrame | None = None, steps: int = 1):
    """A real model after ``steps`` decisions (everyone reviews), with the hand-set
    coefficients: the tests check how each input enters the utility, so they need the
    documented signs (the estimated a_fx and a_sanctions are negative, docs/calibration.md)."""
    over = {"steps": steps, "rule.review_probability": 1.0, **(overrides or {})}
    m = AdoptionModel("handset_coefficients", seed=3, overrides=over, nations=nations)
    m.run_model()
    return m


def term(m: AdoptionModel, iso3: str, option: int, k: int) -> float:
    return float(m.last_terms[m.index_of[iso3], option - 1, k])


def test_euro_members_and_reserve_issuers_are_not_fx_stressed() -> None:
    nations = load_nations().set_index("iso3")
    # their own import cover is below 3 months (the old rule stressed them) ...
    low = [
        k
        for k in EURO + ["USA", "GBR", "CAN", "AUS"]
        if nations.at[k, "reserves_months_imports"] < 3
    ]
    assert len(low) >= 10
    m = decided()
    for k in low:  # ... but the import-cover test is not theirs (IMF ARA framework)
        assert term(m, k, ADOPT, FX) == 0.0, k


def test_credit_constrained_importer_with_one_month_of_cover_is_fx_stressed() -> None:
    table = load_nations()
    row = table.iso3 == "MWI"
    assert table.loc[row, "ara_class"].item() == "low_income_or_credit_constrained"
    table.loc[row, "reserves_usd"] = table.loc[row, "imports_usd_month"] * 1.0
    m = decided(nations=table)
    coef = m.live.rule.coef.a_fx
    assert term(m, "MWI", ADOPT, FX) == pytest.approx(coef * 2.0 / 3.0)
    # the same cover does not stress an advanced economy
    table.loc[table.iso3 == "SWE", "reserves_usd"] = table.loc[
        table.iso3 == "SWE", "imports_usd_month"
    ]
    assert term(decided(nations=table), "SWE", ADOPT, FX) == 0.0


def test_union_members_are_judged_on_the_pooled_reserves() -> None:
    table = load_nations()
    waemu = table.currency_union == "WAEMU"
    m = decided(nations=table)
    pooled = table.loc[waemu, "reserves_usd"].sum() / table.loc[waemu, "imports_usd_month"].sum()
    want = m.live.rule.coef.a_fx * float(np.clip((3 - pooled) / 3, 0, 1))
    for k in table.loc[waemu, "iso3"]:
        assert term(m, k, ADOPT, FX) == pytest.approx(want)
    # the other members' reserves falling to nothing stress Cote d'Ivoire although its own
    # share of the pool is unchanged (one pool, judged at the BCEAO)
    others = waemu & (table.iso3 != "CIV")
    table.loc[others, "reserves_usd"] = 0.0
    m2 = decided(nations=table)
    assert term(m2, "CIV", ADOPT, FX) > term(m, "CIV", ADOPT, FX)


def test_japan_and_singapore_are_not_at_maximum_debt_stress() -> None:
    nations = load_nations().set_index("iso3")
    assert nations.at["JPN", "debt_pct_gdp"] > 200 and nations.at["SGP", "debt_pct_gdp"] > 150
    m = decided()
    a_debt = m.live.rule.coef.a_debt
    for k in ("JPN", "SGP", "USA", "GBR"):
        assert term(m, k, ADOPT, DEBT) < a_debt, k
    assert term(m, "JPN", ADOPT, DEBT) == 0.0
    # a market-access emerging market with high net debt is stressed
    assert term(m, "EGY", ADOPT, DEBT) > 0.0


ALWAYS = {"rule.coef.a0": 8.0, "rule.coef.c0": 8.0}  # everyone would adopt and mine at once


def test_absolute_ban_nations_never_adopt_or_mine_while_banned_and_can_after_a_lift() -> None:
    nations = load_nations()
    banned = nations.loc[nations.crypto_absolute_ban, "iso3"].tolist()
    assert {"CHN", "BGD", "DZA", "EGY", "IRQ", "MAR", "NPL", "QAT", "TUN"} <= set(banned)
    m = decided(ALWAYS, steps=6)
    idx = [m.index_of[k] for k in banned]
    assert not m.state.reserve[idx].any() and not m.state.mining[idx].any()
    assert np.all(m.last_probs[idx, ADOPT] == 0.0) and np.all(m.last_probs[idx, MINE] == 0.0)
    lift = {
        "events": [
            {"date": "2025-09", "kind": "ban", "nation": "CHN", "ban": "absolute", "value": False}
        ]
    }
    lifted = decided({**ALWAYS, **lift}, steps=6)
    nf = lifted.nation_frame()
    chn = nf[nf.nation == "CHN"].set_index("date")["state"]
    assert chn["2025-08"] == "none" and chn["2025-09"] == "reserve"  # adopts, does not mine
    assert not lifted.state.mining[lifted.index_of["CHN"]]  # China's mining ban stays


def test_mining_ban_removes_mine_only() -> None:
    nations = load_nations().set_index("iso3")
    assert nations.at["VEN", "crypto_mining_ban"] and not nations.at["VEN", "crypto_absolute_ban"]
    assert nations.at["VEN", "energy_surplus_mw"] > 0  # VEN could mine but for the ban
    m = decided()
    i = m.index_of["VEN"]
    assert m.last_probs[i, MINE] == 0.0 and m.last_probs[i, ADOPT] > 0.0
    lift = [{"date": "2025-07", "kind": "ban", "nation": "VEN", "ban": "mining", "value": False}]
    assert decided({"events": lift}).last_probs[i, MINE] > 0.0


def test_sanctions_exposure_raises_the_adopt_utility_of_a_sanctioned_nation() -> None:
    m = decided()
    c = m.live.rule.coef
    assert term(m, "RUS", ADOPT, SANCTIONS) == c.a_sanctions > 0
    assert term(m, "IRN", MINE, SANCTIONS) == c.c_sanctions > 0
    assert term(m, "BRA", ADOPT, SANCTIONS) == 0.0
    hit = [{"date": "2025-07", "kind": "sanctions", "nation": "BRA", "value": 1.0}]
    m2 = decided({"events": hit})
    i = m.index_of["BRA"]
    assert m2.last_util[i, 0] - m.last_util[i, 0] == pytest.approx(c.a_sanctions)
    assert m2.state.sanctions_exposure[i] == 1.0  # on the state for the target share


def test_dated_sanctions_change_fires_from_the_data() -> None:
    changes = load_dated_changes()
    syr = changes[(changes.iso3 == "SYR") & (changes.field == "sanctions_exposure")]
    assert syr.date.tolist() == ["2025-08"]  # the US programme ends 2025-07 (EO 14312)
    m = decided(steps=3)
    assert m.state.sanctions_exposure[m.index_of["SYR"]] == 0.0
    assert load_nations().set_index("iso3").at["SYR", "sanctions_exposure"] == 1.0


def test_state_capacity_to_mine_is_energy_the_state_controls() -> None:
    n = load_nations().set_index("iso3")
    # Canada's hydro provinces restricted crypto mining; advanced economies' exports
    # are not state-directed: no state surplus although they export power
    for k in ("CAN", "FRA", "DEU", "SWE", "CHE"):
        assert n.at[k, "energy_export_mw"] > 300 and n.at[k, "energy_surplus_mw"] == 0.0, k
    assert n.at["PAK", "energy_surplus_mw"] == 2000.0  # announced allocation
    assert n.at["PRY", "energy_surplus_mw"] > 2000  # state hydro (ANDE, Itaipu)
    assert n.at["IRN", "energy_surplus_mw"] > 0  # the state licenses mining on its power
    prov = nation_provenance("CAN").set_index("field")
    assert prov.at["energy_surplus_mw", "imputation"] == "rule_not_state_controlled"


def test_curated_confidence_is_carried_into_provenance() -> None:
    prov = nation_provenance("SLV").set_index("field")  # ARA etc. tagged medium in the file
    assert prov.at["ara_class", "source_id"] == "institutions_curated"
    assert prov.at["ara_class", "imputation"] == "confidence_medium"
    assert nation_provenance("VAT").set_index("field").at["ara_class", "imputation"] == (
        "confidence_low"
    )
