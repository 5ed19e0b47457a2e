"""Simulated method of moments for what the likelihood cannot reach: the flows.

The likelihood (:mod:`adoption_model.calibration.likelihood`) estimates *who decides what,
when*. How much a nation then buys or mines is not in the decision's likelihood; it shows
in the holdings paths of the record. Here the model replays the record with its decisions
switched off (``rule.review_probability = 0``) and the observed policy starts imposed as
dated events, from the observed state at the end of 2019-03 with the observed price path
(:func:`~adoption_model.calibration.history.history_overrides`), and the flow parameters
are chosen so that the simulated holdings match the observed ones:

==========================  ==============================================================
parameter                   moment (``gov_btc_holdings_history``, medium/high confidence)
==========================  ==============================================================
``adoption.target_share``   El Salvador's holdings 2022-07 and 2024-03 (purchases from
                            2021-09 toward the target share of FX reserves)
``mining.allocation_share`` Bhutan's holdings 2024-09 (mined since 2019-04 on that share of
                            its surplus power; before its first sale)
==========================  ==============================================================

The distance is the sum of squared log deviations weighted by the record's confidence
(sd 0.1 for high, 0.25 for medium), minimised by Nelder-Mead in logit coordinates
(scipy.optimize) with common random numbers: every evaluation runs the same replicate seeds.
Standard errors come from the Jacobian of the moments (finite differences) and those sds:
``cov = (J' W J)^-1``, the delta method for the measurement error of the record.

Not calibrated here, and why (docs/calibration.md): the IMF detection probability (one
programme country that accumulated, four months, partial-compliance reports: no moment
moves it), the sale tranches (every observed sale was one batch, or two months under
Germany's law, which the model sells at once), and the price impact ``kappa`` (estimated
instead by :func:`price_impact`, a regression of monthly returns on the observed net
sovereign flows).

References
----------
McFadden, D. (1989), "A method of simulated moments for estimation of discrete response
models without numerical integration", Econometrica 57(5), 995-1026.
Gourieroux, C. and Monfort, A. (1996), Simulation-Based Econometric Methods, Oxford UP.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from adoption_model.calibration.history import history_overrides, market_by_month
from adoption_model.calibration.panel import load_provenance
from adoption_model.scenario import Scenario, load_scenario
from adoption_model.seeds import replicate_seeds
from adoption_model.world import month_index

#: Calibrated parameters: scenario key, lower and upper bound (the search is inside them).
PARAMETERS: dict[str, tuple[float, float]] = {
    "adoption.target_share": (0.001, 0.5),
    "mining.allocation_share": (0.01, 1.0),
}
#: The replay starts at the end of this month (before Bhutan's mining start, 2019-04).
REPLAY_START = "2019-03"
REPLAY_END = "2025-05"
#: The observed policy starts imposed in the replay (the decisions are the likelihood's).
REPLAY_EVENTS = (
    {"date": "2019-04", "kind": "mine", "nation": "BTN"},
    {"date": "2021-09", "kind": "adopt", "nation": "SLV"},
)
#: (nation, month) of the holdings moments, with the parameter each informs.
MOMENTS = (("SLV", "2022-07"), ("SLV", "2024-03"), ("BTN", "2024-09"))
#: Log-scale sd of a holdings figure by the record's confidence.
CONFIDENCE_SD = {"high": 0.1, "medium": 0.25}


def observed_moments() -> pd.DataFrame:
    """The holdings moments from the panel's provenance (the curated holdings history)."""
    rows = load_provenance()["holdings_rows"]
    found = []
    for iso, month in MOMENTS:
        hit = [r for r in rows if r["iso3"] == iso and r["date"] == month and r["used"]]
        if not hit:
            raise ValueError(f"holdings history has no used row for {iso} {month}")
        r = hit[0]
        found.append(
            {
                "nation": iso,
                "month": month,
                "observed_btc": float(r["btc"]),
                "confidence": r["confidence"],
                "sd_log": CONFIDENCE_SD.get(r["confidence"], 0.5),
            }
        )
    return pd.DataFrame(found)


