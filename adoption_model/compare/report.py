"""The comparison report: self-contained HTML (inline CSS, PNG charts as data URIs) and Markdown.

Nothing in the HTML refers to anything outside the file: no scripts, no fonts, no CDN. The
charts are drawn with matplotlib's Agg backend; the world maps draw the Natural Earth
1:110m polygons shipped in ``adoption_model/geo/`` (public domain), and nations without a
polygon at that scale (small island and city states) as markers at their centroid.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from adoption_model import __version__
from adoption_model.world import month_index
from adoption_model.worldmap import finish_map, world_geometry

if TYPE_CHECKING:
    from adoption_model.compare.core import Comparison


COLOURS = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
    "#1b9e77",
    "#d95f02",
)

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:2em}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em;
font-family:'Helvetica Neue',Arial,sans-serif}
th,td{border:1px solid #ddd;padding:.28em .5em;vertical-align:top}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;white-space:nowrap}
tr.sig td{background:#f4f9f4}
.caption,.note{font-size:.88em;color:#555}.small{font-size:.8em}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
footer{margin-top:3em;border-top:1px solid #ccc;padding-top:.6em;font-size:.8em;color:#555}
code{font-size:.92em}.wide{color:#a33}.ok{color:#2a6}
"""


#: What the intervals are, in the reports' introductions.
INTERVALS_TEXT = (
    "Intervals are 95% intervals of the mean across replicates that stay inside each "
    "outcome's range: Wilson score intervals for shares of runs, percentile-bootstrap "
    "intervals for the bounded outcomes (shares, counts, MW, BTC, months) and for paired "
    "differences; the column 'interval' names each row's method."
)


def uncertainty_text(c: Comparison) -> str:
    """Which uncertainty the spread across replicates shows (noise, or noise and parameters)."""
    if getattr(c, "posterior", ""):
        return (
            "The spread across replicates shows stochastic noise and parameter uncertainty: "
            "each replicate draws its decision-rule coefficients from the posterior sample "
            f"({Path(c.posterior).name}), the same draw in every scenario."
        )
    return (
        "The spread across replicates shows stochastic noise only: every replicate uses the "
        "scenarios' own coefficients (run with --posterior for parameter uncertainty too)."
    )


# ---------------------------------------------------------------------------- formatting
def fmt(value: float, kind: str, *, diff: bool = False) -> str:
    """A number for the report: shares as %, BTC and MW with separators, months with 1 dp."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "+" if diff and value > 0 else ""
    if kind == "share":
        return f"{sign}{value * 100:.1f}" + (" pp" if diff else "%")
    if kind in ("btc", "mw"):
        return f"{sign}{value:,.0f}"
    if kind == "count":
        return f"{sign}{value:.1f}"
    return f"{sign}{value:.1f}"


def interval(low: float, high: float, kind: str, *, diff: bool = False) -> str:
    """``[low, high]`` formatted, or ``n/a``."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "n/a"
    return f"[{fmt(low, kind, diff=diff)}, {fmt(high, kind, diff=diff)}]"


#: How each interval method is named in the reports.
INTERVAL_NAMES = {"t": "t", "wilson": "Wilson", "bootstrap": "bootstrap"}


def outcome_matrix(c: Comparison) -> pd.DataFrame:
    """Outcomes as printed: one row per outcome, one column per scenario (mean [95% CI]),
    and the column ``interval`` naming the interval's method."""
    rows = []
    for key, grp in c.outcomes.groupby("outcome", sort=False):
        row: dict[str, str] = {"outcome": grp["label"].iloc[0]}
        for _, r in grp.iterrows():
            cell = f"{fmt(r['mean'], r['kind'])} {interval(r['ci_low'], r['ci_high'], r['kind'])}"
            if math.isnan(r["mean"]):
                cell = "n/a"
            elif math.isnan(r["ci_low"]):
                cell = fmt(r["mean"], r["kind"])
            if key.startswith("time_to"):
                cell += f" ({r['share_reaching'] * 100:.0f}% of runs)"
            row[r["scenario"]] = cell
        row["interval"] = INTERVAL_NAMES[grp["interval"].iloc[0]]
        rows.append(row)
    return pd.DataFrame(rows)


def difference_matrix(c: Comparison) -> pd.DataFrame:
    """Paired differences as printed (the reference's own column is left out)."""
    rows = []
    others = c.labels[1:]
    for _, grp in c.differences.groupby("outcome", sort=False):
        row: dict[str, str] = {"outcome": grp["label"].iloc[0]}
        for _, r in grp.iterrows():
            if r["scenario"] not in others:
                continue
            k = r["kind"]
            row[r["scenario"]] = (
                "n/a"
                if math.isnan(r["mean_difference"])
                else f"{fmt(r['mean_difference'], k, diff=True)} "
                f"{interval(r['ci_low'], r['ci_high'], k, diff=True)}"
            )
        row["interval"] = INTERVAL_NAMES[grp["interval"].iloc[0]]
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- charts
def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _years(dates: pd.Series) -> np.ndarray:
    return np.asarray([month_index(d) / 12.0 for d in dates])


