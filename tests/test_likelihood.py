"""Likelihood estimation of the logit rule: recovery on data simulated by the model's own
rule, gradient against finite differences, and a real-panel fit that is finite and fast."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from adoption_model.calibration import likelihood as L
from adoption_model.calibration.panel import load_panel
from adoption_model.scenario import LogitCoefficients
from adoption_model.submodels import decision as rules

#: Known coefficients for the synthetic panel: intercepts high enough for many events.
TRUE = {
    "a0": -1.0,
    "a_fx": 1.0,
    "a_debt": -0.75,
    "a_peer": 2.0,
    "a_world": 1.0,
    "a_mom": 0.5,
    "a_imf": 1.5,
    "a_sanctions": 1.0,
    "c0": -1.5,
    "c_margin": 2.0,
    "c_peer": 1.0,
    "c_imf": 1.0,
    "c_sanctions": 0.8,
    "s0": -2.0,
    "s_debt": 1.0,
    "s_gain": 0.8,
    "s_imf": 1.0,
    "s_law": 2.0,
    "s_peer": 1.5,
}


def synthetic_panel(n: int, t: int, rng: np.random.Generator) -> pd.DataFrame:
    """Panel-shaped covariates for n nations x t months (no actions yet)."""
    months = [str(p) for p in pd.period_range("1990-01", periods=t, freq="M")]
    iso = [f"N{i:03d}" for i in range(n)]
    rows = n * t
    nation = np.tile(np.arange(n), t)
    month = np.repeat(np.arange(t), n)
    imports = rng.uniform(1e8, 1e10, n)[nation]
    frame = pd.DataFrame(
        {
            "iso3": np.array(iso)[nation],
            "month": np.array(months)[month],
            "reserves_usd": imports * rng.uniform(0.0, 6.0, rows),
            "imports_usd_month": imports,
            "debt_pct_gdp": rng.uniform(20.0, 200.0, rows),
            "energy_surplus_mw": np.where(rng.random(n) < 0.5, rng.uniform(10, 500, n), 0.0)[
                nation
            ],
            "energy_cost_usd_mwh": rng.uniform(20.0, 120.0, n)[nation],
            "holdings_btc": np.where(rng.random(n) < 0.5, rng.uniform(10, 1e4, n), 0.0)[nation],
            "cost_basis_usd": 0.0,
            "seized_sale_mandate": (rng.random(n) < 0.2)[nation],
            "state_reserve": rng.random(rows) < 0.3,
            "state_mining": rng.random(rows) < 0.2,
            "state_selling": False,
            "no_sell_pledge": False,
            "imf_credit_pct_quota": np.where(rng.random(rows) < 0.3, rng.uniform(0, 500, rows), 0),
            "imf_programme_active": rng.random(rows) < 0.2,
            "peer_adopted": rng.random(rows),
            "world_share_adopted": rng.random(t)[month],
            "btc_log_return_momentum": rng.normal(0, 0.6, t)[month],
            "btc_price_usd": 30_000.0,
            "btc_price_mean_usd": rng.uniform(5e3, 8e4, t)[month],
            "btc_reward_per_block": 6.25,
            "btc_blocks": 4383.0,
            "btc_hashrate_ths": 2e8,
            # institutions: FX and debt stress apply to emerging and credit-constrained
            # economies (most rows here), sanctions vary so a_/c_sanctions are identified
            "net_debt_pct_gdp": np.where(rng.random(n) < 0.5, rng.uniform(0, 150, n), np.nan)[
                nation
            ],
            "ara_class": rng.choice(
                ["advanced", "emerging_market", "low_income_or_credit_constrained"],
                p=[0.1, 0.45, 0.45],
                size=n,
            )[nation],
            "currency_regime": "own_float",
            "currency_union": "",
            "reserve_currency_issuer": False,
            "sanctions_exposure": rng.choice([0.0, 0.25, 0.6, 1.0], size=rows),
            "legal_ban_absolute": (rng.random(n) < 0.05)[nation],
            "legal_ban_mining": (rng.random(n) < 0.05)[nation],
        }
    )
    # cost basis gives unrealised gains of both signs
    frame["cost_basis_usd"] = frame.holdings_btc * 30_000.0 * rng.uniform(0.3, 3.0, rows)
    frame["action"] = "hold"
    frame["action_code"] = 0
    return frame


def simulate_actions(
    design: L.Design, coef: dict[str, float], review: float, rng: np.random.Generator
) -> np.ndarray:
    """Actions drawn month by month with the model's own rule (rules.logit_decide)."""
    c = LogitCoefficients(**coef)
    y = np.zeros(design.n, dtype=np.int64)
    for idx, x in design.inputs:
        _, _, _, action = rules.logit_decide(x, c, 1.0, rng.random(len(idx)))
        reviewed = rng.random(len(idx)) < review
        y[idx] = np.where(reviewed, action, rules.HOLD)
    return y


