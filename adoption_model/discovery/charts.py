"""The discovery report's charts (matplotlib, Agg; rendered as inline SVG by ``report.Chart``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from adoption_model.discovery.report import Chart

if TYPE_CHECKING:
    from adoption_model.discovery.core import Discovery


def tradeoff_chart(d: Discovery) -> Chart:
    """Coverage against density along the peeling trajectory, coloured by restricted factors."""
    from matplotlib import colormaps

    t = d.trajectory
    fig = Figure(figsize=(6.4, 4.6))
    ax = fig.subplots()
    dims = t["res_dim"].to_numpy()
    sc = ax.scatter(
        t["coverage"], t["density"], c=dims, cmap=colormaps["viridis"], s=26,
        vmin=0, vmax=max(1, int(dims.max())), edgecolors="none",
    )  # fmt: skip
    c = t.loc[d.chosen]
    ax.scatter([c["coverage"]], [c["density"]], s=160, facecolors="none", edgecolors="#d62728",
               linewidths=2, label=f"chosen box {d.chosen}")  # fmt: skip
    ax.axhline(d.min_density, color="#999", lw=0.8, ls="--", label=f"density {d.min_density:g}")
    ax.set_xlabel("coverage (share of cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    cb = fig.colorbar(sc, ax=ax, ticks=range(0, max(1, int(dims.max())) + 1))
    cb.set_label("restricted factors", fontsize=8)
    ax.set_title("PRIM peeling trajectory: the coverage-density trade-off", fontsize=10)
    return Chart("tradeoff", fig, "coverage against density of every box on the trajectory")


def box_limits_chart(d: Discovery) -> Chart:
    """The chosen box's limits per restricted factor, on the factor's range scaled to [0, 1]."""
    box = d.box
    res = box[box["restricted"]]
    rows = res if len(res) else box.head(1)
    fig = Figure(figsize=(7.5, 0.55 * len(rows) + 1.3))
    ax = fig.subplots()
    for i, r in enumerate(rows.itertuples()):
        if r.kind == "categorical":
            total = d.x[r.factor].nunique()
            kept = len(r.values.split(", ")) if r.values else 0
            lo, hi, label = 0.0, kept / total, f"{{{r.values}}}"
        else:
            span = (r.maximum - r.minimum) or 1.0
            lo, hi = (r.lower - r.minimum) / span, (r.upper - r.minimum) / span
            label = f"[{r.lower:.4g}, {r.upper:.4g}]"
        ax.plot([0, 1], [i, i], color="#ccc", lw=6, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color="#1f77b4", lw=6, solid_capstyle="butt")
        qps = [q for q in (r.qp_lower, r.qp_upper) if np.isfinite(q)]
        qp = f"  qp {min(qps):.2g}" if qps else ""
        ax.text(1.02, i, label + qp, va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{r.factor} ({r.role})" for r in rows.itertuples()],
                  fontsize=8)  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("share of the factor's sampled range (0 = minimum, 1 = maximum)")
    c = d.trajectory.loc[d.chosen]
    ax.set_title(
        f"box {d.chosen}: coverage {c['coverage']:.2f}, density {c['density']:.2f}, "
        f"mass {c['mass']:.2f}", fontsize=10,
    )  # fmt: skip
    return Chart("box_limits", fig, "limits of the chosen box per restricted factor")


def box_plots(d: Discovery) -> Chart | None:
    """Box plots of each restricted numeric factor: cases of interest against the others."""
    box = d.box
    res = box[box["restricted"] & (box["kind"] != "categorical")]
    if not len(res):
        return None
    n = len(res)
    fig = Figure(figsize=(min(3.0 * n, 12), 3.4))
    axes = np.atleast_1d(fig.subplots(1, n))
    interest = d.y >= 0.5
    for ax, r in zip(axes, res.itertuples(), strict=True):
        v = d.x[r.factor].to_numpy(dtype=float)
        ax.boxplot([v[interest], v[~interest]], tick_labels=["of interest", "others"],
                   widths=0.6)  # fmt: skip
        ax.axhspan(r.lower, r.upper, color="#1f77b4", alpha=0.12, lw=0)
        ax.set_title(r.factor, fontsize=9)
        ax.tick_params(labelsize=8)
    fig.suptitle("restricted factors: runs of interest vs the others (band: the box)",
                 fontsize=10)  # fmt: skip
    return Chart("box_plots", fig, "box plots of restricted factors for cases of interest")


def scores_chart(scores: pd.DataFrame) -> Chart:
    """Feature scores as horizontal bars with their spread across trees."""
    s = scores.iloc[::-1]
    fig = Figure(figsize=(6.4, 0.35 * len(s) + 1.2))
    ax = fig.subplots()
    colours = ["#dd8452" if r == "lever" else "#4c72b0" for r in s["role"]]
    ax.barh(s["factor"], s["score"], xerr=s["sd"], color=colours, error_kw={"lw": 0.8})
    ax.set_xlabel("extra-trees feature score (sums to 1; bar: sd across trees)")
    ax.tick_params(labelsize=8)
    ax.set_title("which factors matter (blue: uncertainties, orange: levers)", fontsize=10)
    return Chart("feature_scores", fig, "feature scores of every factor")