def fan_chart(c: Comparison, variable: str, ylabel: str, scale: float = 1.0) -> str:
    """Small multiples, one panel per scenario on shared axes: median, 50% and 90% bands.

    The reference scenario's median is repeated as a dashed grey line in every panel.
    """
    k = len(c.labels)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig = Figure(figsize=(4.2 * cols, 2.9 * rows))
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    fan = c.fan[c.fan["variable"] == variable]
    ref = fan[fan["scenario"] == c.labels[0]]
    for j, label in enumerate(c.labels):
        ax = axes[j // cols][j % cols]
        d = fan[fan["scenario"] == label]
        x = _years(d["date"])
        colour = COLOURS[j % len(COLOURS)]
        ax.fill_between(x, d["q05"] / scale, d["q95"] / scale, color=colour, alpha=0.18, lw=0)
        ax.fill_between(x, d["q25"] / scale, d["q75"] / scale, color=colour, alpha=0.38, lw=0)
        ax.plot(x, d["q50"] / scale, color=colour, lw=1.8)
        if j:
            ax.plot(_years(ref["date"]), ref["q50"] / scale, color="#777", lw=1, ls="--")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        if j % cols == 0:
            ax.set_ylabel(ylabel, fontsize=9)
    for j in range(k, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def world_map(probabilities: pd.DataFrame, table: pd.DataFrame, title: str) -> str:
    """A choropleth of each nation's probability of having adopted by the horizon.

    Nations in the model without a 1:110m polygon are drawn as circles at their centroid;
    polygons of territories outside the model (Antarctica, Greenland...) are light grey.
    """
    from matplotlib import colormaps
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    cmap = colormaps["YlOrRd"]
    norm = Normalize(0.0, 1.0)
    p = dict(zip(probabilities["nation"], probabilities["p_adopted"], strict=True))
    geo = world_geometry()
    polys, colours = [], []
    for code, rings in geo.items():
        face = cmap(norm(p[code])) if code in p else (0.88, 0.88, 0.88, 1.0)
        for ring in rings:
            polys.append(ring)
            colours.append(face)
    fig = Figure(figsize=(10, 4.6))
    ax = fig.subplots()
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="#666", linewidths=0.25))
    small = table[~table["iso3"].isin(list(geo))]
    if len(small):
        vals = [p.get(code, 0.0) for code in small["iso3"]]
        ax.scatter(
            small["lng"],
            small["lat"],
            c=vals,
            cmap=cmap,
            norm=norm,
            s=16,
            edgecolors="#333",
            linewidths=0.4,
            zorder=3,
        )
    finish_map(fig, ax, title, norm, cmap, "share of replicates adopted")
    return _png(fig)


def first_adoption_chart(c: Comparison, top: int = 12) -> str | None:
    """Dots with 10-90% lines: first-adoption dates of the likeliest nations per scenario."""
    fa = c.first_adoption
    if fa.empty:
        return None
    order = (
        fa.groupby("nation")["p_new"].max().sort_values(ascending=False).head(top).index.tolist()
    )
    fig = Figure(figsize=(9, 0.42 * len(order) + 1.2))
    ax = fig.subplots()
    k = len(c.labels)
    for j, label in enumerate(c.labels):
        d = fa[(fa["scenario"] == label) & fa["nation"].isin(order)]
        for _, r in d.iterrows():
            y = order.index(r["nation"]) + (j - (k - 1) / 2) * 0.8 / max(k, 1)
            start = month_index(c.scenarios[j].start) / 12.0
            ax.plot(
                [start + r["step_p10"] / 12, start + r["step_p90"] / 12],
                [y, y],
                color=COLOURS[j % len(COLOURS)],
                lw=1.4,
            )
            ax.plot(
                start + r["step_median"] / 12,
                y,
                "o",
                color=COLOURS[j % len(COLOURS)],
                ms=3 + 6 * r["p_new"],
            )
    names = fa.drop_duplicates("nation").set_index("nation")["name"]
    ax.set_yticks(range(len(order)), [f"{names[n]} ({n})" for n in order], fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("first adoption (median dot, 10-90% line; dot size = probability)")
    for j, label in enumerate(c.labels):
        ax.plot([], [], "o-", color=COLOURS[j % len(COLOURS)], label=label)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _png(fig)


def convergence_chart(c: Comparison, outcome: str = "adoption_share") -> str | None:
    """Running mean and 95% interval of the paired difference against replications."""
    cur = c.convergence_curve
    d = cur[(cur["outcome"] == outcome) & (cur["kind"] == "difference")]
    if d.empty:
        return None
    fig = Figure(figsize=(8, 3.2))
    ax = fig.subplots()
    for j, label in enumerate(c.labels):
        g = d[d["scenario"] == label]
        if g.empty:
            continue
        colour = COLOURS[j % len(COLOURS)]
        ax.plot(g["replications"], g["running_mean"] * 100, color=colour, label=label)
        ax.fill_between(
            g["replications"],
            (g["running_mean"] - g["ci_halfwidth"]) * 100,
            (g["running_mean"] + g["ci_halfwidth"]) * 100,
            color=colour,
            alpha=0.15,
            lw=0,
        )
    ax.axhline(0, color="#555", lw=0.8)
    ax.set_xlabel("replications")
    ax.set_ylabel(f"difference vs {c.labels[0]}, pp")
    ax.set_title(
        "Adoption share at horizon: running paired difference, 95% t half-width (planning aid)",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


# ---------------------------------------------------------------------------- HTML
def _table(df: pd.DataFrame, numeric: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(col))}</th>" for col in df.columns)
    body = []
    for _, row in df.iterrows():
        cells = []
        for col in df.columns:
            v = row[col]
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            cls = (
                ' class="num"' if col in numeric or col in df.columns[1:] and _numeric(text) else ""
            )
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] in "+-[") and len(text) < 60


