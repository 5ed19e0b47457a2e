"""Offline reports for the analysts' tools: Jinja2 templates, inline SVG charts, tables.

Every report is one self-contained HTML file (inline CSS and SVG; no script, font or
network reference) built from a template under ``templates/`` with autoescaping on; each
chart is also written beside it as SVG and PNG (``charts/NAME.svg``, ``charts/NAME.png``),
and each table as CSV (UTF-8) and Parquet.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from adoption_model import __version__
from adoption_model.errors import InputError
from adoption_model.fileio import atomic_text, atomic_write, make_output_dir
from adoption_model.worldmap import finish_map, world_geometry

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> Any:
    """The Jinja2 environment (autoescaping on for every template)."""
    try:
        import jinja2
    except ModuleNotFoundError:
        raise InputError(
            "reports need Jinja2; install the analysts extra: "
            "pip install 'adoption-model[analysts]'"
        ) from None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    return env


def fmt_number(value: Any, digits: int = 3) -> str:
    """A table cell: NaN as an en dash, floats to ``digits`` significant decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if digits > 0 and v != 0 and (abs(v) < 10 ** (-digits) or abs(v) >= 1e6):
            return f"{v:.{digits - 1}e}"
        return f"{v:,.{digits}f}"
    return str(value)


class Chart:
    """A matplotlib figure rendered once as inline SVG (for the HTML) and saved as files."""

    def __init__(self, name: str, fig: Figure, alt: str) -> None:
        self.name, self.fig, self.alt = name, fig, alt
        self.svg = self._svg()

    def _svg(self) -> str:
        import matplotlib as mpl

        buf = io.StringIO()
        # a salt per chart keeps element ids unique when several SVGs share one page
        with mpl.rc_context({"svg.hashsalt": f"am-{self.name}", "svg.fonttype": "path"}):
            self.fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
        text = buf.getvalue()
        text = text[text.index("<svg") :]
        text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
        return text.replace(
            "<svg ", f'<svg class="am-chart" role="img" aria-label="{self.alt}" ', 1
        )

    def save(self, folder: Path) -> None:
        import matplotlib as mpl

        folder.mkdir(parents=True, exist_ok=True)
        atomic_text(folder / f"{self.name}.svg", self.svg.replace(' class="am-chart"', "", 1))
        with mpl.rc_context({"svg.hashsalt": f"am-{self.name}"}):
            atomic_write(
                folder / f"{self.name}.png",
                lambda p: self.fig.savefig(
                    p, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None}
                ),
            )


def table_html(df: pd.DataFrame) -> dict[str, Any]:
    """A table for the templates: column names and formatted rows (numeric cells marked)."""
    rows = []
    for rec in df.itertuples(index=False):
        rows.append(
            [{"text": fmt_number(v), "num": isinstance(v, int | float | np.number)} for v in rec]
        )
    return {"columns": [str(c) for c in df.columns], "rows": rows}


def write_tables(out: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Each table as ``NAME.csv`` (UTF-8 with a byte-order mark, for spreadsheets) and
    ``NAME.parquet``."""
    from adoption_model.discovery.iamc import write_excel_csv

    for name, frame in tables.items():
        write_excel_csv(frame, out / f"{name}.csv")
        atomic_write(out / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))


def write_report(
    out: Path,
    template: str,
    context: dict[str, Any],
    charts: list[Chart],
    tables: dict[str, pd.DataFrame],
    provenance: dict[str, Any],
) -> Path:
    """Write tables, charts (SVG, PNG), ``provenance.json`` and ``report.html`` into ``out``."""
    out = make_output_dir(out)
    env = environment()
    write_tables(out, tables)
    for chart in charts:
        chart.save(out / "charts")
    prov = {"adoption_model": __version__, **provenance}
    atomic_text(out / "provenance.json", json.dumps(prov, indent=2, default=str))
    from markupsafe import Markup

    html = env.get_template(template).render(
        version=__version__,
        charts={c.name: {"svg": Markup(c.svg), "alt": c.alt} for c in charts},
        provenance=prov,
        **context,
    )
    atomic_text(out / "report.html", html)
    return out / "report.html"


# ---------------------------------------------------------------------------- world map
def world_map(
    values: pd.Series,
    centroids: pd.DataFrame,
    title: str,
    label: str,
    highlight: list[str] | None = None,
    cmap_name: str = "viridis",
) -> Figure:
    """A choropleth of ``values`` (indexed by ISO3); missing nations light grey.

    Nations without a 1:110m polygon (small island and city states) are drawn as circles
    at their centroid (``centroids`` has ``iso3``, ``lat``, ``lng``); ``highlight`` nations
    get a thick outline (the greedy picks).
    """
    from matplotlib import colormaps
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    cmap = colormaps[cmap_name]
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    norm = Normalize(min(lo, 0.0), hi if hi > min(lo, 0.0) else min(lo, 0.0) + 1.0)
    geo = world_geometry()
    polys, faces, edges, widths = [], [], [], []
    marked = set(highlight or [])
    for code, rings in geo.items():
        v = values.get(code, math.nan)
        face = cmap(norm(v)) if np.isfinite(v) else (0.9, 0.9, 0.9, 1.0)
        for ring in rings:
            polys.append(ring)
            faces.append(face)
            edges.append("#d62728" if code in marked else "#555")
            widths.append(1.4 if code in marked else 0.25)
    fig = Figure(figsize=(10, 4.8))
    ax = fig.subplots()
    ax.add_collection(PolyCollection(polys, facecolors=faces, edgecolors=edges, linewidths=widths))
    small = centroids[~centroids["iso3"].isin(list(geo)) & centroids["iso3"].isin(values.index)]
    if len(small):
        ax.scatter(
            small["lng"], small["lat"], c=[values[c] for c in small["iso3"]], cmap=cmap,
            norm=norm, s=18, edgecolors=["#d62728" if c in marked else "#333"
                                         for c in small["iso3"]], linewidths=0.5, zorder=3,
        )  # fmt: skip
    finish_map(fig, ax, title, norm, cmap, label)
    return fig
