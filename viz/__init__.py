"""The classroom view (``adoption_model.viz``): a Solara app on Mesa's ``SolaraViz``.

The view imports the simulation core; the core never imports the view. One colour per
policy state is used everywhere (map, network, legend, why panel), from :data:`STATE_COLOURS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from adoption_model.state import STATE_NAMES

T = TypeVar("T")

#: Environment variable through which ``adoption-model view SCENARIO`` passes the scenario.
ENV_SCENARIO = "ADOPTION_MODEL_VIEW_SCENARIO"
#: Environment variable for the first seed of every session (default: the scenario's).
ENV_SEED = "ADOPTION_MODEL_VIEW_SEED"

#: Colour of each policy state (none, reserve, mining, both, sold out), shared by every panel.
STATE_COLOURS: dict[str, str] = {
    "none": "#d0d4d9",
    "reserve": "#f7931a",
    "mining": "#1f78b4",
    "both": "#6a3d9a",
    "sold out": "#d7301f",
}

#: What each state means, in plain words (legend and About panel).
STATE_MEANINGS: dict[str, str] = {
    "none": "no Bitcoin policy",
    "reserve": "holds a strategic Bitcoin reserve",
    "mining": "mines Bitcoin with spare energy",
    "both": "holds a reserve and mines",
    "sold out": "decided to sell its Bitcoin",
}

assert tuple(STATE_COLOURS) == tuple(STATE_NAMES)


def per_step(model: Any, name: str, build: Callable[[], T], *key: Any) -> T:
    """``build()``, computed once per model step (and ``key``) and kept on the model.

    Several panels show the same numbers (the map and the network share fills and hover
    texts), and a panel re-rendered for another reason (a click, a selection) must not
    rebuild what the step has not changed. A new model (Reset, scenario) starts empty.
    """
    cache = model.__dict__.setdefault("_viz_per_step", {})
    full = (model.steps, *key)
    hit = cache.get(name)
    if hit is not None and hit[0] == full:
        return hit[1]
    value = build()
    cache[name] = (full, value)
    return value


def per_model(model: Any, name: str, build: Callable[[], T]) -> T:
    """``build()``, computed once per model and kept on it (what stepping never changes)."""
    cache = model.__dict__.setdefault("_viz_per_model", {})
    if name not in cache:
        cache[name] = build()
    return cache[name]


__all__ = ["STATE_COLOURS", "STATE_MEANINGS", "per_model", "per_step"]
