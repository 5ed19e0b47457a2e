"""Fit the world's price process and mining market to the monthly Bitcoin market series.

Maintainer script (not run by the package): reads ``btc_market_monthly_coinmetrics.csv``
from ``--source`` (``../shared/data``), fits

1. a two-regime Markov-switching model of monthly log returns (Hamilton 1989) by maximum
   likelihood (statsmodels ``MarkovRegression``, switching mean and variance), next to a
   GBM (i.i.d. normal log returns), and
2. the mining market: monthly growth of network hashrate on the lagged log hashprice
   relative to a break-even level falling at a constant rate (free entry with a lag,
   Prat and Walter 2021), by OLS with Newey-West standard errors,

and writes ``adoption_model/data/market_fit.toml`` (the numbers the package reads at run
time, with provenance) and ``docs/figures/market_fit.png``. The method is documented in
``docs/market.md``. Data: Coin Metrics, Inc., Coin Metrics Community Data, CC BY-NC 4.0.

Usage::

    python tools/fit_market.py --source ../shared/data            # write the shipped fit
    python tools/fit_market.py --source ../shared/data --out DIR  # write elsewhere
    python tools/fit_market.py --source ../shared/data --until 2023-12  # back-test fit
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SOURCE_FILE = "btc_market_monthly_coinmetrics.csv"
ATTRIBUTION = (
    "Bitcoin market and network data: Coin Metrics, Inc., Coin Metrics Community Data "
    "(github.com/coinmetrics/data), licensed under CC BY-NC 4.0 "
    "(https://creativecommons.org/licenses/by-nc/4.0/). Changes: daily values aggregated to "
    "calendar months; log returns, realised volatility and hashprice derived; fitted here."
)
#: the old default GBM (kept as ``price.process = "gbm"``); its median log growth a year is
#: the assumed long-run drift of the fitted process (see docs/market.md, "The drift").
GBM_DRIFT, GBM_VOLATILITY = 0.25, 0.55
LONG_RUN_LOG_GROWTH = GBM_DRIFT - 0.5 * GBM_VOLATILITY**2
#: constrained ML: the Gaussian-mixture likelihood is unbounded as one regime's variance
#: goes to 0 on a single month; local maxima with a regime sd below 5% a month are refused.
VARIANCE_FLOOR = 0.05**2
STARTS = 80
HASHRATE_LAG = 2
NW_LAGS = 6
#: fleet efficiency at the start month (J/TH; MiningConfig's default, an assumption)
EFFICIENCY_REF = 22.0
MWH_PER_TH_DAY_PER_J = 86_400 / 3.6e9  # MWh used in a day by 1 TH/s at 1 J/TH
SIM_PATHS, SIM_MONTHS, START_PRICE = 20_000, 120, 105_000.0


def find_shared_data(start: Path | None = None) -> Path | None:
    """``ADOPTION_SHARED_DATA``, or the first ``shared/data`` holding the series above ``start``."""
    import os

    env = os.environ.get("ADOPTION_SHARED_DATA")
    if env:
        p = Path(env)
        return p if (p / SOURCE_FILE).is_file() else None
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        cand = parent / "shared" / "data"
        if (cand / SOURCE_FILE).is_file():
            return cand
    return None


def load(source: Path, until: str) -> pd.DataFrame:
    """The monthly series up to ``until`` (inclusive)."""
    df = pd.read_csv(source / SOURCE_FILE)
    df = df[df["month"] <= until].reset_index(drop=True)
    if df.empty:
        raise SystemExit(f"{source / SOURCE_FILE}: no months up to {until}")
    return df


# ---------------------------------------------------------------------------- price
def _ms_fits(r: np.ndarray, seed: int) -> list[Any]:
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    model = MarkovRegression(r, k_regimes=2, trend="c", switching_variance=True)
    rng = np.random.default_rng(seed)
    fits = []
    for _ in range(STARTS):
        start = np.array(
            [
                rng.uniform(0.5, 0.99),
                rng.uniform(0.01, 0.5),
                rng.normal(0.05, 0.1),
                rng.normal(-0.02, 0.1),
                rng.uniform(0.005, 0.1),
                rng.uniform(0.005, 0.1),
            ]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = model.fit(start_params=start, disp=False, maxiter=500)
            except (ValueError, np.linalg.LinAlgError):
                continue
        if np.isfinite(res.llf) and np.all(np.isfinite(res.bse)):
            fits.append(res)
    return fits


def _distinct(fits: list[Any]) -> list[Any]:
    """Local maxima sorted by log-likelihood, one per distinct value (to 0.01)."""
    out, seen = [], set()
    for res in sorted(fits, key=lambda x: -x.llf):
        key = round(float(res.llf), 2)
        if key not in seen:
            seen.add(key)
            out.append(res)
    return out


def _regimes(res: Any) -> dict[str, Any]:
    """Native parameters of a 2-regime fit, regime 0 = likelier in the sample's last month."""
    p00, p10, c0, c1, s0, s1 = (float(v) for v in res.params)
    se = [float(v) for v in res.bse]
    last = res.smoothed_marginal_probabilities[-1]
    order = [0, 1] if last[0] >= last[1] else [1, 0]
    leave = [1.0 - p00, p10]
    leave_se = [se[0], se[1]]
    mean, mean_se = [c0, c1], [se[2], se[3]]
    var, var_se = [s0, s1], [se[4], se[5]]
    pick = lambda v: [v[i] for i in order]  # noqa: E731
    return {
        "leave": pick(leave),
        "leave_se": pick(leave_se),
        "mean": pick(mean),
        "mean_se": pick(mean_se),
        "var": pick(var),
        "var_se": pick(var_se),
        "start_probability": float(last[order[0]]),
        "smoothed": np.asarray(res.smoothed_marginal_probabilities)[:, order],
        "llf": float(res.llf),
        "aic": float(res.aic),
        "bic": float(res.bic),
    }