def replay_scenario(base: Scenario | None = None) -> Scenario:
    """The replay: the record from the end of 2019-03 with the observed starts imposed."""
    base = base or Scenario()
    steps = month_index(REPLAY_END) - month_index(REPLAY_START)
    over = history_overrides(REPLAY_START, steps, base)
    over.update({"rule.review_probability": 0.0, "output.nation_frame": True})
    sc = load_scenario(base, over)
    return sc.model_copy(update={"events": []}).with_overrides({"events": list(REPLAY_EVENTS)})


def simulate_moments(
    theta: dict[str, float], scenario: Scenario, seeds: list[int], moments: pd.DataFrame
) -> np.ndarray:
    """Mean simulated holdings at the moments over the replicate seeds (CRN).

    The replicates run together as ensembles (:func:`adoption_model.ensemble.run_ensemble`),
    each bit for bit its single run.
    """
    from adoption_model.ensemble import run_ensemble

    over = dict(theta)
    mine = [dict(e) for e in REPLAY_EVENTS]
    surplus = _surplus_at("BTN", "2019-04")
    for e in mine:  # a mining start allocates the calibrated share of its surplus
        if e["kind"] == "mine":
            e["mw"] = float(theta.get("mining.allocation_share", 1.0)) * surplus
    over["events"] = mine
    sc = scenario.with_overrides(over)
    out = np.zeros(len(moments))
    for result in run_ensemble(sc, [int(s) for s in seeds]):
        nf = result.nation_frame
        hold = nf.set_index(["nation", "date"])["holdings"]
        for k, (iso, month) in enumerate(zip(moments.nation, moments.month, strict=True)):
            out[k] += float(hold.get((iso, month), 0.0))
    return out / len(seeds)


def _surplus_at(iso: str, month: str) -> float:
    from adoption_model.calibration.panel import load_panel

    p = load_panel()
    row = p[(p.iso3 == iso) & (p.month == month)]
    return float(row["energy_surplus_mw"].iloc[0])


@dataclass
class SmmFit:
    """The calibrated flow parameters, their standard errors and the fit of the moments."""

    estimates: dict[str, float]
    se: dict[str, float]
    moments: pd.DataFrame
    objective: float
    evaluations: int
    converged: bool
    seconds: float
    replications: int
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        lo = {k: v[0] for k, v in PARAMETERS.items()}
        hi = {k: v[1] for k, v in PARAMETERS.items()}
        d = Scenario().to_dict()
        rows = []
        for k, v in self.estimates.items():
            sect, key = k.split(".")
            rows.append(
                {
                    "parameter": k,
                    "estimate": v,
                    "se": self.se.get(k, math.nan),
                    "default": float(d[sect][key]),
                    "low": lo[k],
                    "high": hi[k],
                    "method": "simulated method of moments",
                }
            )
        return pd.DataFrame(rows)


def _to_unit(x: float, lo: float, hi: float) -> float:
    u = (x - lo) / (hi - lo)
    u = min(max(u, 1e-6), 1 - 1e-6)
    return math.log(u / (1 - u))


def _from_unit(z: float, lo: float, hi: float) -> float:
    return lo + (hi - lo) / (1.0 + math.exp(-z))


