"""World map: a choropleth of each nation's policy state, drawn as SVG in the browser.

The country outlines (world-atlas 110m, ISC licence, ``viz/data/``) are decoded and
projected once per process; each step only sends the new fill colours and hover texts, so a
step costs a few kilobytes, not a new image. Nations without a polygon at this scale (small
islands, micro-states) are drawn as dots at their capital's coordinates.

References
----------
Bostock, M. world-atlas 2.0 (Natural Earth 1:110m countries as TopoJSON),
https://github.com/topojson/world-atlas. TopoJSON format specification,
https://github.com/topojson/topojson-specification.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import solara
from adoption_model.viz import STATE_COLOURS, per_model, per_step
from adoption_model.viz.text import MarkdownLine
from mesa.visualization.utils import update_counter

from adoption_model.state import STATE_NAMES

DATA = Path(__file__).parent / "data"
WIDTH, HEIGHT = 960.0, 430.0
LAT_TOP, LAT_BOTTOM = 84.0, -58.0


def project(lng: Any, lat: Any) -> tuple[Any, Any]:
    """Equirectangular projection of longitude/latitude onto the map's SVG coordinates."""
    x = (np.asarray(lng, dtype=float) + 180.0) / 360.0 * WIDTH
    y = (LAT_TOP - np.asarray(lat, dtype=float)) / (LAT_TOP - LAT_BOTTOM) * HEIGHT
    return x, y


def _decode_arcs(topo: dict[str, Any]) -> list[np.ndarray]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        a = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(np.column_stack([a[:, 0] * sx + tx, a[:, 1] * sy + ty]))
    return arcs


def _ring(arcs: list[np.ndarray], refs: list[int]) -> np.ndarray:
    parts = []
    for r in refs:
        pts = arcs[r] if r >= 0 else arcs[~r][::-1]
        parts.append(pts if not parts else pts[1:])
    return np.vstack(parts)


@lru_cache(maxsize=1)
def country_paths() -> dict[str, str]:
    """SVG path data of each country with an outline at 1:110m, keyed by ISO3 code."""
    topo = json.loads((DATA / "world-atlas_countries-110m.json").read_text(encoding="utf-8"))
    with open(DATA / "world-atlas_110m_id_to_iso3.csv", encoding="utf-8") as fh:
        iso = {row["topo_id"]: row["iso3"] for row in csv.DictReader(fh)}
    arcs = _decode_arcs(topo)
    out: dict[str, str] = {}
    for geom in topo["objects"]["countries"]["geometries"]:
        code = iso.get(str(geom.get("id")), "")
        if not code or geom.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        d = []
        for poly in polys:
            for ring in poly:
                pts = _ring(arcs, ring)
                lng = pts[:, 0].copy()
                if np.abs(np.diff(lng)).max(initial=0.0) > 180.0:  # crosses the antimeridian
                    if lng.mean() > 0:
                        lng[lng < 0] += 360.0  # drawn past the right edge, clipped
                    else:
                        lng[lng > 0] -= 360.0
                x, y = project(lng, pts[:, 1])
                if y.min() > HEIGHT:  # Antarctica and the far south: off the map
                    continue
                coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
                d.append(f"M{coords}Z")
        if d:
            out[code] = out.get(code, "") + "".join(d)
    return out


def shapes_and_dots(model: Any) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The outlines to draw (all countries) and dots for the model's nations without one."""
    return _shapes_and_dots(tuple(str(c) for c in model.ids), _coords(model))


def _coords(model: Any) -> tuple[tuple[float, float], ...]:
    t = model.nations_table
    return tuple(zip(t["lng"].astype(float), t["lat"].astype(float), strict=True))


