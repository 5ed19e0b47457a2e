"""Time charts: adoption (count and GDP share), sovereign BTC held and the BTC price.

The browser draws the lines as SVG from the model frame's columns (a few kilobytes per step;
no plotting library to load, so the charts work offline and a step stays quick). Scenario
events (the scenario's dated ``events`` and those that have fired, ``model.fired_events``)
are marked on the time axis: dotted while still to come, solid once fired.
"""

from __future__ import annotations

import json
from typing import Any

import solara
from adoption_model.viz import STATE_COLOURS, per_step
from adoption_model.viz.text import MarkdownLine
from mesa.visualization.utils import update_counter

from adoption_model.world import month_index, month_name


def event_marks(model: Any) -> list[dict[str, Any]]:
    """Every scheduled and fired event as ``{x: step, label, fired}``, one per step and label."""
    start = month_index(model.scenario.start)
    marks: dict[tuple[int, str], bool] = {}
    for ev in [*getattr(model, "data_events", []), *model.scenario.events]:
        label = str(ev.name or ev.kind)
        key = (month_index(ev.date) - start, label)
        marks[key] = marks.get(key, False)
    for ev in model.fired_events:
        label = str(ev.get("name") or ev.get("kind", "event"))
        marks[(int(ev["step"]), label)] = True
    return [{"x": s, "label": lab, "fired": f} for (s, lab), f in sorted(marks.items())]


def _columns(model: Any) -> dict[str, Any]:
    """The model frame's columns used here, without building a DataFrame."""
    out = {c: model.series(c) for c in CHART_COLUMNS}
    out["date"] = model.dates()
    return out


#: The model frame's columns the charts read.
CHART_COLUMNS = ("step", "n_adopters", "gdp_weighted_share", "btc_sovereign", "btc_price")


def chart_data(model: Any) -> dict[str, Any]:
    """Series, time ticks, dates and event marks for the chart component (once per step)."""
    return per_step(model, "chart_data", lambda: _chart_data(model))


def _chart_data(model: Any) -> dict[str, Any]:
    df = _columns(model)
    horizon = max(int(model.scenario.steps), int(df["step"][-1]))
    start = month_index(model.scenario.start)

    def series(title: str, ys: Any, colour: str, **fmt: Any) -> dict[str, Any]:
        y = [round(float(v), 4) for v in ys]
        d = {"title": title, "colour": colour, "y": y, **fmt}
        digits = fmt.get("digits", 0)
        d["value"] = f"{fmt.get('prefix', '')}{y[-1]:,.{digits}f}{fmt.get('suffix', '')}"
        return d

    out = [
        series("Nations with a Bitcoin policy", df["n_adopters"], STATE_COLOURS["reserve"]),
        series(
            "Their share of world GDP",
            df["gdp_weighted_share"] * 100,
            "#2b8cbe",
            suffix="%",
            digits=1,
        ),
        series(
            "Bitcoin held by governments",
            df["btc_sovereign"] / 1e6,
            STATE_COLOURS["both"],
            suffix=" m BTC",
            digits=2,
        ),
        series("Bitcoin price", df["btc_price"] / 1e3, "#333333", prefix="$", suffix="k"),
    ]
    step_ticks = 12 * max(1, -(-horizon // 60))  # at most about six labels
    ticks = [{"x": t, "label": month_name(start + t)} for t in range(0, horizon + 1, step_ticks)]
    dates = [str(d) for d in df["date"]]
    return {
        "series": out,
        "horizon": horizon,
        "ticks": ticks,
        "dates": dates,
        "marks": event_marks(model),
    }


def chart_json(model: Any) -> str:
    """:func:`chart_data` as compact JSON text (once per step)."""
    return per_step(
        model, "chart_json", lambda: json.dumps(chart_data(model), separators=(",", ":"))
    )


@solara.component_vue("charts.vue")
def ChartGrid(charts: str) -> None:  # pragma: no cover - rendered by the browser
    """Four small line charts drawn by the browser from :func:`chart_data` as JSON text."""


@solara.component
def Charts(model: Any) -> None:
    """The four time charts with events marked (dotted: scheduled, solid: fired)."""
    update_counter.get()  # re-render on every step (Mesa's force_update)
    with solara.Column(gap="2px", classes=["am-charts"]):
        MarkdownLine(
            ": red lines are scenario events (dotted: still to come)",
            bold=f"Over time, {model.date} (month {model.steps})",
        )
        ChartGrid(charts=chart_json(model))