@pytest.mark.slow
def test_mle_recovers_known_coefficients_from_the_models_rule():
    rng = np.random.default_rng(20250601)
    panel = synthetic_panel(200, 400, rng)
    design = L.design_from_panel(panel)
    review = 1 / 12
    design.y = simulate_actions(design, TRUE, review, rng)
    counts = design.counts()
    assert min(counts["adopt"], counts["mine"], counts["sell"]) > 300, counts
    fit = L.fit_mle(design, review=review)
    assert fit.converged, fit.message
    truth = np.array([TRUE[n] for n in L.NAMES])
    z = (fit.beta - truth) / fit.se
    assert np.all(np.isfinite(fit.se)), fit.table()
    # ~95% of z within 2; with 19 coefficients allow one at most outside 2, none beyond 3
    assert np.sum(np.abs(z) > 2.0) <= 1, fit.table().assign(z=z)
    assert np.all(np.abs(z) < 3.0), fit.table().assign(z=z)


def test_score_matches_finite_differences_and_batched_loglik():
    rng = np.random.default_rng(3)
    design = L.design_from_panel(synthetic_panel(30, 40, rng))
    design.y = simulate_actions(design, TRUE, 0.3, rng)
    beta = np.array([TRUE[n] for n in L.NAMES]) + rng.normal(0, 0.3, len(L.NAMES))
    g = L.score(design, beta, 0.3)
    num = np.zeros_like(g)
    for j in range(len(beta)):
        e = np.zeros_like(beta)
        e[j] = 1e-6
        num[j] = (L.loglik(design, beta + e, 0.3) - L.loglik(design, beta - e, 0.3)) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)
    batch = np.stack([beta, beta * 0.5])
    np.testing.assert_allclose(
        L.loglik(design, batch, 0.3),
        [L.loglik(design, beta, 0.3), L.loglik(design, beta * 0.5, 0.3)],
    )


def test_likelihood_is_the_closed_form_of_the_models_probabilities():
    """Per row, P(action) equals r * softmax from rules.logit_probabilities (hold: 1 - r + r p)."""
    rng = np.random.default_rng(5)
    design = L.design_from_panel(synthetic_panel(20, 6, rng))
    design.y = simulate_actions(design, TRUE, 0.5, rng)
    c = LogitCoefficients(**TRUE)
    beta = np.array([TRUE[n] for n in L.NAMES])
    ll = L.loglik_rows(design, beta, 0.5)
    for idx, x in design.inputs:
        util = rules.sum_terms(rules.logit_terms(x, c))
        avail = np.stack([x.can_adopt, x.can_mine, x.can_sell], axis=1)
        p = rules.logit_probabilities(util, avail, 1.0)
        y = design.y[idx]
        want = np.where(y == 0, 0.5 + 0.5 * p[:, 0], 0.5 * p[np.arange(len(y)), y])
        np.testing.assert_allclose(np.exp(ll[idx]), want, rtol=1e-10)


def test_real_panel_likelihood_is_finite_and_the_fit_is_fast():
    t0 = time.perf_counter()
    design = L.design_from_panel(load_panel())
    counts = design.counts()
    assert counts["adopt"] >= 3 and counts["mine"] >= 2 and counts["sell"] >= 10, counts
    prior = L.Prior.default()
    assert np.isfinite(L.loglik(design, prior.mean, 1 / 12))
    mle = L.fit_mle(design)
    fit = L.fit_map(design)
    elapsed = time.perf_counter() - t0
    assert np.isfinite(mle.loglik) and np.isfinite(fit.loglik)
    assert fit.loglik <= mle.loglik + 1e-6  # the penalised optimum cannot beat the MLE
    assert np.all(np.isfinite(fit.se)) and np.all(fit.se > 0)
    assert elapsed < 60, f"design + MLE + MAP took {elapsed:.1f} s"


def test_posterior_sampler_is_reproducible_and_reports_prior_driven_coefficients():
    pytest.importorskip("emcee", reason="emcee is in the [calibrate] extra")
    design = L.design_from_panel(load_panel())
    a = L.sample_posterior(design, walkers=40, steps=60, burn=20, seed=7)
    b = L.sample_posterior(design, walkers=40, steps=60, burn=20, seed=7)
    np.testing.assert_array_equal(a.sample, b.sample)
    table = a.table()
    assert list(table.coefficient) == list(L.NAMES)
    assert 0.0 < a.acceptance < 1.0
    assert table.prior_driven.dtype == bool
