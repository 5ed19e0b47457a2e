"""The world map both reports draw: the shipped country outlines and the map's frame.

:func:`world_geometry` reads the Natural Earth 1:110m outlines that ship with the package
(``adoption_model/geo/naturalearth_110m.json``); :func:`finish_map` gives a choropleth
its extent, aspect, bare frame, title and colour bar. The comparison report's map of
adoption probabilities (:mod:`adoption_model.compare.report`) and the key-players map
(:mod:`adoption_model.discovery.report`) colour the countries their own way and share
these.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

#: The shipped country outlines (Natural Earth 1:110m, public domain).
GEO_FILE = Path(__file__).resolve().parent / "geo" / "naturalearth_110m.json"

__all__ = ["GEO_FILE", "finish_map", "world_geometry"]


@lru_cache(maxsize=1)
def world_geometry() -> dict[str, list[np.ndarray]]:
    """ISO3 -> exterior rings (lon, lat arrays) of the shipped Natural Earth countries."""
    doc = json.loads(GEO_FILE.read_text(encoding="utf-8"))
    return {
        code: [np.asarray(r, dtype=float) for r in item["rings"]]
        for code, item in doc["countries"].items()
    }


def finish_map(fig: Any, ax: Any, title: str, norm: Any, cmap: Any, label: str) -> None:
    """The map's frame: the inhabited latitudes, equal aspect, no ticks or spines, the
    title, and a colour bar of ``norm`` and ``cmap`` labelled ``label``."""
    from matplotlib.cm import ScalarMappable

    ax.set_xlim(-180, 180)
    ax.set_ylim(-58, 84)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=11)
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.025, pad=0.01)
    cb.set_label(label, fontsize=8)