def _img(b64: str | None, alt: str) -> str:
    if not b64:
        return ""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def first_adoption_display(c: Comparison) -> pd.DataFrame:
    """The first-adoption table as printed."""
    fa = c.first_adoption
    return pd.DataFrame(
        {
            "scenario": fa["scenario"],
            "nation": fa["name"] + " (" + fa["nation"] + ")",
            "P(adopts)": [f"{v * 100:.0f}%" for v in fa["p_new"]],
            "first adoption, median": fa["date_median"],
            "10%": fa["date_p10"],
            "90%": fa["date_p90"],
        }
    )


def convergence_display(c: Comparison) -> pd.DataFrame:
    """The convergence advice as printed."""
    cv = c.convergence
    if cv.empty:
        return cv
    from adoption_model.compare.tables import OUTCOMES

    kinds = {k: v[1] for k, v in OUTCOMES.items()}
    return pd.DataFrame(
        {
            "scenario": cv["scenario"],
            "outcome": cv["outcome"],
            "difference": [
                fmt(m, kinds[o], diff=True)
                for m, o in zip(cv["mean_difference"], cv["outcome"], strict=True)
            ],
            "± (95%)": [
                fmt(h, kinds[o])
                for h, o in zip(cv["difference_ci_halfwidth"], cv["outcome"], strict=True)
            ],
            "suggested replications": [
                "n/a" if math.isnan(s) else str(int(s)) for s in cv["suggested_replications"]
            ],
            "note": cv["note"],
        }
    )


def footer_lines(c: Comparison) -> list[str]:
    """Provenance lines of the footer (version, commit, seeds, digests, replications)."""
    from adoption_model.provenance import git_commit

    digests = ", ".join(
        f"{lab} {sc.digest()}" for lab, sc in zip(c.labels, c.scenarios, strict=True)
    )
    seeds = ", ".join(str(s) for s in c.seeds)
    return [
        f"adoption-model {__version__}; git commit {git_commit() or 'unknown'}",
        f"comparison seed {c.seed}; {c.replications} replications per scenario; "
        f"replicate seeds (common to every scenario): {seeds}",
        f"scenario digests: {digests}",
        f"runs finished {c.finished or 'n/a'} (UTC)",
    ]


