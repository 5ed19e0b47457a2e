"""Session state, the model factory, the controls and the About panel.

Each browser session has its own state (Solara scopes ``solara.reactive`` values to the
session), so every student runs a model of their own. Levers that the model can change
mid-run (peer influence, IMF stance, price drift and volatility, energy cost) take effect
from the next step, as in NetLogo; the decision rule, the seed and the scenario rebuild the
model (the rule and seed on Reset, the scenario at once).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import solara
from adoption_model.viz import ENV_SCENARIO, ENV_SEED, STATE_COLOURS, STATE_MEANINGS

from adoption_model.errors import InputError
from adoption_model.model import AdoptionModel
from adoption_model.scenario import bundled_scenarios, load_scenario

RULES = ("logit", "threshold", "bass", "cascade")

#: Live levers: label, scenario keys (the first is the one shown), slider range and step.
LEVERS: dict[str, dict[str, Any]] = {
    "peer": {
        "label": "Peer influence",
        "keys": ("rule.coef.a_peer", "rule.coef.c_peer"),
        "min": 0.0,
        "max": 6.0,
        "step": 0.1,
    },
    "imf": {
        "label": "IMF stance (0 tolerant, 1 hostile)",
        "keys": ("imf.stance",),
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
    },
    "drift": {
        "label": "BTC price drift (per year)",
        "keys": ("price.drift",),
        "min": -0.5,
        "max": 1.0,
        "step": 0.05,
    },
    "vol": {
        "label": "BTC price volatility (per year)",
        "keys": ("price.volatility",),
        "min": 0.0,
        "max": 1.5,
        "step": 0.05,
    },
}


def scenario_choices() -> list[str]:
    """The scenario names offered by the picker: ``baseline`` and the bundled ones."""
    names = ["baseline", *bundled_scenarios()]
    start = os.environ.get(ENV_SCENARIO)
    if start and start not in names:
        names.append(start)
    return list(dict.fromkeys(names))


def default_settings() -> dict[str, Any]:
    """The settings a new session starts from (scenario from ``$ADOPTION_MODEL_VIEW_SCENARIO``)."""
    seed = os.environ.get(ENV_SEED)
    return {
        "scenario": os.environ.get(ENV_SCENARIO) or "baseline",
        "rule": None,  # None: the scenario's own rule
        "seed": int(seed) if seed else None,
        "levers": {},  # lever name -> value (None or absent: the scenario's)
        "energy": 1.0,  # multiplier on every nation's energy cost
    }


#: This session's settings (Solara keeps one value per browser session).
settings = solara.reactive(default_settings())
#: The nation shown in the why panel (ISO3 code or node number as a string).
selected = solara.reactive(None)


def lever_overrides(levers: dict[str, float], base: Any) -> dict[str, float]:
    """Scenario overrides for the given lever values (peer influence moves c_peer in step)."""
    out: dict[str, float] = {}
    for name, value in levers.items():
        if value is None:
            continue
        keys = LEVERS[name]["keys"]
        if name == "peer":
            a0 = float(base.rule.coef.a_peer)
            out["rule.coef.a_peer"] = float(value)
            ratio = float(value) / a0 if a0 else 1.0
            out["rule.coef.c_peer"] = float(base.rule.coef.c_peer) * ratio
        else:
            out[keys[0]] = float(value)
    return out


def lever_value(model: AdoptionModel, name: str) -> float:
    """The lever's value as the model uses it now."""
    node: Any = model.live
    for part in LEVERS[name]["keys"][0].split("."):
        node = getattr(node, part)
    return float(node)


class ClassroomModel(AdoptionModel):
    """:class:`AdoptionModel` built from this session's settings (what Reset rebuilds).

    Mesa's Reset calls the model class with the fixed model parameters; this class reads the
    scenario, decision rule, seed and lever values chosen in the session's controls.
    """

    def __init__(self, **kwargs: Any) -> None:
        cfg = settings.value
        sc = load_scenario(kwargs.pop("scenario", None) or cfg["scenario"])
        overrides = dict(kwargs.pop("overrides", None) or {})
        if cfg.get("rule"):
            overrides["rule.kind"] = cfg["rule"]
        overrides.update(lever_overrides(cfg.get("levers", {}), sc))
        note = ""
        try:
            seed = parse_seed(kwargs.pop("seed", None))
        except InputError as exc:  # a typo in the seed box must not break the page
            seed, note = None, str(exc)
        seed = cfg.get("seed") if seed is None else seed
        super().__init__(sc, seed=seed, overrides=overrides or None, **kwargs)
        #: Why the seed box was not used (shown under the controls), or "".
        self.seed_note = f"{note}; used seed {self.seed}" if note else ""
        self.energy_base = self.state.energy_cost_usd_mwh.copy()
        scale_energy(self, float(cfg.get("energy", 1.0)))


