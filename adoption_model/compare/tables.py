"""The comparison's tables, each a plain function of the stored runs.

Every number in the report comes from here, and every function here reads only the runs
the experiments store wrote (``runs``, ``steps``, ``adoptions``), so the report can be
recomputed from ``runs.parquet``. Intervals come from
:mod:`adoption_model.experiments.stats`: Wilson for shares of runs, percentile bootstrap for
the bounded outcomes (shares, counts, MW, BTC, months), each row naming its method in the
column ``interval``; the bootstrap of row (scenario, outcome) draws from
``row_rng(seed, kind, outcome)`` (the same resamples for every scenario: equal runs give
equal intervals).

References
----------
Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., McGraw-Hill, sections 9.4
(the number of replications needed for a given half-width) and 11.2 (common random
numbers and paired differences).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from adoption_model.experiments import stats
from adoption_model.scenario import Scenario
from adoption_model.world import month_index, month_name

#: Outcomes per run: column -> (label, kind, binary). ``kind`` picks the number format;
#: binary outcomes (0/1 per run) get Wilson intervals, the others (all bounded: shares in
#: [0, 1], counts, MW, BTC and months are >= 0) percentile-bootstrap intervals.
OUTCOMES: dict[str, tuple[str, str]] = {
    "adoption_share": ("Adoption share at horizon (count)", "share"),
    "gdp_share": ("Adoption share at horizon (GDP-weighted)", "share"),
    "btc_sovereign": ("Sovereign BTC held at horizon", "btc"),
    "n_miners": ("Mining nations at horizon", "count"),
    "mining_mw": ("MW mining at horizon", "mw"),
    "time_to_25pct": ("Months to 25% adoption (runs reaching it)", "months"),
    "time_to_50pct": ("Months to 50% adoption (runs reaching it)", "months"),
    "reached_25pct": ("Share of runs reaching 25% adoption", "share"),
    "reached_50pct": ("Share of runs reaching 50% adoption", "share"),
}

#: The binary outcomes (a share of runs).
BINARY = frozenset({"reached_25pct", "reached_50pct"})

#: Trajectory variables kept per run and step.
TRAJECTORY_COLUMNS = ("adoption_share", "gdp_weighted_share", "btc_sovereign")

#: Quantiles of the fan charts (median, 50% and 90% bands).
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def level_method(outcome: str) -> str:
    """The interval of an outcome's mean: Wilson for shares of runs, else bootstrap."""
    return stats.method_for(binary=outcome in BINARY, bounded=True)


def _interval(x: np.ndarray, method: str, seed: int, *keys: str) -> stats.Interval:
    return stats.interval(x, method, rng=stats.row_rng(seed, *keys))


