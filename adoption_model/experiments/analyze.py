"""Analysis: what an experiment's runs mean.

* every design: per-point means of each outcome with 95% intervals across replicates
  (:func:`point_means`; percentile bootstrap for bounded outcomes, t otherwise, from
  :mod:`adoption_model.experiments.stats`);
* Sobol' designs: first-order and total indices with bootstrap confidence intervals
  (:func:`sobol_indices`, SALib's ``sobol.analyze``) on the per-point replicate means;
* Morris designs: mu, mu* (with interval) and sigma of the elementary effects
  (:func:`morris_indices`, SALib's ``morris.analyze``), in outcome units per full factor
  range.

:func:`analyze` reads a results directory and writes ``analysis/*.csv``, a PNG chart per
analysis and ``analysis/report.html`` (tables and inline SVG charts, no network needed).

References
----------
Saltelli, A. et al. (2010), "Variance based sensitivity analysis of model output. Design and
estimator for the total sensitivity index", Computer Physics Communications 181, 259-270.
Campolongo, F., Cariboni, J. and Saltelli, A. (2007), "An effective screening design for
sensitivity analysis of large models", Environmental Modelling & Software 22, 1509-1518.
Herman, J. and Usher, W. (2017), "SALib: An open-source Python library for sensitivity
analysis", Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import html
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.errors import InputError
from adoption_model.experiments import stats
from adoption_model.experiments.design import (
    is_power_of_two,
    run_table,
    salib_problem,
    unit_sample,
)
from adoption_model.experiments.outcomes import parse_outcome
from adoption_model.experiments.spec import DesignConfig, Factor
from adoption_model.experiments.store import read_experiment, read_runs
from adoption_model.fileio import atomic_dir, check_output_dir


def bounded(expression: str) -> bool:
    """Whether an outcome has a bounded range: every model column is a share in [0, 1] or a
    non-negative count or amount, which every reducer keeps, except ``peak_change`` (a
    one-step change, negative when adoption falls)."""
    return parse_outcome(expression)[0] != "peak_change"


def point_means(
    runs: pd.DataFrame,
    outcomes: list[str] | dict[str, str],
    factors: list[str],
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean of each outcome at each design point with an interval across replicates.

    Failed runs and NaN outcomes (e.g. a threshold never reached) are left out; ``n`` says
    how many replicates each mean uses. ``outcomes`` maps names to their expressions: a
    bounded outcome (see :func:`bounded`) gets a percentile-bootstrap interval that stays in
    its range, the others a t-interval (a plain list of names: t-intervals); the column
    ``interval`` names the method. One row per point (and scenario, if the experiment has
    several) and outcome.
    """
    exprs = outcomes if isinstance(outcomes, dict) else dict.fromkeys(outcomes, "")
    keys = ["scenario", "point"] if "scenario" in runs else ["point"]
    ok = runs[runs["status"] == "ok"]
    by = keys if len(keys) > 1 else keys[0]  # scalar group keys for a plain design
    first = runs.groupby(by, sort=True).first()
    groups = list(ok.groupby(by, sort=True))
    table: dict[str, dict[Any, tuple[float, float, str]]] = {}
    for name, text in exprs.items():
        method = stats.method_for(bounded=bool(text) and bounded(text))
        cells: dict[Any, tuple[float, float, str]] = {}
        if method == "bootstrap":  # points with every replicate: one vectorised bootstrap
            full = [(k, g[name].to_numpy(dtype=float)) for k, g in groups]
            width = max((len(y) for _, y in full), default=0)
            batch = [(k, y) for k, y in full if len(y) == width and not np.isnan(y).any()]
            if width >= 2 and batch:
                low, high = stats.bootstrap_rows(
                    np.vstack([y for _, y in batch]), stats.row_rng(seed, "points", name), level
                )
                cells = {
                    k: (lo, hi, method) for (k, _), lo, hi in zip(batch, low, high, strict=True)
                }
        table[name] = cells
    rows = []
    for point, group in groups:
        for name, text in exprs.items():
            method = stats.method_for(bounded=bool(text) and bounded(text))
            y = group[name].to_numpy(dtype=float)
            if point in table[name]:
                low, high, _ = table[name][point]
                iv = stats.Interval(*stats.t_interval(y, level)[:3], low, high, method)
            else:
                rng = stats.row_rng(seed, "points", name, *np.atleast_1d(point).tolist())
                iv = stats.interval(y, method, rng=rng, level=level)
            rows.append(
                {
                    **dict(zip(keys, np.atleast_1d(point).tolist(), strict=True)),
                    **{f: first.loc[point, f] for f in factors},
                    "outcome": name, "n": iv.n, "mean": iv.mean, "sd": iv.sd,
                    "ci_low": iv.low, "ci_high": iv.high, "interval": iv.method,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def sobol_indices(
    factors: dict[str, Factor],
    design: DesignConfig,
    y: np.ndarray,
    *,
    seed: int | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol' indices with confidence intervals.

    ``y`` holds one value per design point in the order :func:`design_points` produced
    them (Saltelli's scheme). Warns, as SALib does, when N is not a power of two.
    """
    from SALib.analyze import sobol

    n = design.samples
    if not is_power_of_two(n):
        warnings.warn(
            f"Sobol' design with N = {n} base samples: convergence properties of the Sobol' "
            "sequence are only valid if N is a power of two",
            UserWarning,
            stacklevel=2,
        )
    y = np.asarray(y, dtype=float)
    if np.isnan(y).any():
        raise InputError(
            f"{int(np.isnan(y).sum())} design points have no value (failed runs or undefined "
            "outcome); Sobol' indices need every point"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol.analyze(
            salib_problem(factors), y, calc_second_order=design.second_order,
            conf_level=level, seed=seed,
        )  # fmt: skip
    return pd.DataFrame(
        {
            "factor": list(factors),
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )


def morris_indices(
    factors: dict[str, Factor],
    design: DesignConfig,
    y: np.ndarray,
    *,
    seed: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Morris screening: mu, mu* (with interval) and sigma of each factor's elementary effects.

    ``seed`` must be the experiment seed the design was drawn with (the trajectories are
    redrawn from it).
    """
    from SALib.analyze import morris

    x = unit_sample(factors, design, seed)
    y = np.asarray(y, dtype=float)
    if np.isnan(y).any():
        raise InputError("Morris analysis needs a value at every design point")
    res = morris.analyze(
        salib_problem(factors), x, y, conf_level=level, num_levels=design.levels, seed=seed
    )
    return pd.DataFrame(
        {
            "factor": list(factors),
            "mu": res["mu"],
            "mu_star": res["mu_star"],
            "mu_star_conf": res["mu_star_conf"],
            "sigma": res["sigma"],
        }
    )


def analyze(directory: str | Path, out: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Analyse a results directory; write CSV, PNG and HTML into ``out`` (DIR/analysis).

    Returns
    -------
    dict of DataFrames
        ``point_means`` always; ``sobol`` or ``morris`` for those designs (one row per
        outcome and factor). Outcomes that are undefined at some point are skipped with a
        warning.
    """
    d = Path(directory)
    exp = read_experiment(d)
    target = check_output_dir(Path(out) if out is not None else d / "analysis")
    runs = read_runs(d)
    if runs.empty:
        raise InputError(f"{d}: holds no finished chunk of runs yet; run the sweep first")
    outcomes = list(exp.outcomes)
    factors = list(exp.factors) or sorted({k for p in exp.design.points or [] for k in p})
    design = run_table(exp)
    check_runs(d, runs, design, outcomes, factors)
    means = point_means(runs, dict(exp.outcomes), factors, seed=exp.seed)
    results: dict[str, pd.DataFrame] = {"point_means": means}
    n_points = int(design["point"].max()) + 1 if len(design) else 0
    if exp.design.kind in ("sobol", "morris"):
        ok = runs[runs["status"] == "ok"]
        means = ok.groupby("point")[outcomes].mean().reindex(range(n_points))
        tables = []
        for name in outcomes:
            y = means[name].to_numpy()
            try:
                if exp.design.kind == "sobol":
                    t = sobol_indices(exp.factors, exp.design, y, seed=exp.seed)
                else:
                    t = morris_indices(exp.factors, exp.design, y, seed=exp.seed)
            except InputError as exc:
                warnings.warn(f"outcome {name}: skipped ({exc})", UserWarning, stacklevel=2)
                continue
            tables.append(t.assign(outcome=name))
        if tables:
            table = pd.concat(tables, ignore_index=True)
            results[exp.design.kind] = table[["outcome", *table.columns[:-1]]]
    owned = {"report.html", *(f"{n}.{e}" for n in ANALYSES for e in ("csv", "png"))}
    fix = "free some space or give another --out; the previous analysis is unchanged"
    with atomic_dir(target, owned, fix=fix) as tmp:
        svgs = []
        for name, frame in results.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
            fig = _chart(name, frame)
            if fig is not None:
                import matplotlib.pyplot as plt

                try:
                    fig.savefig(tmp / f"{name}.png", format="png", dpi=120)
                    buf = io.StringIO()
                    fig.savefig(buf, format="svg")
                    svgs.append((name, buf.getvalue()))
                finally:
                    plt.close(fig)
        text = _report(exp.name, exp.design.kind, results, svgs)
        (tmp / "report.html").write_text(text, encoding="utf-8")
    return results


#: The tables analyze writes (each as CSV and, when it has rows, a PNG chart).
ANALYSES = ("point_means", "sobol", "morris")


def check_runs(
    d: Path, runs: pd.DataFrame, design: pd.DataFrame, outcomes: list[str], factors: list[str]
) -> None:
    """Refuse runs that are not exactly the design's, or lack the columns analysis reads.

    One line: how many runs are duplicated, missing or not in the design, and the columns
    missing or not numeric, naming the directory and the fix.
    """
    where = f"{d}/runs.parquet"
    needed = ["run_id", "point", "status", *outcomes]
    if "scenario" in design:
        needed.append("scenario")
    missing_cols = [c for c in [*needed, *factors] if c not in runs.columns]
    if missing_cols:
        raise InputError(
            f"{where}: column(s) {', '.join(missing_cols)} missing; the store is damaged or "
            "from another version: run the sweep into a new --out"
        )
    for col in ["run_id", "point", *outcomes]:
        if not pd.api.types.is_numeric_dtype(runs[col]) or pd.api.types.is_bool_dtype(runs[col]):
            raise InputError(
                f"{where}: column {col!r} holds {runs[col].dtype} values, not numbers; the "
                "store is damaged: run the sweep into a new --out"
            )
    ids = runs["run_id"].to_numpy()
    expected = design["run_id"].to_numpy() if "run_id" in design else np.arange(len(design))
    counts = pd.Series(ids).value_counts()
    duplicated = int((counts - 1).clip(lower=0).sum())
    present = set(counts.index.tolist())
    missing = len(set(expected.tolist()) - present)
    extra = len(present - set(expected.tolist()))
    if duplicated or missing or extra:
        parts = []
        if duplicated:
            parts.append(f"{duplicated} duplicated")
        if missing:
            parts.append(f"{missing} missing")
        if extra:
            parts.append(f"{extra} not in the design")
        raise InputError(
            f"{d}: {', '.join(parts)} of the design's {len(expected)} runs ({len(ids)} rows "
            "stored); run the same sweep again to complete or repair it"
        )


def _chart(name: str, frame: pd.DataFrame) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if frame.empty:
        return None
    outcomes = list(dict.fromkeys(frame["outcome"]))
    fig, axes = plt.subplots(
        len(outcomes), 1, figsize=(8, 2.6 * len(outcomes)), squeeze=False, constrained_layout=True
    )
    for ax, outcome in zip(axes[:, 0], outcomes, strict=True):
        sub = frame[frame["outcome"] == outcome]
        if name == "sobol":
            x = np.arange(len(sub))
            ax.bar(x - 0.2, sub["S1"], 0.4, yerr=sub["S1_conf"], label="first order S1", capsize=3)
            ax.bar(x + 0.2, sub["ST"], 0.4, yerr=sub["ST_conf"], label="total ST", capsize=3)
            ax.set_xticks(x, sub["factor"], rotation=15, fontsize=8)
            ax.set_ylabel("index")
            ax.legend(fontsize=8)
        elif name == "morris":
            ax.errorbar(sub["mu_star"], sub["sigma"], xerr=sub["mu_star_conf"], fmt="o")
            for _, r in sub.iterrows():
                ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=8)
            ax.set_xlabel("mu* (effect per full range)")
            ax.set_ylabel("sigma")
        else:
            lo = (sub["mean"] - sub["ci_low"]).fillna(0)
            ax.errorbar(sub["point"], sub["mean"], yerr=lo, fmt="o", ms=3, capsize=2)
            ax.set_xlabel("design point")
            ax.set_ylabel("mean (95% interval)")
        ax.set_title(outcome, fontsize=10)
    return fig


def _report(title: str, kind: str, results: dict[str, pd.DataFrame], svgs: list) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}: analysis</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{padding:2px 6px;"
        "border-bottom:1px solid #ddd}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>Design: {html.escape(kind)}.</p>",
    ]
    charts = dict(svgs)
    for name, frame in results.items():
        parts.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2>")
        if name in charts:
            svg = charts[name]
            parts.append(svg[svg.find("<svg") :])
        shown = frame if len(frame) <= 500 else frame.head(500)
        parts.append(shown.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    parts.append("</body></html>")
    return "\n".join(parts)
