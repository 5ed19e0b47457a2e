"""Run scenarios with common random numbers and summarise them in tables.

The pipeline is the one the rest of the package follows: a design (the scenarios and the
replicate seeds), a runner (:func:`run_replicates`, in this process or a spawn-context
process pool), a store (:attr:`Comparison.runs` and :attr:`Comparison.trajectories`, one row
per run and per run-step) and an analysis (every other table is computed from the store by a
plain function of it, so the numbers in the report can be recomputed from ``runs.parquet``).

References
----------
Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., McGraw-Hill, sections 9.4
(confidence intervals across replications, and the number of replications needed for a
given half-width) and 11.2 (common random numbers and paired-t intervals).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from adoption_model.errors import InputError
from adoption_model.scenario import Scenario, load_scenario
from adoption_model.seeds import replicate_seeds
from adoption_model.world import month_index, month_name

#: Outcomes per run: column -> (label, kind). ``kind`` picks the number format.
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

#: Trajectory variables kept per run and step.
TRAJECTORY_COLUMNS = ("adoption_share", "gdp_weighted_share", "btc_sovereign")

#: Quantiles of the fan charts (median, 50% and 90% bands).
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

ADOPTED_STATES = ("reserve", "mining", "both")


# ---------------------------------------------------------------------------- one run
def _run_task(task: tuple[int, int, int, dict[str, Any]]) -> dict[str, Any]:
    """Run one scenario replicate and reduce it to what the comparison needs.

    A top-level function so that a spawn-context process pool can pickle it. The scenario
    travels as its plain dict and is validated again in the worker.
    """
    from adoption_model.runner import run

    index, replicate, seed, scenario = task
    sc = load_scenario(scenario)
    result = run(sc, seed=seed)
    return {"index": index, "replicate": replicate, "seed": seed, **reduce_run(result)}


def reduce_run(result: Any) -> dict[str, Any]:
    """Outcomes, trajectories and per-nation adoption of one :class:`RunResult`.

    Deterministic rules stop early when nothing can change; the trajectory is forward-filled
    to the scenario's horizon (``scenario.steps``) and the outcomes are read at the horizon.
    """
    sc: Scenario = result.scenario
    frame = result.model_frame
    horizon = int(sc.steps)
    steps = np.arange(horizon + 1)
    filled = frame.set_index("step").reindex(steps).ffill()
    last = filled.iloc[-1]
    share = frame["adoption_share"].to_numpy()

    def time_to(level: float) -> float:
        hit = np.flatnonzero(share >= level)
        return float(frame["step"].iloc[hit[0]]) if len(hit) else math.nan

    t25, t50 = time_to(0.25), time_to(0.50)
    outcomes = {
        "adoption_share": float(last["adoption_share"]),
        "gdp_share": float(last["gdp_weighted_share"]),
        "btc_sovereign": float(last["btc_sovereign"]),
        "n_miners": float(last["n_miners"]),
        "mining_mw": float(last["mining_mw"]),
        "time_to_25pct": t25,
        "time_to_50pct": t50,
        "reached_25pct": float(not math.isnan(t25)),
        "reached_50pct": float(not math.isnan(t50)),
    }
    first = result.first_adoptions
    held: list[str] | None = None
    nf = result.nation_frame
    if nf is not None:
        final = nf[nf["step"] == nf["step"].max()]
        held = final.loc[final["state"].astype(str).isin(ADOPTED_STATES), "nation"].tolist()
    return {
        "outcomes": outcomes,
        "steps_run": int(frame["step"].iloc[-1]),
        "stopped_early": bool(result.summary.get("stopped_early", False)),
        "trajectory": {c: filled[c].to_numpy(dtype=float) for c in TRAJECTORY_COLUMNS},
        "first_nation": first["nation"].astype(str).tolist(),
        "first_step": first["step"].astype(int).tolist(),
        "held": held,
    }


def run_replicates(
    scenarios: Sequence[Scenario],
    seeds: Sequence[int],
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[dict[str, Any]]]:
    """Run every scenario with every seed; ``out[i][r]`` is scenario ``i``, replicate ``r``.

    With ``workers > 1`` the runs go to a ``ProcessPoolExecutor`` with the spawn start
    method (safe with threads and on every platform); results are placed by index, so the
    output does not depend on which run finishes first.
    """
    tasks = [
        (i, r, int(s), sc.to_dict()) for i, sc in enumerate(scenarios) for r, s in enumerate(seeds)
    ]
    out: list[list[dict[str, Any]]] = [[{} for _ in seeds] for _ in scenarios]
    total, done = len(tasks), 0
    if workers <= 1:
        for task in tasks:
            res = _run_task(task)
            out[res["index"]][res["replicate"]] = res
            done += 1
            if progress is not None:
                progress(done, total)
        return out
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_task, t) for t in tasks]
        for fut in as_completed(futures):
            res = fut.result()
            out[res["index"]][res["replicate"]] = res
            done += 1
            if progress is not None:
                progress(done, total)
    return out


# ---------------------------------------------------------------------------- statistics
def t_interval(values: np.ndarray) -> tuple[int, float, float, float, float]:
    """``(n, mean, sd, low, high)``: the 95% Student-t interval of the mean of ``values``.

    NaN values are dropped; with fewer than two values the interval is NaN. An all-equal
    sample has ``sd = 0`` and the interval collapses exactly onto the mean.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(np.mean(x))
    if n < 2:
        return n, mean, math.nan, math.nan, math.nan
    sd = float(np.std(x, ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    if not len(x):
        return math.nan, math.nan, math.nan
    q = np.quantile(x, [0.025, 0.5, 0.975])
    return float(q[0]), float(q[1]), float(q[2])


def outcome_table(runs: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per scenario and outcome: mean with its 95% interval, and the spread of the runs.

    ``ci_low``/``ci_high`` are the 95% t-interval of the mean across replicates;
    ``p2_5``/``median``/``p97_5`` describe the distribution of single runs. For the times to
    25% and 50% adoption only the runs that reach the level count (``n``), and
    ``share_reaching`` is ``n`` over the replications.
    """
    rows = []
    for label in labels:
        sub = runs[runs["scenario"] == label]
        reps = len(sub)
        for key, (text, kind) in OUTCOMES.items():
            x = sub[key].to_numpy(dtype=float)
            n, mean, sd, low, high = t_interval(x)
            q_lo, q_med, q_hi = _quantiles(x)
            rows.append(
                {
                    "scenario": label,
                    "outcome": key,
                    "label": text,
                    "kind": kind,
                    "replications": reps,
                    "n": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": low,
                    "ci_high": high,
                    "p2_5": q_lo,
                    "median": q_med,
                    "p97_5": q_hi,
                    "share_reaching": n / reps if key.startswith("time_to") else math.nan,
                }
            )
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Paired differences ``scenario - reference`` per replicate (the reference is first).

    Replicate ``r`` of every scenario ran with the same seed, so the difference is taken
    within the replicate and its 95% paired-t interval (Law 2015, section 11.2) is usually
    much narrower than the intervals of the two means. Times to 25%/50% are paired over the
    replicates in which both scenarios reach the level. A scenario against itself gives
    exactly zero.
    """
    ref = runs[runs["scenario"] == labels[0]].set_index("replicate").sort_index()
    rows = []
    for label in labels:
        sub = runs[runs["scenario"] == label].set_index("replicate").sort_index()
        for key, (text, kind) in OUTCOMES.items():
            d = sub[key].to_numpy(dtype=float) - ref[key].to_numpy(dtype=float)
            n, mean, sd, low, high = t_interval(d)
            dd = d[~np.isnan(d)]
            rows.append(
                {
                    "scenario": label,
                    "reference": labels[0],
                    "outcome": key,
                    "label": text,
                    "kind": kind,
                    "n_pairs": n,
                    "mean_difference": mean,
                    "sd": sd,
                    "ci_low": low,
                    "ci_high": high,
                    "share_positive": float(np.mean(dd > 0)) if len(dd) else math.nan,
                    "share_negative": float(np.mean(dd < 0)) if len(dd) else math.nan,
                }
            )
    return pd.DataFrame(rows)


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
    runs: pd.DataFrame, labels: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convergence aid: running statistics against replications, and advice per outcome.

    Returns ``(curve, advice)``. ``curve`` has, per scenario, outcome and ``n = 2..R``, the
    running mean of the first ``n`` replicates and the half-width of its 95% interval, and
    the same for the paired difference against the reference (``kind`` ``level`` or
    ``difference``). ``advice`` has one row per compared scenario and outcome: the paired
    difference, its half-width, whether the interval is still wide (half-width above half the
    difference, so the interval does not clearly exclude zero) and the suggested number of
    replications for a half-width of half the difference, ``n * (width / target)^2``
    (Law 2015, section 9.4.1), since the half-width shrinks as ``1 / sqrt(n)``.
    """
    ref = runs[runs["scenario"] == labels[0]].set_index("replicate").sort_index()
    curve_rows = []
    advice_rows = []
    for label in labels:
        sub = runs[runs["scenario"] == label].set_index("replicate").sort_index()
        for key in OUTCOMES:
            x = sub[key].to_numpy(dtype=float)
            d = x - ref[key].to_numpy(dtype=float)
            for kind, series in (("level", x), ("difference", d)):
                if kind == "difference" and label == labels[0]:
                    continue
                for n in range(2, len(series) + 1):
                    k, mean, _, low, high = t_interval(series[:n])
                    curve_rows.append(
                        {
                            "scenario": label,
                            "outcome": key,
                            "kind": kind,
                            "replications": n,
                            "n": k,
                            "running_mean": mean,
                            "ci_halfwidth": (high - low) / 2 if k >= 2 else math.nan,
                        }
                    )
            if label == labels[0] and len(labels) > 1:
                continue
            n_now = len(d)
            k, mean, _, low, high = t_interval(d)
            half = (high - low) / 2 if k >= 2 else math.nan
            _, _, _, lvl_low, lvl_high = t_interval(x)
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
                    "scenario": label,
                    "reference": labels[0],
                    "outcome": key,
                    "replications": n_now,
                    "n_pairs": k,
                    "mean_difference": mean,
                    "difference_ci_halfwidth": half,
                    "level_ci_halfwidth": (lvl_high - lvl_low) / 2,
                    "target_halfwidth": target,
                    "wide": bool(wide),
                    "suggested_replications": suggest,
                    "note": note,
                }
            )
    return pd.DataFrame(curve_rows), pd.DataFrame(advice_rows)


# ---------------------------------------------------------------------------- assumptions
def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested dict; lists of scalars stay values, lists of tables are JSON."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    out[prefix.rstrip(".")] = data
    return out


def describe_event(ev: dict[str, Any]) -> str:
    """One readable line for a scenario event (``2026-01 buy USA: btc=1000000, months=60``)."""
    who = [ev["nation"]] if "nation" in ev else []
    who += list(ev.get("nations", []))
    skip = {"date", "kind", "name", "nation", "nations"}
    params = ", ".join(f"{k}={_short(v)}" for k, v in ev.items() if k not in skip)
    target = f" {' '.join(str(w) for w in who)}" if who else ""
    return f"{ev['date']} {ev['kind']}{target}" + (f": {params}" if params else "")


def _short(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def assumptions_table(scenarios: Sequence[Scenario], labels: Sequence[str]) -> pd.DataFrame:
    """Every parameter whose value differs between the scenarios, side by side.

    Values come from ``Scenario.to_dict()`` flattened to dotted keys (so defaults count);
    events are listed one per line. ``notes`` joins each scenario's ``[assumptions]`` entry
    for that key (``events[i]`` entries go with ``events``).
    """
    flat = []
    for sc in scenarios:
        d = sc.to_dict()
        for k in ("name", "description", "assumptions", "seed"):
            d.pop(k, None)
        events = d.pop("events", [])
        f = {k: _value_text(v) for k, v in flatten(d).items()}
        f["events"] = "; ".join(describe_event(e) for e in events) or "(none)"
        flat.append(f)
    keys = sorted(set().union(*flat), key=lambda k: (k == "events", k))
    rows = []
    for key in keys:
        values = [f.get(key, "") for f in flat]
        if len(set(values)) <= 1:
            continue
        notes = []
        for sc, label in zip(scenarios, labels, strict=True):
            for akey, text in sc.assumptions.items():
                if akey == key or (key == "events" and akey.startswith("events")):
                    notes.append(
                        f"{label} ({akey}): {text}" if key == "events" else f"{label}: {text}"
                    )
        rows.append(
            {"parameter": key, **dict(zip(labels, values, strict=True)), "notes": " | ".join(notes)}
        )
    columns = ["parameter", *labels, "notes"]
    return pd.DataFrame(rows, columns=columns)


def _value_text(v: Any) -> str:
    if isinstance(v, list):
        return json.dumps(v)
    return _short(v)


# ---------------------------------------------------------------------------- the result
@dataclass
class Comparison:
    """A finished comparison: the stored runs and every table derived from them.

    Attributes
    ----------
    scenarios : list of Scenario
        The resolved scenarios (after any ``steps`` override), in the order given; the first
        is the reference of the paired differences.
    labels : list of str
        Unique display names (a scenario given twice gets ``#2``).
    seed, replications : int
        The comparison seed and the number of replicates.
    seeds : list of int
        The replicate seeds (``replicate_seeds(seed, replications)``), the same for every
        scenario (common random numbers).
    runs : DataFrame
        One row per scenario and replicate: seed, scenario digest and every outcome.
    trajectories : DataFrame
        One row per scenario, replicate and step (forward-filled to the horizon).
    outcomes, differences, fan, adoption_probability, first_adoption, assumptions,
    convergence, convergence_curve : DataFrame
        The report's tables (see the functions of this module).
    """

    scenarios: list[Scenario]
    labels: list[str]
    seed: int
    replications: int
    seeds: list[int]
    runs: pd.DataFrame
    trajectories: pd.DataFrame
    outcomes: pd.DataFrame
    differences: pd.DataFrame
    fan: pd.DataFrame
    adoption_probability: pd.DataFrame
    first_adoption: pd.DataFrame
    assumptions: pd.DataFrame
    convergence: pd.DataFrame
    convergence_curve: pd.DataFrame
    workers: int = 1
    started: str = ""
    finished: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    #: Tables written by :meth:`save`, as ``name.csv`` and ``name.parquet``.
    TABLES = (
        "outcomes",
        "differences",
        "trajectories",
        "fan",
        "adoption_probability",
        "first_adoption",
        "assumptions",
        "convergence",
        "convergence_curve",
    )

    def provenance(self) -> dict[str, Any]:
        """Versions, git commit, seeds, scenario digests and timestamps of the comparison."""
        from adoption_model.runner import provenance_record

        return provenance_record(
            kind="comparison",
            seed=self.seed,
            replications=self.replications,
            replicate_seeds=list(self.seeds),
            workers=self.workers,
            scenarios=[
                {"label": lab, "name": sc.name, "digest": sc.digest(), "steps": sc.steps}
                for lab, sc in zip(self.labels, self.scenarios, strict=True)
            ],
            started=self.started,
            finished=self.finished,
        )

    def to_html(self, path: str | Path | None = None) -> str:
        """The self-contained HTML report (inline CSS and PNG charts); written if ``path``."""
        from adoption_model.compare.report import render_html

        text = render_html(self)
        if path is not None:
            _write_text(Path(path), text)
        return text

    def to_markdown(self, path: str | Path | None = None) -> str:
        """The report as Markdown (tables only, charts in the HTML); written if ``path``."""
        from adoption_model.compare.report import render_markdown

        text = render_markdown(self)
        if path is not None:
            _write_text(Path(path), text)
        return text

    def save(self, directory: str | Path) -> Path:
        """Write every table (CSV and Parquet), ``runs.parquet``/``runs.csv``,
        ``provenance.json``, ``report.html`` and ``report.md`` into ``directory``.

        Each file is written under a temporary name beside its target and renamed into place.
        """
        from adoption_model.fileio import atomic_text, atomic_write, make_output_dir

        out = make_output_dir(directory)
        html = self.to_html()
        md = self.to_markdown()
        for name in ("runs", *self.TABLES):
            df = getattr(self, name)
            atomic_write(out / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False))
            atomic_write(out / f"{name}.csv", lambda p, df=df: df.to_csv(p, index=False))
        atomic_text(out / "provenance.json", json.dumps(self.provenance(), indent=2))
        atomic_text(out / "report.md", md)
        atomic_text(out / "report.html", html)
        return out

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"Comparison({self.labels}, replications={self.replications}, seed={self.seed})"


def _write_text(path: Path, text: str) -> None:
    from adoption_model.fileio import atomic_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_text(path, text)


# ---------------------------------------------------------------------------- the API
def resolve_scenarios(
    scenarios: Sequence[str | Path | Scenario], steps: int | None = None
) -> tuple[list[Scenario], list[str]]:
    """Load every scenario (InputError on the first bad one) and give them unique labels."""
    overrides = {"steps": steps} if steps is not None else None
    loaded = [load_scenario(s, overrides) for s in scenarios]
    labels: list[str] = []
    for sc in loaded:
        label, k = sc.name, 2
        while label in labels:
            label, k = f"{sc.name}#{k}", k + 1
        labels.append(label)
    return loaded, labels


def compare(
    scenarios: Sequence[str | Path | Scenario],
    replications: int = 20,
    seed: int = 0,
    *,
    steps: int | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run scenarios side by side with common random numbers and summarise them.

    Parameters
    ----------
    scenarios : list of str, Path or Scenario
        Two or more bundled scenario names, TOML paths or scenarios; the first is the
        reference for the paired differences.
    replications : int, default 20
        Replicates per scenario (at least 2).
    seed : int, default 0
        The comparison seed; replicate ``r`` of every scenario runs with
        ``replicate_seeds(seed, replications)[r]``, whatever ``scenario.seed`` says.
    steps : int, optional
        Override every scenario's horizon (months), e.g. for a quick look.
    workers : int, default 1
        Processes; more than 1 runs replicates in a spawn-context process pool. The numbers
        do not depend on it.
    progress : callable, optional
        ``progress(done, total)`` after each run.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        Fewer than two scenarios, fewer than two replications, an unknown scenario (with
        suggestions) or an invalid scenario file; raised before anything runs.

    Examples
    --------
    >>> c = compare(["baseline", "contagion_off"], replications=2, steps=3)
    >>> float(c.differences.query("scenario == 'baseline'")["mean_difference"].abs().max())
    0.0
    """
    if isinstance(scenarios, str | Path | Scenario):
        scenarios = [scenarios]
    if len(scenarios) < 2:
        raise InputError(
            f"compare needs at least two scenarios (got {len(scenarios)}); the first is the "
            "reference, e.g. adoption-model compare baseline us_reserve_expansion"
        )
    if int(replications) < 2:
        raise InputError(
            f"--replications {replications}: need at least 2 for an interval; 20 is the default"
        )
    if int(workers) < 1:
        raise InputError(f"--workers {workers}: must be at least 1")
    if steps is not None and int(steps) < 0:
        raise InputError(f"--steps {steps}: must be 0 or more months")
    loaded, labels = resolve_scenarios(scenarios, steps)
    seeds = replicate_seeds(int(seed), int(replications))
    started = _now()
    results = run_replicates(loaded, seeds, workers=int(workers), progress=progress)
    finished = _now()
    return build_comparison(
        loaded,
        labels,
        int(seed),
        seeds,
        results,
        workers=int(workers),
        started=started,
        finished=finished,
    )


def build_comparison(
    scenarios: list[Scenario],
    labels: list[str],
    seed: int,
    seeds: list[int],
    results: list[list[dict[str, Any]]],
    *,
    workers: int = 1,
    started: str = "",
    finished: str = "",
) -> Comparison:
    """Assemble the store (runs, trajectories) and derive every table from it."""
    from adoption_model.nations import load_nations

    run_rows, traj_parts = [], []
    for i, (sc, label) in enumerate(zip(scenarios, labels, strict=True)):
        start = month_index(sc.start)
        dates = np.asarray([month_name(start + s) for s in range(sc.steps + 1)])
        for r, res in enumerate(results[i]):
            run_rows.append(
                {
                    "scenario": label,
                    "scenario_name": sc.name,
                    "scenario_index": i,
                    "scenario_digest": sc.digest(),
                    "replicate": r,
                    "seed": int(res["seed"]),
                    "steps": int(sc.steps),
                    "steps_run": res["steps_run"],
                    "stopped_early": res["stopped_early"],
                    **res["outcomes"],
                }
            )
            traj = pd.DataFrame(
                {
                    "scenario": label,
                    "replicate": r,
                    "step": np.arange(sc.steps + 1),
                    "date": dates,
                    **res["trajectory"],
                }
            )
            traj_parts.append(traj)
    runs = pd.DataFrame(run_rows)
    trajectories = pd.concat(traj_parts, ignore_index=True)
    names = _nation_names(scenarios, load_nations)
    adoption, first = nation_tables(scenarios, labels, results, names)
    curve, advice = convergence_tables(runs, labels)
    return Comparison(
        scenarios=list(scenarios),
        labels=list(labels),
        seed=seed,
        replications=len(seeds),
        seeds=list(seeds),
        runs=runs,
        trajectories=trajectories,
        outcomes=outcome_table(runs, labels),
        differences=paired_differences(runs, labels),
        fan=fan_table(trajectories),
        adoption_probability=adoption,
        first_adoption=first,
        assumptions=assumptions_table(scenarios, labels),
        convergence=advice,
        convergence_curve=curve,
        workers=workers,
        started=started,
        finished=finished,
    )


def _nation_names(scenarios: Sequence[Scenario], load: Callable[[], pd.DataFrame]) -> dict:
    if not any(sc.network.kind == "real" for sc in scenarios):
        return {}
    table = load()
    return dict(zip(table["iso3"].astype(str), table["name"].astype(str), strict=True))


def nation_tables(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    results: list[list[dict[str, Any]]],
    names: dict[str, str],
    top: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-nation adoption probabilities and the first-adoption dates of the likeliest.

    ``adoption_probability``: per scenario and nation, the share of replicates in which the
    nation had adopted (reserve or mining) by the horizon (``p_adopted``: ever, at or before
    the horizon; ``p_new``: after the start, i.e. not a starting adopter; ``p_holding``: still
    holding a reserve or mining at the horizon, where per-nation data was kept).
    ``first_adoption``: per scenario, the ``top`` nations by ``p_new`` with the 10th, 50th and
    90th percentiles of their first-adoption month across the replicates in which they
    adopted.
    """
    prob_rows, first_rows = [], []
    for i, (sc, label) in enumerate(zip(scenarios, labels, strict=True)):
        reps = results[i]
        R = len(reps)
        start = month_index(sc.start)
        ever: dict[str, int] = {}
        new: dict[str, list[int]] = {}
        holding: dict[str, int] = {}
        kept = all(res["held"] is not None for res in reps)
        for res in reps:
            for nation, step in zip(res["first_nation"], res["first_step"], strict=True):
                ever[nation] = ever.get(nation, 0) + 1
                if step > 0:
                    new.setdefault(nation, []).append(step)
            for nation in res["held"] or []:
                holding[nation] = holding.get(nation, 0) + 1
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
                    "p_holding": holding.get(nation, 0) / R if kept else math.nan,
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
        "scenario",
        "rank",
        "nation",
        "name",
        "p_new",
        "n_adopted",
        "step_p10",
        "step_median",
        "step_p90",
        "date_p10",
        "date_median",
        "date_p90",
        "steps",
    ]
    return pd.DataFrame(prob_rows), pd.DataFrame(first_rows, columns=cols)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