@lru_cache(maxsize=8)
def _shapes_and_dots(
    codes: tuple[str, ...], coords: tuple[tuple[float, float], ...]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    paths = country_paths()
    shapes = [{"id": k, "d": v} for k, v in paths.items()]
    dots = []
    for code, (lng, lat) in zip(codes, coords, strict=True):
        if code not in paths:
            x, y = project(lng, lat)
            dots.append({"id": code, "x": round(float(x), 1), "y": round(float(y), 1), "r": 3.2})
    return shapes, dots


def fmt_money(usd: float) -> str:
    """US dollars in words a student reads at a glance ($1.2 tn, $35 bn, $800 m)."""
    for div, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
        if abs(usd) >= div:
            return f"${usd / div:,.1f} {unit}"
    return f"${usd:,.0f}"


def state_names(model: Any) -> list[str]:
    """Policy state name of every nation, in model order."""
    codes = model.state.state_code()
    return [STATE_NAMES[int(c)] for c in codes]


def fills_and_tips(model: Any) -> tuple[dict[str, str], dict[str, str], list[dict[str, Any]]]:
    """Fill colour and hover text of every nation, and the legend with counts.

    Built once per step and shared by the map and the network (:func:`adoption_model.viz.per_step`).
    """
    return per_step(model, "fills_and_tips", lambda: _fills_and_tips(model))


def _labels(model: Any) -> list[str]:
    table = model.nations_table
    if "name" in table:
        return table["name"].astype(str).tolist()
    return [str(i) for i in model.ids]


def _fills_and_tips(model: Any) -> tuple[dict[str, str], dict[str, str], list[dict[str, Any]]]:
    st = model.state
    names = state_names(model)
    table = model.nations_table
    labels = per_model(model, "labels", lambda: _labels(model))
    codes = per_model(model, "codes", lambda: [str(c) for c in model.ids])
    gdp = st.gdp_usd.tolist() if "gdp_usd" in table else None
    debt = st.debt_pct_gdp.tolist() if gdp is not None else None
    held, mw, peer = st.holdings.tolist(), st.mining_mw.tolist(), st.peer.tolist()
    fills, tips = {}, {}
    for i, key in enumerate(codes):
        fills[key] = STATE_COLOURS[names[i]]
        lines = [f"{labels[i]} ({key}): {names[i]}"]
        if gdp is not None:
            lines.append(f"GDP {fmt_money(gdp[i])} · debt {debt[i]:.0f}% GDP")
        lines.append(
            f"BTC held {held[i]:,.0f} · mining {mw[i]:,.0f} MW · neighbours adopted {peer[i]:.0%}"
        )
        tips[key] = "\n".join(lines)
    counts = {s: 0 for s in STATE_NAMES}
    for s in names:
        counts[s] += 1
    legend = [{"name": s, "colour": STATE_COLOURS[s], "count": counts[s]} for s in STATE_NAMES]
    return fills, tips, legend


def as_json(value: Any) -> str:
    """Compact JSON text (what the browser parses)."""
    return json.dumps(value, separators=(",", ":"))


def geometry_json(shapes: list, dots: list, lines: list) -> str:
    """Shapes, dots and lines as one JSON text for :func:`SvgMap`."""
    return as_json({"shapes": shapes, "dots": dots, "lines": lines})


def map_geometry(model: Any) -> str:
    """The world map's outlines and dots as JSON text (once per model)."""
    return per_model(model, "map_geometry", lambda: geometry_json(*shapes_and_dots(model), []))


def fills_and_tips_json(model: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """:func:`fills_and_tips` with the fills and hover texts as JSON text (once per step)."""

    def build() -> tuple[str, str, list[dict[str, Any]]]:
        fills, tips, legend = fills_and_tips(model)
        return as_json(fills), as_json(tips), legend

    return per_step(model, "fills_and_tips_json", build)


@solara.component_vue("svgmap.vue")
def SvgMap(
    viewbox: str,
    geometry: str,
    fills: str,
    tips: str,
    legend: list,
    selected: str,
    event_select: Callable[[str], None],
) -> None:
    """Shapes, dots and lines in one SVG; fills and hover texts change per step.

    ``geometry`` (``{"shapes", "dots", "lines"}``), ``fills`` and ``tips`` (by nation code)
    are JSON text: each is one string for the server to compare and send on a step, where
    nested lists and dicts would be walked value by value by every re-render.
    """


@solara.component
def WorldMap(model: Any, selected: str | None, on_select: Callable[[str], None]) -> None:
    """Choropleth of the policy states with legend, hover texts and click to select."""
    update_counter.get()  # re-render on every step (Mesa's force_update)
    fills, tips, legend = fills_and_tips_json(model)
    with solara.Column(gap="4px", classes=["am-world-map"]):
        MarkdownLine(" (hover for numbers, click to ask why)", bold=f"World map, {model.date}")
        SvgMap(
            viewbox=f"0 0 {WIDTH:.0f} {HEIGHT:.0f}",
            geometry=map_geometry(model),
            fills=fills,
            tips=tips,
            legend=legend,
            selected=selected or "",
            event_select=on_select,
        )
