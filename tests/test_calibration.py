"""Calibration from the record: replay from the panel, scores, posterior draws, SMM, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from adoption_model.calibration import scores, smm
from adoption_model.calibration.history import history_overrides, observed_path
from adoption_model.cli import main
from adoption_model.errors import InputError
from adoption_model.experiments.posterior import (
    SHIPPED_POSTERIOR,
    draw_index,
    load_sample,
    posterior_overrides,
)
from adoption_model.model import AdoptionModel
from adoption_model.scenario import load_scenario


# ------------------------------------------------------------------ replay from the panel
def test_from_panel_state_is_the_panels_next_row():
    from adoption_model.calibration.panel import load_panel

    m = AdoptionModel(overrides=history_overrides("2023-12", 3), seed=1)
    p = load_panel()
    row = p[p.month == "2024-01"].set_index("iso3")
    i = m.index_of["SLV"]
    assert m.state.reserve[i] and m.state.holdings[i] == row.loc["SLV", "holdings_btc"]
    assert m.state.reserves_usd[i] == row.loc["SLV", "reserves_usd"]
    j = m.index_of["USA"]
    assert not m.state.reserve[j] and m.state.holdings[j] == row.loc["USA", "holdings_btc"]
    assert int(m.state.reserve.sum()) == int(row.state_reserve.sum())
    assert int(m.state.mining.sum()) == int(row.state_mining.sum())


def test_replay_sees_the_observed_prices_and_momentum():
    from adoption_model.calibration.panel import load_panel

    m = AdoptionModel(overrides=history_overrides("2023-12", 2), seed=1)
    m.step()
    p = load_panel()
    row = p[(p.month == "2024-01") & (p.iso3 == "USA")].iloc[0]
    assert m.world.price == pytest.approx(row.btc_price_usd)
    # the panel's momentum is tanh-free log return over six months; the model's is tanh of it
    assert m.world.momentum() == pytest.approx(math.tanh(row.btc_log_return_momentum), abs=1e-9)
    assert observed_path("2023-12", 18)[-1] == pytest.approx(
        float(p[(p.month == "2025-06")].btc_price_usd.iloc[0])
    )


def test_from_panel_needs_its_start():
    with pytest.raises(InputError, match=r"initial.from_panel 2023-12 needs start = '2023-12'"):
        load_scenario(overrides={"initial.from_panel": "2023-12"})
    with pytest.raises(InputError, match="the panel ends"):
        history_overrides("2024-12", 12)


# ------------------------------------------------------------------ scores
def test_scores_match_hand_computed_values():
    p = np.array([0.9, 0.2, 0.6, 0.0])
    y = np.array([1, 0, 0, 1])
    # log: log .9 + log .8 + log .4 + log(1e-3), over 4
    want = (math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(1e-3)) / 4
    assert scores.log_score(p, y) == pytest.approx(want)
    assert scores.brier(p, y) == pytest.approx((0.01 + 0.04 + 0.36 + 1.0) / 4)
    # AUC: pairs (event, non-event): (.9,.2) win, (.9,.6) win, (0,.2) loss, (0,.6) loss
    assert scores.auc(p, y) == pytest.approx(0.5)
    assert scores.event_ranks(p, y) == [1.0, 4.0]
    assert math.isnan(scores.auc(p, np.zeros(4)))
    # a perfect forecast scores best on every measure
    assert scores.log_score(y.astype(float), y) > scores.log_score(p, y)
    assert scores.brier(y.astype(float), y) == 0.0
    assert scores.auc(y.astype(float), y) == 1.0


def test_score_table_ranks_the_better_forecast_first():
    from adoption_model.calibration.backtest import score_table

    obs = pd.DataFrame(
        {"adopt": [1, 0, 0], "mine": [0, 0, 0], "sell": [0, 1, 0]},
        index=pd.Index(["A", "B", "C"], name="iso3"),
    )
    good = obs.astype(float) * 0.8 + 0.05
    flat = pd.DataFrame(0.3, index=obs.index, columns=obs.columns)
    t = score_table({"good": good, "flat": flat}, obs).set_index(["model", "kind"])
    assert t.loc[("good", "all"), "log_score"] > t.loc[("flat", "all"), "log_score"]
    assert t.loc[("good", "all"), "brier"] < t.loc[("flat", "all"), "brier"]
    assert t.loc[("good", "adopt"), "ranks"] == "A 1"


# ------------------------------------------------------------------ posterior draws
def test_posterior_draws_differ_per_seed_and_repeat():
    sample = load_sample(str(SHIPPED_POSTERIOR))
    assert len(sample) >= 100 and sample.std().min() > 0
    a = posterior_overrides("shipped", 11)
    b = posterior_overrides("shipped", 12)
    assert a == posterior_overrides("shipped", 11)
    assert a != b and set(a) == {f"rule.coef.{n}" for n in sample.columns}
    row = sample.iloc[draw_index(11, len(sample))]
    assert a["rule.coef.a0"] == float(row["a0"])
    # a scenario's own non-baseline coefficient wins over the draw
    off = load_scenario("contagion_off").to_dict()
    kept = posterior_overrides("shipped", 11, off)
    assert "rule.coef.a_peer" not in kept and "rule.coef.a0" in kept


def test_compare_with_posterior_draws_per_replicate(tmp_path):
    out = tmp_path / "cmp"
    code = main(
        ["compare", "baseline", "contagion_off", "--replications", "3", "--steps", "2",
         "--posterior", "--quiet", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    html = (out / "report.html").read_text()
    assert "parameter uncertainty" in html
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["uncertainty"].startswith("stochastic noise and parameter uncertainty")
    # the same comparison without --posterior says so, and its numbers differ
    out2 = tmp_path / "cmp2"
    assert main(["compare", "baseline", "contagion_off", "--replications", "3", "--steps",
                 "2", "--quiet", "--out", str(out2)]) == 0  # fmt: skip
    assert "stochastic noise only" in (out2 / "report.html").read_text()


def test_experiment_posterior_runs_are_reproducible(tmp_path):
    from adoption_model.experiments import load_experiment, run_experiment

    exp = load_experiment(
        {
            "name": "post", "seed": 3, "replications": 4, "posterior": "shipped",
            "set": {"steps": 1}, "design": {"kind": "points", "points": [{"steps": 1}]},
            "outcomes": {"share": "final(adoption_share)"},
        }
    )  # fmt: skip
    runs = run_experiment(exp, tmp_path / "a", progress=False)
    again = run_experiment(exp, tmp_path / "b", progress=False)
    assert runs["share"].tolist() == again["share"].tolist()
    assert (runs["status"] == "ok").all()


def test_bad_posterior_file_is_one_line(tmp_path):
    bad = tmp_path / "x.parquet"
    pd.DataFrame({"not_a_coefficient": [1.0]}).to_parquet(bad)
    with pytest.raises(InputError, match="not a posterior sample"):
        load_sample(str(bad))


# ------------------------------------------------------------------ SMM
@pytest.mark.slow
def test_smm_recovers_a_known_target_share():
    truth = {"adoption.target_share": 0.06, "mining.allocation_share": 0.3}
    moments = smm.observed_moments()
    sc = smm.replay_scenario()
    sim = smm.simulate_moments(truth, sc, [5], moments)
    fake = moments.assign(observed_btc=sim)
    fit = smm.fit_smm(
        moments=fake, replications=1, seed=5, maxiter=80,
        start={"adoption.target_share": 0.02, "mining.allocation_share": 0.8},
    )  # fmt: skip
    assert fit.estimates["adoption.target_share"] == pytest.approx(0.06, rel=0.05)
    assert fit.estimates["mining.allocation_share"] == pytest.approx(0.3, rel=0.05)
    assert fit.objective < 1e-3


def test_price_impact_is_a_regression_on_the_record():
    k = smm.price_impact()
    assert k["months"] > 100 and k["months_with_flows"] >= 10
    assert k["kappa_se"] > 0 and math.isfinite(k["kappa"])


# ------------------------------------------------------------------ commands
@pytest.mark.slow
def test_calibrate_quick_writes_its_files(tmp_path):
    out = tmp_path / "cal"
    assert main(["calibrate", "--quick", "--quiet", "--out", str(out)]) == 0
    names = ("estimates.csv", "estimates.parquet", "estimates.toml", "posterior.parquet",
             "diagnostics.json", "smm.csv", "ppc.csv", "config.toml", "report.html")  # fmt: skip
    for name in names:
        assert (out / name).is_file(), name
    post = pd.read_parquet(out / "posterior.parquet")
    assert post.attrs["provenance"]["kind"] == "posterior" and len(post) > 1000
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["warnings"] and "autocorrelation times" in diag["warnings"][0]
    html = (out / "report.html").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.slow
def test_backtest_quick_writes_the_table(tmp_path):
    out = tmp_path / "bt"
    assert main(["backtest", "--quick", "--quiet", "--out", str(out)]) == 0
    t = pd.read_csv(out / "scores.csv")
    assert set(t.model) == {"model (posterior)", "logit, no peers", "hand-set", "constant hazard"}
    assert (t.loc[t.kind == "all", "events"] == 6).all()  # USA, PAK adopt; 4 sellers
    assert (out / "report.html").read_text().count("<table>") >= 2


def test_cli_rejects_a_bad_month(capsys):
    with pytest.raises(SystemExit):
        main(["backtest", "--until", "2023-13"])
    assert "not a month" in capsys.readouterr().err
