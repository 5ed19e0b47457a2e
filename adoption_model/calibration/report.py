"""Offline HTML reports of the calibration and the back-test (Jinja2, inline SVG).

Every chart is drawn here as inline SVG, so a report is one self-contained file that opens
without a network. Templates: ``adoption_model/calibration/templates/*.j2``, rendered with
autoescaping (numbers and names from data files cannot inject markup); the SVGs are
built from numbers only and passed as ``Markup``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

W, H, PAD = 260, 150, 28


def _env() -> Any:
    try:
        from jinja2 import Environment, PackageLoader, select_autoescape
    except ImportError:  # pragma: no cover - the [calibrate] extra
        from adoption_model.errors import InputError

        raise InputError("reports need Jinja2: pip install 'adoption-model[calibrate]'") from None
    return Environment(
        loader=PackageLoader("adoption_model.calibration", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def svg_prior_posterior(name: str, prior_mean: float, prior_sd: float, draws: np.ndarray) -> str:
    """Posterior histogram (density) with the prior's normal density over it."""
    lo = min(prior_mean - 3 * prior_sd, float(np.min(draws)))
    hi = max(prior_mean + 3 * prior_sd, float(np.max(draws)))
    counts, edges = np.histogram(draws, bins=30, range=(lo, hi), density=True)
    grid = np.linspace(lo, hi, 80)
    prior = np.exp(-0.5 * ((grid - prior_mean) / prior_sd) ** 2) / (
        prior_sd * math.sqrt(2 * math.pi)
    )
    top = max(float(counts.max()), float(prior.max())) * 1.05
    x = _scale(lo, hi, PAD, W - 6)
    y = _scale(0.0, top, H - PAD, 8)
    bars = "".join(
        f"<rect x='{x(a):.1f}' y='{y(c):.1f}' width='{max(x(b) - x(a) - 0.5, 0.5):.1f}' "
        f"height='{(H - PAD) - y(c):.1f}' fill='#7aa6d8'/>"
        for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    )
    line = " ".join(f"{x(g):.1f},{y(p):.1f}" for g, p in zip(grid, prior, strict=True))
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' role='img' "
        f"aria-label='prior and posterior of {html.escape(name)}'>{bars}"
        f"<polyline points='{line}' fill='none' stroke='#c33' stroke-width='1.5'/>"
        f"<line x1='{PAD}' y1='{H - PAD}' x2='{W - 6}' y2='{H - PAD}' stroke='#333'/>"
        f"<text x='{PAD}' y='{H - 10}' font-size='10'>{lo:.1f}</text>"
        f"<text x='{W - 40}' y='{H - 10}' font-size='10'>{hi:.1f}</text>"
        f"<text x='{PAD}' y='12' font-size='11' font-weight='bold'>{html.escape(name)}</text>"
        "</svg>"
    )


def svg_bands(
    title: str,
    labels: Sequence[str],
    observed: Sequence[float],
    median: Sequence[float],
    lo: Sequence[float],
    hi: Sequence[float],
    width: int = 420,
) -> str:
    """Observed values (dots) against a predictive median (bars) and 90% band (whiskers)."""
    n = len(labels)
    top = max([*observed, *hi, 1.0]) * 1.1
    y = _scale(0.0, top, H - PAD, 16)
    step = (width - PAD - 6) / max(n, 1)
    out = []
    for i, lab in enumerate(labels):
        cx = PAD + step * (i + 0.5)
        out.append(
            f"<rect x='{cx - step * 0.3:.1f}' y='{y(median[i]):.1f}' width='{step * 0.6:.1f}' "
            f"height='{(H - PAD) - y(median[i]):.1f}' fill='#cfe0f3'/>"
            f"<line x1='{cx:.1f}' y1='{y(lo[i]):.1f}' x2='{cx:.1f}' y2='{y(hi[i]):.1f}' "
            "stroke='#336' stroke-width='1.5'/>"
            f"<circle cx='{cx:.1f}' cy='{y(observed[i]):.1f}' r='3.5' fill='#c33'/>"
            f"<text x='{cx - 12:.1f}' y='{H - 12}' font-size='9'>{html.escape(str(lab))}</text>"
        )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{H}' role='img' "
        f"aria-label='{html.escape(title)}'>"
        f"<text x='{PAD}' y='11' font-size='11' font-weight='bold'>{html.escape(title)} "
        f"(max {top / 1.1:.3g})</text>{''.join(out)}"
        f"<line x1='{PAD}' y1='{H - PAD}' x2='{width - 6}' y2='{H - PAD}' stroke='#333'/></svg>"
    )