def fit_smm(
    *,
    moments: pd.DataFrame | None = None,
    base: Scenario | None = None,
    replications: int = 2,
    seed: int = 0,
    start: dict[str, float] | None = None,
    maxiter: int = 60,
    progress: Callable[[int], None] | None = None,
) -> SmmFit:
    """Minimise the weighted log distance of simulated to observed holdings.

    ``moments`` (default :func:`observed_moments`) may be simulated ones (the recovery test).
    """
    t0 = time.perf_counter()
    moments = observed_moments() if moments is None else moments
    sc = replay_scenario(base)
    seeds = replicate_seeds(seed, replications)
    names = list(PARAMETERS)
    d = Scenario().to_dict()
    x0 = start or {k: float(d[k.split(".")[0]][k.split(".")[1]]) for k in names}
    z0 = np.array([_to_unit(x0[k], *PARAMETERS[k]) for k in names])
    obs = np.log(np.maximum(moments["observed_btc"].to_numpy(float), 1.0))
    w = 1.0 / moments["sd_log"].to_numpy(float) ** 2
    count = [0]

    def theta_of(z: np.ndarray) -> dict[str, float]:
        return {k: _from_unit(float(zi), *PARAMETERS[k]) for k, zi in zip(names, z, strict=True)}

    def sim_log(theta: dict[str, float]) -> np.ndarray:
        return np.log(np.maximum(simulate_moments(theta, sc, seeds, moments), 1.0))

    def objective(z: np.ndarray) -> float:
        count[0] += 1
        if progress is not None:
            progress(count[0])
        dev = sim_log(theta_of(z)) - obs
        return float((w * dev**2).sum())

    res = optimize.minimize(
        objective, z0, method="Nelder-Mead",
        options={"maxiter": maxiter, "xatol": 1e-3, "fatol": 1e-4},
    )  # fmt: skip
    est = theta_of(res.x)
    # delta-method standard errors from the Jacobian in the parameters' own scale
    base_sim = sim_log(est)
    jac = np.zeros((len(obs), len(names)))
    for j, k in enumerate(names):
        h = 0.02 * est[k]
        up = dict(est)
        up[k] = min(est[k] + h, PARAMETERS[k][1])
        jac[:, j] = (sim_log(up) - base_sim) / (up[k] - est[k])
    info = jac.T @ np.diag(w) @ jac
    se = {k: math.nan for k in names}
    if np.linalg.matrix_rank(info) == len(names):
        cov = np.linalg.inv(info)
        se = {k: float(math.sqrt(max(cov[j, j], 0.0))) for j, k in enumerate(names)}
    fitted = moments.copy()
    fitted["simulated_btc"] = np.exp(base_sim)
    fitted["log_deviation"] = base_sim - obs
    return SmmFit(
        estimates=est, se=se, moments=fitted, objective=float(res.fun),
        evaluations=count[0], converged=bool(res.success), seconds=time.perf_counter() - t0,
        replications=replications, seed=seed,
    )  # fmt: skip


def price_impact() -> dict[str, float]:
    """OLS of the monthly log return on net sovereign buying / free float (kappa).

    Flows are the dated sales of the record (``btc_amount`` of sell events, negative) and El
    Salvador's purchases (monthly differences of its holdings path); returns are the
    panel's lagged market series realigned to calendar months. ``kappa`` is the slope.
    """
    sc = Scenario()
    mk = market_by_month()
    prices = mk["btc_price_usd"]
    months = list(prices.index)
    # row m holds the close of m - 1: the return of calendar month m - 1 is row m / row m-1
    ret = pd.Series(
        np.log(prices.to_numpy()[1:] / prices.to_numpy()[:-1]),
        index=[_prev(m) for m in months[1:]],
    )
    flow = pd.Series(0.0, index=ret.index)
    for e in load_provenance()["events"]:
        amount = e.get("btc_amount")
        if e.get("action") == "sell" and amount is not None and np.isfinite(amount):
            if e["date"] in flow.index:
                flow[e["date"]] -= float(amount)
    slv = [r for r in load_provenance()["holdings_rows"] if r["iso3"] == "SLV" and r["used"]]
    for a, b in zip(slv[:-1], slv[1:], strict=True):
        if b["date"] in flow.index:
            flow[b["date"]] += float(b["btc"]) - float(a["btc"])
    x = flow.to_numpy() / sc.price.free_float_btc
    y = ret.to_numpy()
    X = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    s2 = float(resid @ resid) / (len(y) - 2)
    cov = s2 * np.linalg.inv(X.T @ X)
    return {
        "kappa": float(beta[1]),
        "kappa_se": float(math.sqrt(cov[1, 1])),
        "months": len(y),
        "months_with_flows": int((flow != 0).sum()),
        "default": float(sc.price.kappa),
    }


def _prev(month: str) -> str:
    y, m = map(int, month.split("-"))
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"
