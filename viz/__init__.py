"""The classroom view: a Solara app on Mesa's ``SolaraViz`` (``solara run viz/app.py``).

The view imports the simulation core; the core never imports the view. One colour per
policy state is used everywhere (map, network, legend, why panel), from :data:`STATE_COLOURS`.
"""

from __future__ import annotations

from adoption_model.state import STATE_NAMES

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

__all__ = ["STATE_COLOURS", "STATE_MEANINGS"]