def simulate_regime(
    drift: list[float],
    vol: list[float],
    leave: list[float],
    rng: np.random.Generator,
    paths: int = SIM_PATHS,
    months: int = SIM_MONTHS,
) -> np.ndarray:
    """Monthly log returns of the world's 'regime' process (same recursion as World.advance)."""
    drift_a, vol_a, leave_a = np.asarray(drift), np.asarray(vol), np.asarray(leave)
    regime = np.zeros(paths, dtype=int)
    out = np.empty((paths, months))
    sq = math.sqrt(1.0 / 12.0)
    for t in range(months):
        z = rng.standard_normal(paths)
        u = rng.random(paths)
        regime = np.where(u < leave_a[regime], (regime + 1) % len(leave_a), regime)
        mu, sig = drift_a[regime], vol_a[regime]
        out[:, t] = (mu - 0.5 * sig * sig) / 12.0 + sig * sq * z
    return out


def _quantiles(log_ret: np.ndarray) -> dict[str, float]:
    end = START_PRICE * np.exp(log_ret.sum(axis=1))
    qs = np.quantile(end, [0.05, 0.10, 0.25, 0.5, 0.75, 0.90, 0.95])
    return {f"q{q:02d}": float(v) for q, v in zip([5, 10, 25, 50, 75, 90, 95], qs, strict=True)}


def _moments(r: np.ndarray) -> dict[str, float]:
    from scipy import stats

    return {
        "mean": float(np.mean(r)),
        "sd": float(np.std(r, ddof=1)),
        "skewness": float(stats.skew(r)),
        "excess_kurtosis": float(stats.kurtosis(r)),
        "acf1_abs": float(np.corrcoef(np.abs(r[1:]), np.abs(r[:-1]))[0, 1]),
    }


