"""The classroom view: ``solara run viz/app.py`` or ``adoption-model view [SCENARIO]``.

Mesa's :func:`~mesa.visualization.SolaraViz` gives the play / step / reset controls and the
step counter; the project's components add the world map (or, for synthetic graphs, the
network), the time charts, the why panel, the influence network, the controls and an About
panel. Every browser session builds its own model.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

#: Reacton's tree walk that skips unchanged parts of the page (opt-in, read when a session's
#: render context is created, so after this import). A step then re-renders the panels that
#: show it, not every widget of the page: about half the server's cost per step
#: (``benchmarks/bench_view.py``). ``REACTON_FAST=0`` in the environment turns it off.
os.environ.setdefault("REACTON_FAST", "1")
import solara
from adoption_model.viz.charts import Charts
from adoption_model.viz.components import (
    About,
    ClassroomModel,
    Controls,
    selected,
    selection_handler,
)
from adoption_model.viz.map import WorldMap
from adoption_model.viz.network_view import NetworkView
from adoption_model.viz.why import WhyPanel
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

# Solara notes on every visit that a plain-http loopback server cannot set samesite=none
# cookies; it falls back to samesite=lax, which is what a classroom server wants.
warnings.filterwarnings(
    "ignore", message=r"Cookies with samesite=none require https", category=UserWarning
)

TITLE = "Sovereign Bitcoin adoption: a classroom view"
CSS = """
.am-panel { height: 100%; overflow-y: auto; overflow-x: hidden; padding: 4px 8px; }
/* Mesa names its single tab "Page 0" and offers no way to rename it; one page needs no tabs */
.solara-content-main .v-tabs:has(+ .v-tabs-items) { display: none; }
"""


def map_panel(model: Any) -> None:
    """The world map for the real world, the network for synthetic graphs (page 0)."""
    update_counter.get()
    with solara.Column(classes=["am-panel", "am-main-view"], gap="0px"):
        if model.network.kind == "real":
            WorldMap(model, selected.value, selection_handler())
        else:
            NetworkView(model, selected.value, selection_handler())


def charts_panel(model: Any) -> None:
    """Adoption, sovereign BTC and price over time."""
    update_counter.get()
    with solara.Column(classes=["am-panel"], gap="0px"):
        Charts(model)


def why_panel(model: Any) -> None:
    """Why did this country do that?"""
    update_counter.get()
    with solara.Column(classes=["am-panel"], gap="0px"):
        WhyPanel(model, selected.value, selection_handler())


def network_panel(model: Any) -> None:
    """The influence network (the real world's; synthetic graphs show it on the main panel)."""
    update_counter.get()
    with solara.Column(classes=["am-panel"], gap="0px"):
        if model.network.kind == "real":
            NetworkView(model, selected.value, selection_handler())
        else:
            About(model)


def about_panel(model: Any) -> None:
    """What the colours mean, what to try, where the data comes from."""
    with solara.Column(classes=["am-panel"], gap="0px"):
        About(model)


#: The project's panels, in grid order (Mesa lays them out two per row).
PANELS = [(map_panel, 0), (charts_panel, 0), (why_panel, 0), (network_panel, 0), (about_panel, 0)]


def model_params(model: Any) -> dict[str, Any]:
    """Mesa's "Model Parameters" card: the seed Reset uses (empty: scenario's or fresh)."""
    return {
        "seed": {
            "type": "InputText",
            "label": "Seed (applies on Reset)",
            "value": str(model.seed),
        }
    }


@solara.component
def _LeversCard(model_rv: solara.Reactive[Any]) -> None:
    with solara.Sidebar():
        with solara.Card("Scenario and levers"):
            Controls(model_rv)


@solara.component
def LeversSidebar(model_rv: solara.Reactive[Any]) -> None:
    """The levers card, below Mesa's Controls card (Reset / Play / Step stay above the fold).

    Solara orders sidebar content by the depth of the component that adds it (shallower
    first); Mesa adds its cards one component below the page, so this card is added two below.
    """
    _LeversCard(model_rv)


@solara.component
def Page() -> None:
    """One session: its own model, Mesa's controller and the project's panels."""
    first = solara.use_memo(ClassroomModel, [])
    model_rv = solara.use_reactive(first)
    params = solara.use_memo(lambda: model_params(first), [])
    solara.Style(CSS)
    solara.Title(TITLE)
    SolaraViz(
        model_rv,
        components=PANELS,
        model_params=params,
        name=TITLE,
        play_interval=150,
    )
    LeversSidebar(model_rv)


page = Page
