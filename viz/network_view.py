"""The influence network: nodes coloured by policy state, edges faded by weight.

Real world: nodes sit at the nations' coordinates (no layout to compute). Synthetic graphs:
a force-directed layout is computed once per graph and cached by the graph's structure, so
stepping never recomputes it (Mesa's default network drawing recomputes a spring layout on
every frame). Edges are drawn as a few SVG paths, one per weight band, sent once per model.

References
----------
Koren, Y. (2005). Drawing graphs by eigenvectors: theory and practice. Computers &
Mathematics with Applications 49(11-12), 1867-1888 (networkx.spectral_layout, large graphs).
Fruchterman, T. M. J. and Reingold, E. M. (1991). Graph drawing by force-directed
placement. Software: Practice and Experience 21(11), 1129-1164 (networkx.spring_layout).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import solara
from adoption_model.viz import per_model
from adoption_model.viz.map import (
    HEIGHT,
    WIDTH,
    SvgMap,
    fills_and_tips_json,
    geometry_json,
    project,
)
from adoption_model.viz.text import MarkdownLine
from mesa.visualization.utils import update_counter

#: Graphs up to this size get a force-directed layout (larger: spectral).
SPRING_MAX_NODES = 1500
#: At most this many edges are drawn (the strongest); more only darken the picture.
MAX_EDGES = 1200
#: Opacity of the weight bands, weakest to strongest.
BAND_OPACITY = (0.04, 0.08, 0.16, 0.32)


def graph_key(model: Any) -> str:
    """A digest of the graph's structure (the layout cache key)."""
    m = model.network.matrix
    h = hashlib.sha256(f"{model.network.kind}:{model.n}".encode())
    if m is not None:
        h.update(np.ascontiguousarray(m.indptr).tobytes())
        h.update(np.ascontiguousarray(m.indices).tobytes())
    return h.hexdigest()[:16]


_LAYOUTS: dict[str, np.ndarray] = {}


def layout(model: Any) -> np.ndarray:
    """Node positions in SVG coordinates, shape ``(n, 2)``; computed once per graph."""
    if model.network.kind == "real" and "lng" in model.nations_table:
        t = model.nations_table
        x, y = project(t["lng"].to_numpy(float), t["lat"].to_numpy(float))
        return np.column_stack([x, y])
    key = graph_key(model)
    if key not in _LAYOUTS:
        _LAYOUTS[key] = _force_layout(model)
    return _LAYOUTS[key]


def _force_layout(model: Any) -> np.ndarray:
    n = model.n
    m = model.network.matrix
    if m is None:  # complete graph: every layout is the same picture; use a circle
        pos = nx.circular_layout(nx.empty_graph(n))
    else:
        sym = sp.csr_array(m)
        sym = ((sym + sym.T) > 0).astype(float)
        g = nx.from_scipy_sparse_array(sym)
        if n <= SPRING_MAX_NODES:
            pos = nx.spring_layout(g, seed=0, iterations=50)
        else:  # force-directed layouts take minutes on big graphs; the spectral one seconds
            pos = nx.spectral_layout(g)
    xy = np.array([pos[i] for i in range(n)], dtype=float)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    pad = 20.0
    xy = (xy - lo) / span
    return np.column_stack(
        [pad + xy[:, 0] * (WIDTH - 2 * pad), pad + xy[:, 1] * (HEIGHT - 2 * pad)]
    )


def edge_bands(model: Any, xy: np.ndarray) -> list[dict[str, Any]]:
    """The strongest edges as one SVG path per weight band (cached on the model)."""
    cached = getattr(model, "_viz_edge_bands", None)
    if cached is not None:
        return cached
    m = model.network.matrix
    bands: list[dict[str, Any]] = []
    if m is not None and m.nnz:
        coo = sp.coo_array(m)
        rows, cols, w = coo.row, coo.col, coo.data.astype(float)
        keep = rows != cols
        rows, cols, w = rows[keep], cols[keep], w[keep]
        if len(w) > MAX_EDGES:
            top = np.argpartition(w, -MAX_EDGES)[-MAX_EDGES:]
            rows, cols, w = rows[top], cols[top], w[top]
        edges = np.quantile(w, [0.25, 0.5, 0.75]) if len(w) else np.array([])
        band = np.searchsorted(edges, w, side="right")
        for b, opacity in enumerate(BAND_OPACITY):
            sel = band == b
            if not sel.any():
                continue
            a, c = xy[cols[sel]], xy[rows[sel]]  # influence flows from j (col) to i (row)
            d = "".join(
                f"M{x0:.1f},{y0:.1f}L{x1:.1f},{y1:.1f}"
                for (x0, y0), (x1, y1) in zip(a, c, strict=True)
            )
            bands.append({"d": d, "opacity": opacity, "width": 0.5 + 0.4 * b})
    model._viz_edge_bands = bands
    return bands


def node_dots(model: Any, xy: np.ndarray) -> list[dict[str, Any]]:
    """One dot per node (cached on the model: positions do not change while stepping)."""
    cached = getattr(model, "_viz_node_dots", None)
    if cached is not None:
        return cached
    r = 3.5 if model.n <= 300 else 2.2 if model.n <= 1500 else 1.5
    dots = [
        {"id": str(code), "x": round(float(x), 1), "y": round(float(y), 1), "r": r}
        for code, (x, y) in zip(model.ids, xy, strict=True)
    ]
    model._viz_node_dots = dots
    return dots


def network_geometry(model: Any) -> str:
    """Nodes and edge bands as JSON for :func:`~adoption_model.viz.map.SvgMap` (once per model)."""

    def build() -> str:
        xy = layout(model)
        return geometry_json([], node_dots(model, xy), edge_bands(model, xy))

    return per_model(model, "network_geometry", build)


@solara.component
def NetworkView(model: Any, selected: str | None, on_select: Callable[[str], None]) -> None:
    """The influence graph with the current states; click a node to ask why."""
    update_counter.get()  # re-render on every step (Mesa's force_update)
    fills, tips, legend = fills_and_tips_json(model)
    title = (
        "nations at their coordinates, lines: who listens to whom"
        if model.network.kind == "real"
        else f"{model.network.kind.replace('_', ' ')} graph, {model.n} nodes (layout computed once)"
    )
    with solara.Column(gap="4px", classes=["am-network"]):
        MarkdownLine(f": {title}", bold=f"Influence network, {model.date}")
        SvgMap(
            viewbox=f"0 0 {WIDTH:.0f} {HEIGHT:.0f}",
            geometry=network_geometry(model),
            fills=fills,
            tips=tips,
            legend=legend,
            selected=selected or "",
            event_select=on_select,
        )