def outcome_table(runs: pd.DataFrame, labels: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """Per scenario and outcome: mean with its 95% interval, and the spread of the runs.

    ``ci_low``/``ci_high`` is the 95% interval of the mean across replicates, by the method
    in ``interval`` (Wilson or percentile bootstrap, so it stays in the outcome's range);
    ``p2_5``/``median``/``p97_5`` describe single runs. For the times to 25% and 50%
    adoption only the runs that reach the level count (``n``), and ``share_reaching`` is
    ``n`` over the replications.
    """
    rows = []
    for label in labels:
        sub = runs[runs["scenario"] == label]
        reps = len(sub)
        for key, (text, kind) in OUTCOMES.items():
            x = sub[key].to_numpy(dtype=float)
            iv = _interval(x, level_method(key), seed, "level", key)
            q_lo, q_med, q_hi = stats.quantiles(x)
            rows.append(
                {
                    "scenario": label, "outcome": key, "label": text, "kind": kind,
                    "replications": reps, "n": iv.n, "mean": iv.mean, "sd": iv.sd,
                    "ci_low": iv.low, "ci_high": iv.high, "interval": iv.method,
                    "p2_5": q_lo, "median": q_med, "p97_5": q_hi,
                    "share_reaching": iv.n / reps if key.startswith("time_to") else math.nan,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def _paired(runs: pd.DataFrame, label: str, ref: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    a = runs[runs["scenario"] == label].sort_values("replicate")[key].to_numpy(dtype=float)
    b = runs[runs["scenario"] == ref].sort_values("replicate")[key].to_numpy(dtype=float)
    return a, a - b


def paired_differences(runs: pd.DataFrame, labels: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """Paired differences ``scenario - reference`` per replicate (the reference is first).

    Replicate ``r`` of every scenario ran with the same seed, so the difference is taken
    within the replicate and its interval (Law 2015, section 11.2) is usually much narrower
    than those of the two means. The interval is a percentile bootstrap of the mean paired
    difference, so it stays within the differences observed (inside [-1, 1] for shares).
    Times to 25%/50% are paired over the replicates in which both scenarios reach the level.
    A scenario against itself gives exactly zero.
    """
    rows = []
    for label in labels:
        for key, (text, kind) in OUTCOMES.items():
            _, d = _paired(runs, label, labels[0], key)
            iv = _interval(d, "bootstrap", seed, "difference", key)
            dd = d[~np.isnan(d)]
            rows.append(
                {
                    "scenario": label, "reference": labels[0], "outcome": key, "label": text,
                    "kind": kind, "n_pairs": iv.n, "mean_difference": iv.mean, "sd": iv.sd,
                    "ci_low": iv.low, "ci_high": iv.high, "interval": iv.method,
                    "share_positive": float(np.mean(dd > 0)) if len(dd) else math.nan,
                    "share_negative": float(np.mean(dd < 0)) if len(dd) else math.nan,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def trajectories(
    runs: pd.DataFrame, steps: pd.DataFrame, scenarios: Sequence[Scenario], labels: Sequence[str]
) -> pd.DataFrame:
    """One row per scenario, replicate and step, forward-filled to the scenario's horizon.

    Deterministic rules stop early when nothing can change; their last state holds to the
    horizon. ``runs`` maps the store's ``run_id`` to ``scenario`` (label) and ``replicate``.
    """
    parts = []
    cols = list(TRAJECTORY_COLUMNS)
    for sc, label in zip(scenarios, labels, strict=True):
        ids = runs.loc[runs["scenario"] == label].sort_values("replicate")
        horizon = int(sc.steps)
        full = pd.MultiIndex.from_product(
            [ids["run_id"].to_numpy(), np.arange(horizon + 1)], names=["run_id", "step"]
        )
        mine = steps[steps["run_id"].isin(ids["run_id"])].set_index(["run_id", "step"])[cols]
        filled = mine.reindex(full).groupby(level="run_id").ffill().reset_index()
        start = month_index(sc.start)
        dates = np.asarray([month_name(start + s) for s in range(horizon + 1)])
        replicate = dict(zip(ids["run_id"], ids["replicate"], strict=True))
        parts.append(
            pd.DataFrame(
                {
                    "scenario": label,
                    "replicate": filled["run_id"].map(replicate).astype(np.int64),
                    "step": filled["step"].astype(np.int64),
                    "date": dates[filled["step"].to_numpy()],
                    **{c: filled[c].to_numpy(dtype=float) for c in cols},
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def fan_table(trajectories: pd.DataFrame) -> pd.DataFrame:
    """Quantiles across replicates per scenario, step and variable (the fan charts' data)."""
    rows = []
    for (label, step), g in trajectories.groupby(["scenario", "step"], sort=False):
        for var in TRAJECTORY_COLUMNS:
            q = np.quantile(g[var].to_numpy(dtype=float), FAN_QUANTILES)
            rows.append(
                {
                    "scenario": label,
                    "step": int(step),
                    "date": g["date"].iloc[0],
                    "variable": var,
                    **{
                        f"q{int(round(p * 100)):02d}": float(v)
                        for p, v in zip(FAN_QUANTILES, q, strict=True)
                    },
                }
            )
    return pd.DataFrame(rows)


def convergence_tables(
    runs: pd.DataFrame, labels: Sequence[str], differences: pd.DataFrame, outcomes: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convergence aid: running statistics against replications, and advice per outcome.

    Returns ``(curve, advice)``. ``curve`` has, per scenario, outcome and ``n = 2..R``, the
    running mean of the first ``n`` replicates and the half-width of its 95% t-interval
    (``interval = "t"``: the normal-theory half-width that shrinks as ``1 / sqrt(n)``, a
    planning aid for how fast the estimate settles, not a reported interval), for the level
    and the paired difference against the reference (``kind`` ``level`` or
    ``difference``). ``advice`` has one row per compared scenario and outcome: the paired
    difference and the half-width of its reported interval (from ``differences``), whether
    the interval is still wide (half-width above half the difference, so it does not
    clearly exclude zero) and the suggested number of replications for a half-width of
    half the difference, ``n * (width / target)^2`` (Law 2015, section 9.4.1).
    """
    curve_rows = []
    advice_rows = []
    diff = differences.set_index(["scenario", "outcome"])
    level = outcomes.set_index(["scenario", "outcome"])
    for label in labels:
        for key in OUTCOMES:
            x, d = _paired(runs, label, labels[0], key)
            for kind, series in (("level", x), ("difference", d)):
                if kind == "difference" and label == labels[0]:
                    continue
                for n in range(2, len(series) + 1):
                    iv = stats.t_interval(series[:n])
                    curve_rows.append(
                        {
                            "scenario": label, "outcome": key, "kind": kind,
                            "replications": n, "n": iv.n, "running_mean": iv.mean,
                            "ci_halfwidth": iv.halfwidth if iv.n >= 2 else math.nan,
                            "interval": "t",
                        }
                    )  # fmt: skip
            if label == labels[0] and len(labels) > 1:
                continue
            n_now = len(d)
            row = diff.loc[(label, key)]
            k, mean = int(row["n_pairs"]), float(row["mean_difference"])
            half = (row["ci_high"] - row["ci_low"]) / 2 if k >= 2 else math.nan
            lvl = level.loc[(label, key)]
            target = abs(mean) / 2 if k else math.nan
            if k < 2:
                wide, suggest, note = True, math.nan, "fewer than two paired values"
            elif half == 0.0 and mean == 0.0:
                wide, suggest, note = False, float(n_now), "no difference in any replicate"
            elif mean == 0.0:
                wide, suggest, note = True, math.nan, "mean difference is zero: no finite target"
            else:
                suggest = float(max(2, math.ceil(n_now * (half / target) ** 2)))
                wide = half > target
                note = (
                    f"interval still wide: about {int(suggest)} replications would make the "
                    "half-width half the difference"
                    if wide
                    else "interval clearly excludes zero"
                )
            advice_rows.append(
                {
                    "scenario": label, "reference": labels[0], "outcome": key,
                    "replications": n_now, "n_pairs": k, "mean_difference": mean,
                    "difference_ci_halfwidth": half, "interval": row["interval"],
                    "level_ci_halfwidth": (lvl["ci_high"] - lvl["ci_low"]) / 2,
                    "target_halfwidth": target, "wide": bool(wide),
                    "suggested_replications": suggest, "note": note,
                }
            )  # fmt: skip
    return pd.DataFrame(curve_rows), pd.DataFrame(advice_rows)


def nation_tables(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    runs: pd.DataFrame,
    adoptions: pd.DataFrame,
    names: dict[str, str],
    top: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-nation adoption probabilities and the first-adoption dates of the likeliest.

    ``adoption_probability``: per scenario and nation, the share of replicates in which the
    nation had adopted (reserve or mining) by the horizon (``p_adopted``: ever, at or before
    the horizon; ``p_new``: after the start, i.e. not a starting adopter; ``p_holding``: still
    holding a reserve or mining at the horizon). ``first_adoption``: per scenario, the
    ``top`` nations by ``p_new`` with the 10th, 50th and 90th percentiles of their
    first-adoption month across the replicates in which they adopted. ``adoptions`` is the
    store's adoptions part (run_id, nation, first_step, held).
    """
    prob_rows, first_rows = [], []
    for sc, label in zip(scenarios, labels, strict=True):
        ids = runs.loc[runs["scenario"] == label, "run_id"]
        R = len(ids)
        start = month_index(sc.start)
        mine = adoptions[adoptions["run_id"].isin(ids)]
        ever = mine.groupby("nation")["run_id"].nunique().to_dict()
        holding = mine[mine["held"]].groupby("nation")["run_id"].nunique().to_dict()
        new: dict[str, list[int]] = {}
        for nation, step in zip(mine["nation"], mine["first_step"], strict=True):
            if step > 0:
                new.setdefault(str(nation), []).append(int(step))
        universe = (
            list(names)
            if sc.network.kind == "real" and names
            else sorted(ever, key=lambda s: (len(s), s))
        )
        for nation in universe:
            prob_rows.append(
                {
                    "scenario": label,
                    "nation": nation,
                    "name": names.get(nation, f"node {nation}"),
                    "replications": R,
                    "p_adopted": ever.get(nation, 0) / R,
                    "p_new": len(new.get(nation, [])) / R,
                    "p_holding": holding.get(nation, 0) / R,
                }
            )
        ranked = sorted(new.items(), key=lambda kv: (-len(kv[1]), float(np.median(kv[1])), kv[0]))
        for rank, (nation, steps_) in enumerate(ranked[:top], start=1):
            s = np.asarray(steps_, dtype=float)
            q10, q50, q90 = np.quantile(s, [0.1, 0.5, 0.9])
            first_rows.append(
                {
                    "scenario": label,
                    "rank": rank,
                    "nation": nation,
                    "name": names.get(nation, f"node {nation}"),
                    "p_new": len(steps_) / R,
                    "n_adopted": len(steps_),
                    "step_p10": float(q10),
                    "step_median": float(q50),
                    "step_p90": float(q90),
                    "date_p10": month_name(start + int(math.floor(q10))),
                    "date_median": month_name(start + int(math.floor(q50))),
                    "date_p90": month_name(start + int(math.floor(q90))),
                    "steps": " ".join(str(int(v)) for v in sorted(steps_)),
                }
            )
    cols = [
        "scenario", "rank", "nation", "name", "p_new", "n_adopted", "step_p10", "step_median",
        "step_p90", "date_p10", "date_median", "date_p90", "steps",
    ]  # fmt: skip
    return pd.DataFrame(prob_rows), pd.DataFrame(first_rows, columns=cols)