def parse_seed(value: int | str | None) -> int | None:
    """A seed from the seed box: a whole number, or None for an empty box."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(
            f"seed: {text!r} is not a whole number; type one like 42 or leave it empty"
        )
    return int(text)


def scale_energy(model: AdoptionModel, factor: float) -> None:
    """Set every nation's energy cost to ``factor`` times its starting value (live)."""
    base = getattr(model, "energy_base", None)
    if base is None:
        base = model.energy_base = model.state.energy_cost_usd_mwh.copy()
    np.multiply(base, factor, out=model.state.energy_cost_usd_mwh)
    model.energy_factor = factor


@solara.component
def Controls(model_rv: solara.Reactive[Any]) -> None:
    """Scenario picker, live levers and the reset-only settings."""
    model = model_rv.value
    cfg = settings.value
    error = solara.use_reactive("")

    def pick_scenario(name: str) -> None:
        try:
            settings.value = {**settings.value, "scenario": name, "levers": {}, "energy": 1.0}
            model_rv.value = ClassroomModel()
            error.value = ""
        except InputError as exc:
            error.value = str(exc)

    def set_lever(name: str, value: float) -> None:
        levers = {**settings.value.get("levers", {}), name: float(value)}
        settings.value = {**settings.value, "levers": levers}
        for key, v in lever_overrides({name: value}, model.scenario).items():
            model.set_parameter(key, v)

    def set_energy(value: float) -> None:
        settings.value = {**settings.value, "energy": float(value)}
        scale_energy(model, float(value))

    with solara.Column(gap="4px", classes=["am-controls"]):
        solara.Select(
            label="Scenario (switches now)",
            value=cfg["scenario"],
            values=scenario_choices(),
            on_value=pick_scenario,
            classes=["am-scenario"],
        )
        if model.scenario.description:
            solara.Text(
                model.scenario.description[:240], style={"font-size": "12px", "color": "#555"}
            )
        solara.Markdown("**Levers** (take effect from the next step)")
        for name, spec in LEVERS.items():
            value = lever_value(model, name)
            with solara.Div(classes=[f"am-lever-{name}"]):
                solara.SliderFloat(
                    label=f"{spec['label']}: {value:g}",
                    value=value,
                    min=spec["min"],
                    max=spec["max"],
                    step=spec["step"],
                    on_value=lambda v, name=name: set_lever(name, v),
                )
        factor = float(getattr(model, "energy_factor", 1.0))
        with solara.Div(classes=["am-lever-energy"]):
            solara.SliderFloat(
                label=f"Energy cost: {factor:g} x today's",
                value=factor,
                min=0.25,
                max=3.0,
                step=0.05,
                on_value=set_energy,
            )
        solara.Markdown("**Applies on Reset**")
        solara.Select(
            label="Decision rule (applies on Reset)",
            value=cfg.get("rule") or model.scenario.rule.kind,
            values=list(RULES),
            on_value=lambda v: settings.set({**settings.value, "rule": v}),
            classes=["am-rule"],
        )
        solara.Text(
            f"Running: {model.live.rule.kind} rule, seed {model.seed}",
            style={"font-size": "12px"},
            classes=["am-running-rule"],
        )
        if getattr(model, "seed_note", ""):
            solara.Warning(model.seed_note, classes=["am-seed-note"])
        if error.value:
            solara.Error(error.value)


ABOUT = """
### About this model

Every month each of the world's {n} nations may review its Bitcoin policy. It can **keep**
its policy, **adopt** a strategic Bitcoin reserve, **mine** Bitcoin with spare energy, or
**sell** what it holds. What it chooses depends on its money troubles (low currency
reserves, high debt), what its **neighbours** (trade partners, blocs, borders) did, the
Bitcoin price and how hostile the **IMF** is. Adoption can then spread from country to
country, like a rumour through a network.

**Colours** (the same on the map, the network and the why panel):
{legend}

**Try this**
- Press **Step** a few times, then **Play**. Watch where adoption spreads first.
- Click a coloured country (say Pakistan or El Salvador) and read *why* it acted.
- Push **Peer influence** up mid-run: does adoption take off? Set the **IMF stance** to 1.
- Switch the **decision rule** to *threshold* and press **Reset**: a classic cascade model.
- Pick another **scenario** from the list.

**Where the data comes from**: the nations' GDP, population, debt, currency reserves and
IMF credit come from public World Bank and IMF tables, energy from public energy statistics,
and known Bitcoin holdings from public reports (see `adoption_model/data/README.md`). Country
outlines: Natural Earth via world-atlas (ISC licence). It is a teaching model: its numbers
are scenarios, not forecasts.
"""


@solara.component
def About(model: Any) -> None:
    """A short "About this model" panel: what the colours mean, what to try, the data."""
    legend = "\n".join(
        f'- <span style="display:inline-block;width:10px;height:10px;background:{c}"></span> '
        f"**{s}**: {STATE_MEANINGS[s]}"
        for s, c in STATE_COLOURS.items()
    )
    solara.Markdown(ABOUT.format(n=model.n, legend=legend), style={"font-size": "13px"})


def selection_handler() -> Callable[[str], None]:
    """A callback that selects a nation for the why panel."""
    return lambda code: selected.set(str(code))