def svg_path(
    title: str, months: Sequence[str], simulated: Sequence[float], points: pd.DataFrame
) -> str:
    """A simulated holdings path (line) and the observed holdings (dots, by month)."""
    from adoption_model.world import month_index

    idx = [month_index(m) for m in months]
    pidx = [month_index(m) for m in points["month"]]
    top = max([*simulated, *points["btc"].tolist(), 1.0]) * 1.1
    x = _scale(min(idx), max(idx), PAD, 414)
    y = _scale(0.0, top, H - PAD, 16)
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in zip(idx, simulated, strict=True))
    dots = "".join(
        f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3.5' fill='#c33'/>"
        for i, v in zip(pidx, points["btc"], strict=True)
        if min(idx) <= i <= max(idx)
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='420' height='{H}' role='img' "
        f"aria-label='{html.escape(title)}'>"
        f"<text x='{PAD}' y='11' font-size='11' font-weight='bold'>{html.escape(title)} "
        f"(BTC, max {top / 1.1:,.0f})</text>"
        f"<polyline points='{line}' fill='none' stroke='#336' stroke-width='1.5'/>{dots}"
        f"<text x='{PAD}' y='{H - 10}' font-size='9'>{months[0]}</text>"
        f"<text x='370' y='{H - 10}' font-size='9'>{months[-1]}</text>"
        f"<line x1='{PAD}' y1='{H - PAD}' x2='414' y2='{H - PAD}' stroke='#333'/></svg>"
    )


def svg_returns(returns: np.ndarray, mean: float, sd: float) -> str:
    """Histogram of monthly log returns with the fitted normal (the market model's GBM)."""
    lo, hi = float(returns.min()) - 0.05, float(returns.max()) + 0.05
    counts, edges = np.histogram(returns, bins=25, range=(lo, hi), density=True)
    grid = np.linspace(lo, hi, 80)
    dens = np.exp(-0.5 * ((grid - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    top = max(float(counts.max()), float(dens.max())) * 1.05
    x = _scale(lo, hi, PAD, 414)
    y = _scale(0.0, top, H - PAD, 16)
    bars = "".join(
        f"<rect x='{x(a):.1f}' y='{y(c):.1f}' width='{max(x(b) - x(a) - 0.5, 0.5):.1f}' "
        f"height='{(H - PAD) - y(c):.1f}' fill='#bcd'/>"
        for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    )
    line = " ".join(f"{x(g):.1f},{y(d):.1f}" for g, d in zip(grid, dens, strict=True))
    return (
        "<svg xmlns='http://www.w3.org/2000/svg' width='420' height='150' role='img' "
        "aria-label='monthly log returns and the fitted normal'>"
        "<text x='28' y='11' font-size='11' font-weight='bold'>monthly log returns, "
        f"fitted GBM normal (mean {mean:.3f}, sd {sd:.3f})</text>{bars}"
        f"<polyline points='{line}' fill='none' stroke='#c33' stroke-width='1.5'/>"
        f"<line x1='{PAD}' y1='{H - PAD}' x2='414' y2='{H - PAD}' stroke='#333'/>"
        f"<text x='{PAD}' y='{H - 10}' font-size='9'>{lo:.2f}</text>"
        f"<text x='380' y='{H - 10}' font-size='9'>{hi:.2f}</text></svg>"
    )


def _fmt(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return "—"
        return f"{v:,.3f}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def table_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Column names and formatted cells of a frame (the templates' tables)."""
    return list(map(str, frame.columns)), [
        [_fmt(v) for v in row] for row in frame.itertuples(index=False)
    ]


def calibration_html(ctx: dict[str, Any]) -> str:
    """The calibration report from the pipeline's context (see ``pipeline.py``)."""
    ctx = dict(ctx)
    for key in list(ctx):
        if key.startswith("svg_"):
            v = ctx[key]
            ctx[key] = [_markup(s) for s in v] if isinstance(v, list) else _markup(v)
    return _env().get_template("calibration.html.j2").render(**ctx, table_rows=table_rows)


def backtest_html(bt: Any) -> str:
    """The back-test report: the score table, the forecasts of the nations that acted."""
    acted = bt.observed[(bt.observed == 1).any(axis=1)].index.tolist()
    long = bt.long_forecasts()
    top = (
        long[long["iso3"].isin(acted)]
        .pivot_table(index=["iso3", "kind", "y"], columns="model", values="probability")
        .reset_index()
    )
    return (
        _env()
        .get_template("backtest.html.j2")
        .render(bt=bt, table_rows=table_rows, scores=bt.table, acted=top)
    )