def fit_price(df: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Markov-switching fit on the post-2013 sample, GBM fit, and simulated 10-year prices."""
    full = df["log_return"].to_numpy()
    full_fit = _regimes(_distinct(_ms_fits(full, seed))[0])
    # the full-sample fit puts 2013 in an explosive regime never revisited; the sample of
    # the default starts in the first month after which that regime stays below 1/2
    boom = int(np.argmax(full_fit["mean"]))
    p_boom = full_fit["smoothed"][:, boom]
    below = np.flatnonzero(p_boom >= 0.5)
    first = int(below[-1]) + 1 if len(below) else 0
    sample = df.iloc[first:]
    r = sample["log_return"].to_numpy()
    maxima = [x for x in _distinct(_ms_fits(r, seed)) if min(x.params[4:6]) >= VARIANCE_FLOOR]
    fit = _regimes(maxima[0])
    n = len(r)
    mu_m, var_m = float(r.mean()), float(r.var())
    gbm_llf = float(np.sum(-0.5 * np.log(2 * np.pi * var_m) - 0.5 * (r - mu_m) ** 2 / var_m))
    vol_ann = [math.sqrt(12 * v) for v in fit["var"]]
    vol_se = [
        math.sqrt(12) * s / (2 * math.sqrt(v))
        for v, s in zip(fit["var"], fit["var_se"], strict=True)
    ]
    leave = fit["leave"]
    pi0 = leave[1] / (leave[0] + leave[1])
    ergodic = [pi0, 1 - pi0]
    mean_hist = sum(p * m for p, m in zip(ergodic, fit["mean"], strict=True))
    shift = LONG_RUN_LOG_GROWTH / 12.0 - mean_hist
    drift_hist = [12 * m + 6 * v for m, v in zip(fit["mean"], fit["var"], strict=True)]
    drift = [12 * (m + shift) + 6 * v for m, v in zip(fit["mean"], fit["var"], strict=True)]
    gbm_vol = math.sqrt(12 * var_m)
    gbm_drift = LONG_RUN_LOG_GROWTH + 0.5 * gbm_vol**2
    gbm_drift_hist = 12 * mu_m + 0.5 * gbm_vol**2
    rng = np.random.default_rng(seed)
    sims = {
        "gbm_fitted": simulate_regime([gbm_drift], [gbm_vol], [0.0], rng),
        "gbm_fitted_historical_drift": simulate_regime([gbm_drift_hist], [gbm_vol], [0.0], rng),
        "regime_fitted": simulate_regime(drift, vol_ann, leave, rng),
        "regime_fitted_historical_drift": simulate_regime(drift_hist, vol_ann, leave, rng),
        "gbm_handset": simulate_regime([GBM_DRIFT], [GBM_VOLATILITY], [0.0], rng),
    }
    others = [
        {
            "llf": float(x.llf),
            "mean": [float(v) for v in x.params[2:4]],
            "sd": [math.sqrt(float(v)) for v in x.params[4:6]],
            "duration": [float(v) for v in x.expected_durations],
        }
        for x in maxima[1:4]
    ]
    return {
        "sample": [str(sample["month"].iloc[0]), str(sample["month"].iloc[-1])],
        "n": n,
        "fit": fit,
        "full_fit": full_fit,
        "full_sample": [str(df["month"].iloc[0]), str(df["month"].iloc[-1])],
        "vol_ann": vol_ann,
        "vol_ann_se": vol_se,
        "drift": drift,
        "drift_hist": drift_hist,
        "shift": shift,
        "ergodic": ergodic,
        "mean_hist": mean_hist,
        "gbm": {
            "volatility": gbm_vol,
            "volatility_se": gbm_vol / math.sqrt(2 * n),
            "drift": gbm_drift,
            "historical_drift": gbm_drift_hist,
            "mean": mu_m,
            "mean_se": math.sqrt(var_m / n),
            "var": var_m,
            "var_se": var_m * math.sqrt(2 / n),
            "llf": gbm_llf,
            "aic": 4 - 2 * gbm_llf,
        },
        "moments": _moments(r),
        "sim_moments": _moments(sims["regime_fitted"][:200].ravel()),
        "quantiles": {k: _quantiles(v) for k, v in sims.items()},
        "other_maxima": others,
    }


# ---------------------------------------------------------------------------- mining
def mining_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Log hashrate, its monthly growth, log hashprice (USD/TH/day) and time in years."""
    m = pd.DataFrame({"month": df["month"]})
    m["lh"] = np.log(df["hashrate_ths_mean"])
    m["lhp"] = np.log(df["revenue_usd_per_ths_day"])
    m["dlh"] = m["lh"].diff()
    m["dlh1"] = m["dlh"].shift(1)
    m["x"] = m["lhp"].shift(HASHRATE_LAG)
    m["t"] = np.arange(len(m)) / 12.0
    # revenue per day (USD) = hashprice x hashrate
    m["lrev"] = m["lhp"] + m["lh"]
    return m


def fit_mining(df: pd.DataFrame) -> dict[str, Any]:
    """OLS of hashrate growth on the lagged log hashprice, a trend and last month's growth.

    Structural form (per month, t in years)::

        dlnH_t = (1 - rho) g/12 + b (ln HP_{t-L} - ln HP*_{t-L}) + rho dlnH_{t-1} + e_t
        ln HP*_t = k - g t

    so OLS on [1, ln HP_{t-L}, t, dlnH_{t-1}] gives b, rho and g = coef(t) / b; k follows
    from the intercept. HP* at the sample's end divided by the MWh a TH/s uses in a day at
    the reference fleet efficiency is the break-even revenue per MWh.
    """
    import statsmodels.api as sm

    m = mining_frame(df)
    d = m.dropna(subset=["dlh", "dlh1", "x"])
    X = sm.add_constant(d[["x", "t", "dlh1"]])
    res = sm.OLS(d["dlh"], X).fit(cov_type="HAC", cov_kwds={"maxlags": NW_LAGS})
    a, b, c, rho = (float(v) for v in res.params)
    cov = np.asarray(res.cov_params())
    t_end = float(m["t"].iloc[-1])
    lag = HASHRATE_LAG

    def derived(p: np.ndarray) -> np.ndarray:
        a_, b_, c_, r_ = p
        g_ = c_ / b_
        k_ = ((1 - r_) * g_ / 12 - b_ * g_ * lag / 12 - a_) / b_
        ln_hp_end = k_ - g_ * t_end
        return np.array([g_, ln_hp_end])

    p = np.array([a, b, c, rho])
    g, ln_hp_end = derived(p)
    jac = np.empty((2, 4))
    for i in range(4):
        h = 1e-6 * max(abs(p[i]), 1e-3)
        up, dn = p.copy(), p.copy()
        up[i] += h
        dn[i] -= h
        jac[:, i] = (derived(up) - derived(dn)) / (2 * h)
    dcov = jac @ cov @ jac.T
    g_se, ln_hp_end_se = (float(math.sqrt(v)) for v in np.diag(dcov))
    mwh = EFFICIENCY_REF * MWH_PER_TH_DAY_PER_J
    breakeven = math.exp(ln_hp_end) / mwh
    # AIC by lag (same sample: the longest lag's)
    aic = {}
    for lag_ in range(1, 7):
        mm = m.copy()
        mm["x"] = mm["lhp"].shift(lag_)
        dd = mm.iloc[7:].dropna(subset=["dlh", "dlh1", "x"])
        aic[str(lag_)] = float(sm.OLS(dd["dlh"], sm.add_constant(dd[["x", "t", "dlh1"]])).fit().aic)
    sim = simulate_history(m, b, rho, g, ln_hp_end, t_end)
    obs = m["lh"].to_numpy()
    ok = ~np.isnan(sim)
    return {
        "sample": [str(d["month"].iloc[0]), str(d["month"].iloc[-1])],
        "n": int(len(d)),
        "params": {"const": a, "b": b, "trend": c, "rho": rho},
        "se": {k: float(v) for k, v in zip(["const", "b", "trend", "rho"], res.bse, strict=True)},
        "g": float(g),
        "g_se": g_se,
        "hashprice_breakeven_end": math.exp(ln_hp_end),
        "hashprice_breakeven_end_se_log": ln_hp_end_se,
        "hashprice_end": float(math.exp(m["lhp"].iloc[-1])),
        "breakeven_usd_per_mwh": breakeven,
        "breakeven_usd_per_mwh_se": breakeven * ln_hp_end_se,
        "r2": float(res.rsquared),
        "resid_sd": float(math.sqrt(res.scale)),
        "aic_by_lag": aic,
        "dynamic_rmse_log": float(np.sqrt(np.mean((sim[ok] - obs[ok]) ** 2))),
        "dynamic_end_ratio": float(math.exp(sim[-1] - obs[-1])),
        "frame": m,
        "fitted": res.fittedvalues,
        "dynamic": sim,
    }


def simulate_history(
    m: pd.DataFrame, b: float, rho: float, g: float, ln_hp_end: float, t_end: float
) -> np.ndarray:
    """Log hashrate simulated from the first months, given only the observed revenue.

    The fitted response is run forward on its own hashrate (hashprice = revenue / simulated
    hashrate), so errors accumulate: a check of the model in levels, not one step ahead.
    """
    lh, lrev, t = m["lh"].to_numpy(), m["lrev"].to_numpy(), m["t"].to_numpy()
    k = ln_hp_end + g * t_end
    sim = np.full(len(lh), np.nan)
    lag = HASHRATE_LAG
    sim[: lag + 1] = lh[: lag + 1]
    growth = lh[lag] - lh[lag - 1]
    for i in range(lag + 1, len(lh)):
        j = i - lag
        gap = (lrev[j] - sim[j]) - (k - g * t[j])
        growth = (1 - rho) * g / 12 + b * gap + rho * growth
        sim[i] = sim[i - 1] + growth
    return sim


# ---------------------------------------------------------------------------- output
def _r(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def to_toml(price: dict[str, Any], mining: dict[str, Any], source: Path) -> dict[str, Any]:
    """The shipped fit: parameters the package reads, their standard errors, provenance."""
    f, g = price["fit"], price["gbm"]
    raw = (source / SOURCE_FILE).read_bytes()
    return {
        "provenance": {
            "source_file": f"../shared/data/{SOURCE_FILE}",
            "source_sha256": hashlib.sha256(raw).hexdigest(),
            "licence": "CC BY-NC 4.0",
            "licence_url": "https://creativecommons.org/licenses/by-nc/4.0/",
            "attribution": ATTRIBUTION,
            "script": "tools/fit_market.py",
            "fit_date": dt.date.today().isoformat(),
            "method_doc": "docs/market.md",
        },
        "price": {
            "selected": "gbm",
            "selection": (
                "AIC: the two-regime model does not beat i.i.d. normal log returns on the "
                "sample (see aic here and in [price.regime]); monthly log returns show no "
                "excess kurtosis, skewness or volatility clustering (see [price.moments]), so "
                "a block bootstrap would add nothing over the normal"
            ),
            "sample": price["sample"],
            "n_months": price["n"],
            "sample_rule": (
                "the full-sample regime fit ("
                + " to ".join(price["full_sample"])
                + ") puts 2013 in an explosive regime never revisited; the sample starts in "
                "the first month after which that regime's smoothed probability stays below 1/2"
            ),
            "assumed_long_run_log_growth": _r(LONG_RUN_LOG_GROWTH),
            "drift_rule": (
                "the historical mean log return is not used as a forecast (docs/market.md, "
                "'The drift'): each fitted process is re-centred so that its long-run mean log "
                "growth is assumed_long_run_log_growth a year (the hand-set GBM's median growth)"
            ),
            "moments": {k: _r(v) for k, v in price["moments"].items()},
            "gbm": {
                "estimator": "maximum likelihood of i.i.d. normal monthly log returns",
                "monthly_mean": _r(g["mean"]),
                "monthly_mean_se": _r(g["mean_se"]),
                "monthly_variance": _r(g["var"]),
                "monthly_variance_se": _r(g["var_se"]),
                "annual_volatility": _r(g["volatility"]),
                "annual_volatility_se": _r(g["volatility_se"]),
                "historical_annual_drift": _r(g["historical_drift"]),
                "annual_drift": _r(g["drift"]),
                "llf": _r(g["llf"], 8),
                "aic": _r(g["aic"], 8),
            },
            "regime": {
                "estimator": (
                    "two-regime Markov-switching regression of monthly log returns (switching "
                    "mean and variance; Hamilton 1989), maximum likelihood by statsmodels "
                    f"MarkovRegression, best of {STARTS} random starts with both regime sds >= "
                    "5% a month; standard errors from the numerical Hessian"
                ),
                "regime_order": "regime 0 is the likelier regime in the sample's last month",
                "start_regime_probability": _r(f["start_probability"]),
                "monthly_mean": [_r(v) for v in f["mean"]],
                "monthly_mean_se": [_r(v) for v in f["mean_se"]],
                "monthly_variance": [_r(v) for v in f["var"]],
                "monthly_variance_se": [_r(v) for v in f["var_se"]],
                "leave_probability": [_r(v) for v in f["leave"]],
                "leave_probability_se": [_r(v) for v in f["leave_se"]],
                "expected_duration_months": [_r(1 / v) for v in f["leave"]],
                "ergodic_probability": [_r(v) for v in price["ergodic"]],
                "annual_volatility": [_r(v) for v in price["vol_ann"]],
                "annual_volatility_se": [_r(v) for v in price["vol_ann_se"]],
                "historical_annual_drift": [_r(v) for v in price["drift_hist"]],
                "historical_mean_log_return_monthly": _r(price["mean_hist"]),
                "drift_shift_monthly": _r(price["shift"]),
                "annual_drift": [_r(v) for v in price["drift"]],
                "llf": _r(f["llf"], 8),
                "aic": _r(f["aic"], 8),
                "bic": _r(f["bic"], 8),
                "simulated_moments": {k: _r(v) for k, v in price["sim_moments"].items()},
                "other_local_maxima": [
                    {
                        k: ([_r(x) for x in v] if isinstance(v, list) else _r(v))
                        for k, v in o.items()
                    }
                    for o in price["other_maxima"]
                ],
                "full_sample": {
                    "sample": price["full_sample"],
                    "monthly_mean": [_r(v) for v in price["full_fit"]["mean"]],
                    "monthly_variance": [_r(v) for v in price["full_fit"]["var"]],
                    "leave_probability": [_r(v) for v in price["full_fit"]["leave"]],
                    "llf": _r(price["full_fit"]["llf"], 8),
                    "aic": _r(price["full_fit"]["aic"], 8),
                },
            },
            "price_after_10_years": {
                k: {q: _r(v, 4) for q, v in qs.items()} for k, qs in price["quantiles"].items()
            },
        },
        "mining": {
            "estimator": (
                "OLS of monthly log hashrate growth on [1, log hashprice lagged "
                f"{HASHRATE_LAG} months, time, last month's growth]; Newey-West (HAC, "
                f"{NW_LAGS} lags) standard errors; break-even by the delta method"
            ),
            "sample": mining["sample"],
            "n_months": mining["n"],
            "lag_months": HASHRATE_LAG,
            "response": _r(mining["params"]["b"]),
            "response_se": _r(mining["se"]["b"]),
            "persistence": _r(mining["params"]["rho"]),
            "persistence_se": _r(mining["se"]["rho"]),
            "const": _r(mining["params"]["const"]),
            "const_se": _r(mining["se"]["const"]),
            "trend": _r(mining["params"]["trend"]),
            "trend_se": _r(mining["se"]["trend"]),
            "historical_breakeven_decline": _r(mining["g"]),
            "historical_breakeven_decline_se": _r(mining["g_se"]),
            "hashprice_end_usd_th_day": _r(mining["hashprice_end"]),
            "breakeven_hashprice_end_usd_th_day": _r(mining["hashprice_breakeven_end"]),
            "breakeven_log_se": _r(mining["hashprice_breakeven_end_se_log"]),
            "efficiency_ref_j_per_th": EFFICIENCY_REF,
            "breakeven_usd_per_mwh": _r(mining["breakeven_usd_per_mwh"]),
            "breakeven_usd_per_mwh_se": _r(mining["breakeven_usd_per_mwh_se"]),
            "r2": _r(mining["r2"]),
            "resid_sd": _r(mining["resid_sd"]),
            "aic_by_lag": {k: _r(v, 8) for k, v in mining["aic_by_lag"].items()},
            "dynamic_rmse_log": _r(mining["dynamic_rmse_log"]),
            "dynamic_end_ratio": _r(mining["dynamic_end_ratio"]),
        },
    }


def figure(price: dict[str, Any], mining: dict[str, Any], df: pd.DataFrame, path: Path) -> None:
    """Three panels: hashrate fit (one step and dynamic), hashprice vs break-even, regimes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = mining["frame"]
    when = pd.to_datetime(m["month"])
    fig, ax = plt.subplots(3, 1, figsize=(8, 9.5), sharex=True)
    ax[0].plot(when, m["lh"] / math.log(10) - 6, "k", lw=1.5, label="observed")
    ax[0].plot(when, mining["dynamic"] / math.log(10) - 6, "C1", lw=1.2, label="dynamic fit")
    one = m["lh"].shift(1) + mining["fitted"].reindex(m.index)
    ax[0].plot(when, one / math.log(10) - 6, "C0:", lw=1, label="one month ahead")
    ax[0].set_ylabel("log10 hashrate (EH/s)")
    ax[0].legend(loc="lower right", fontsize=8)
    ax[0].set_title(
        f"Hashrate response: R² {mining['r2']:.2f} (growth), dynamic RMSE "
        f"{mining['dynamic_rmse_log']:.2f} log points",
        fontsize=9,
    )
    k = math.log(mining["hashprice_breakeven_end"]) + mining["g"] * m["t"].iloc[-1]
    ax[1].semilogy(when, np.exp(m["lhp"]), "k", lw=1.2, label="hashprice")
    ax[1].semilogy(when, np.exp(k - mining["g"] * m["t"]), "C3--", label="fitted break-even")
    ax[1].set_ylabel("USD per TH/s per day")
    ax[1].legend(fontsize=8)
    ps = price["full_fit"]["smoothed"]
    fw = pd.to_datetime(df["month"])
    boom = int(np.argmax(price["full_fit"]["mean"]))
    ax[2].plot(fw, ps[:, boom], "C7", lw=1, label="2013 regime (full sample)")
    sp = price["fit"]["smoothed"]
    sw = fw.iloc[len(fw) - len(sp) :]
    ax[2].plot(sw, sp[:, 1], "C2", lw=1.2, label="regime 1 (default fit)")
    ax[2].set_ylabel("smoothed probability")
    ax[2].legend(fontsize=8)
    fig.text(0.01, 0.005, "Data: Coin Metrics Community Data, CC BY-NC 4.0", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="folder with the series (default: search)")
    ap.add_argument("--until", default="2025-06", help="last month used (YYYY-MM)")
    ap.add_argument("--out", type=Path, default=repo / "adoption_model" / "data")
    ap.add_argument(
        "--figure",
        default=str(repo / "docs" / "figures" / "market_fit.png"),
        help="PNG to write ('' for none)",
    )
    ap.add_argument("--seed", type=int, default=20250601)
    args = ap.parse_args(argv)
    source = args.source or find_shared_data()
    if source is None or not (source / SOURCE_FILE).is_file():
        print(f"fit_market: {SOURCE_FILE} not found; pass --source ../shared/data", file=sys.stderr)
        return 2
    import tomli_w

    df = load(source, args.until)
    price = fit_price(df, args.seed)
    mining = fit_mining(df)
    data = to_toml(price, mining, source)
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        "# Fitted price process and mining market, written by tools/fit_market.py; do not edit.\n"
        f"# {ATTRIBUTION}\n"
    )
    (args.out / "market_fit.toml").write_text(header + tomli_w.dumps(data), encoding="utf-8")
    from adoption_model.data import update_checksums

    update_checksums(args.out, ["market_fit.toml"])  # package data, checked on load
    if args.figure:
        figure(price, mining, df, Path(args.figure))
    pr, mn = data["price"], data["mining"]
    gb, rg = pr["gbm"], pr["regime"]
    print(
        f"price sample {pr['sample']} n={pr['n_months']}: GBM llf {gb['llf']:.2f} "
        f"AIC {gb['aic']:.1f}; regime llf {rg['llf']:.2f} AIC {rg['aic']:.1f}"
    )
    print(
        f"  GBM vol {gb['annual_volatility']} ({gb['annual_volatility_se']}) monthly mean "
        f"{gb['monthly_mean']} ({gb['monthly_mean_se']}) drift {gb['annual_drift']}"
    )
    print(f"  regime monthly mean {rg['monthly_mean']} se {rg['monthly_mean_se']}")
    print(f"  regime annual vol {rg['annual_volatility']} se {rg['annual_volatility_se']}")
    print(
        f"  regime leave {rg['leave_probability']} se {rg['leave_probability_se']} "
        f"durations {rg['expected_duration_months']} drift {rg['annual_drift']}"
    )
    for k, q in pr["price_after_10_years"].items():
        print(f"  10y price {k}: q10 {q['q10']:.3g} q50 {q['q50']:.3g} q90 {q['q90']:.3g}")
    print(
        f"mining sample {mn['sample']} n={mn['n_months']}: b {mn['response']:.4f} "
        f"({mn['response_se']:.4f}) rho {mn['persistence']:.3f} ({mn['persistence_se']:.3f}) "
        f"g {mn['historical_breakeven_decline']:.3f} ({mn['historical_breakeven_decline_se']:.3f})"
    )
    print(
        f"  break-even {mn['breakeven_usd_per_mwh']:.1f} USD/MWh "
        f"({mn['breakeven_usd_per_mwh_se']:.1f}); R2 {mn['r2']:.3f}; dynamic RMSE "
        f"{mn['dynamic_rmse_log']:.3f}; AIC by lag {mn['aic_by_lag']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