def render_html(c: Comparison) -> str:
    """The full report as one self-contained HTML document."""
    from adoption_model.nations import load_nations

    title = "Scenario comparison: " + " vs ".join(c.labels)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>{c.replications} replications per scenario with common random numbers "
        f"(comparison seed {c.seed}); horizon {c.scenarios[0].steps} months from "
        f"{c.scenarios[0].start}. {uncertainty_text(c)} {INTERVALS_TEXT} "
        "Differences are paired by replicate against "
        f"<b>{html.escape(c.labels[0])}</b>.</p>",
        "<h2>Scenarios</h2><ul>",
    ]
    for label, sc in zip(c.labels, c.scenarios, strict=True):
        parts.append(f"<li><b>{html.escape(label)}</b>: {html.escape(sc.description or '')}</li>")
    parts.append("</ul>")
    parts.append("<h2>Outcomes</h2>")
    parts.append(
        "<p class='caption'>Mean across replicates with its 95% interval. Times to 25% and 50% "
        "adoption are in months from the start, over the runs that reach the level.</p>"
    )
    parts.append(_table(outcome_matrix(c)))
    if len(c.labels) > 1:
        parts.append(f"<h2>Differences against {html.escape(c.labels[0])}</h2>")
        parts.append(
            "<p class='caption'>Mean paired difference (scenario minus reference, replicate by "
            "replicate) with its 95% interval; pp = percentage points. An interval that "
            "excludes zero is a difference the replications resolve.</p>"
        )
        parts.append(_table(difference_matrix(c)))
    parts.append("<h2>Adoption over time</h2>")
    parts.append(
        "<p class='caption'>Median (line), 50% band (dark) and 90% band (light) across "
        "replicates; dashed grey: the reference scenario's median. Shared axes.</p>"
    )
    parts.append(_img(fan_chart(c, "adoption_share", "adoption share"), "fan chart of adoption"))
    parts.append(
        _img(fan_chart(c, "btc_sovereign", "sovereign BTC, millions", 1e6), "fan chart of BTC")
    )
    real = [j for j, sc in enumerate(c.scenarios) if sc.network.kind == "real"]
    if real:
        table = load_nations()
        parts.append("<h2>Where adoption happens</h2>")
        parts.append(
            "<p class='caption'>Share of replicates in which each nation has adopted a reserve "
            "or mines by the horizon (starting adopters count as adopted). Circles: nations "
            "without a polygon at this scale. Grey: not modelled. Geometry: Natural Earth "
            "1:110m (public domain).</p>"
        )
        for j in real:
            label = c.labels[j]
            probs = c.adoption_probability[c.adoption_probability["scenario"] == label]
            parts.append(f"<h3>{html.escape(label)}</h3>")
            parts.append(_img(world_map(probs, table, label), f"map of adoption, {label}"))
    parts.append("<h2>Nations most likely to adopt</h2>")
    parts.append(
        "<p class='caption'>Nations that were not adopters at the start, by the share of "
        "replicates in which they adopt; first-adoption month: median and 10%-90% across "
        "those replicates.</p>"
    )
    parts.append(_img(first_adoption_chart(c), "first adoption dates"))
    parts.append(_table(first_adoption_display(c)))
    parts.append("<h2>Assumptions side by side</h2>")
    if c.assumptions.empty:
        parts.append("<p>The scenarios use identical parameters.</p>")
    else:
        parts.append(
            "<p class='caption'>Every parameter whose value differs between the scenarios, with "
            "the source or reasoning each scenario file gives.</p>"
        )
        parts.append(_table(c.assumptions))
    parts.append("<h2>Convergence</h2>")
    parts.append(
        "<p class='caption'>Is the number of replications enough? For each outcome, the paired "
        "difference's 95% half-width is compared with half the difference; the suggested "
        "number of replications n &#8776; n<sub>now</sub> &#215; (half-width / target)<sup>2"
        "</sup> would bring it there.</p>"
    )
    parts.append(_img(convergence_chart(c), "convergence of the adoption difference"))
    parts.append(_table(convergence_display(c)))
    parts.append("<footer>" + "<br>".join(html.escape(x) for x in footer_lines(c)) + "</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------- Markdown
def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"

    def cell(v: Any) -> str:
        text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |"]
    lines.append("|" + "---|" * len(df.columns))
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(cell(row[c]) for c in df.columns) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(c: Comparison) -> str:
    """The report's tables as Markdown (the charts are in the HTML report)."""
    out = [f"# Scenario comparison: {' vs '.join(c.labels)}", ""]
    out.append(
        f"{c.replications} replications per scenario with common random numbers (seed {c.seed}); "
        f"horizon {c.scenarios[0].steps} months from {c.scenarios[0].start}. "
        f"{uncertainty_text(c)} {INTERVALS_TEXT} "
        f"Differences paired by replicate against **{c.labels[0]}**. Charts and maps: "
        "`report.html`."
    )
    out += ["", "## Scenarios", ""]
    out += [f"- **{lab}**: {sc.description}" for lab, sc in zip(c.labels, c.scenarios, strict=True)]
    out += ["", "## Outcomes", "", _md_table(outcome_matrix(c))]
    if len(c.labels) > 1:
        out += [f"## Differences against {c.labels[0]}", "", _md_table(difference_matrix(c))]
    out += ["## Nations most likely to adopt", "", _md_table(first_adoption_display(c))]
    out += ["## Assumptions side by side", "", _md_table(c.assumptions)]
    out += ["## Convergence", "", _md_table(convergence_display(c))]
    out += ["---", ""] + [f"{line}  " for line in footer_lines(c)]
    return "\n".join(out) + "\n"
