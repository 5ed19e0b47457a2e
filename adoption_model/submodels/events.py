"""Dated scenario events: interventions that fire at the start of their month (docs/ODD.md 7.7).

Events fire after the world update of their month (so a price shock in 2026-03 moves the
2026-03 price) and before nations look at their neighbours, so every nation sees the
intervention when it decides that month. An event dated at the start month fires at
initialisation, before step 0 is recorded. Under the classic rules (threshold, Bass,
cascade) adoption is the only process, so purchase programmes (``buy``) have no effect there.

=========== ===============================================================================
kind        effect
=========== ===============================================================================
adopt       the nation(s) adopt a reserve now and buy toward the target (``adoption.*``)
mine        the nation(s) mine with ``mw`` megawatts (default: their surplus)
sell        the nation(s) sell ``fraction`` of holdings now (default all), at this month's
            price, and leave the reserve
buy         a purchase programme: ``btc`` bought in equal tranches over ``months`` (default 1)
price_shock the price moves by ``change`` (``-0.6`` = a 60% fall) this month
imf_stance  the IMF stance becomes ``stance``
energy      the nation(s) get ``mw`` megawatts of surplus energy (an allocation)
set         a live parameter ``key`` becomes ``value`` (``rule.coef.a_peer``, ``imf.*`` ...)
mandate     the nation(s) get (``value`` true, default) or lose a seized-asset sale law
pledge      the nation(s) pledge never to sell (``value`` true, default) or drop the pledge
ban         a crypto ban (``ban`` = absolute or mining) is imposed (``value`` true, default)
            or lifted (false): an absolute ban removes adopt and mine, a mining ban mine
sanctions   the nation(s)' sanctions exposure becomes ``value`` (in [0, 1])
=========== ===============================================================================

Events are one engine-independent step: both engines call :func:`fire` with the same
model. They act through the model's public attributes only (:class:`EventTarget`) and the
state transitions of :mod:`adoption_model.state`; :func:`fire` returns whether any event
moved holdings or reserves, which the model's recorder needs under the classic rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ValidationError

from adoption_model.errors import InputError
from adoption_model.scenario import Event, Scenario, _check_settable, format_validation_error
from adoption_model.state import NationState
from adoption_model.submodels import imf, reserve
from adoption_model.world import World, month_index


class EventTarget(Protocol):
    """What events read and change on a model (:class:`~adoption_model.model.AdoptionModel`)."""

    state: NationState
    world: World
    live: Scenario
    steps: int
    ids: list[Any]
    exposure: np.ndarray
    fired_events: list[dict[str, Any]]

    def resolve_nation(self, key: str | int, where: str = ...) -> int: ...


def by_month(events: list[Event]) -> dict[int, list[Event]]:
    """Index events by calendar month (in file order within a month)."""
    out: dict[int, list[Event]] = defaultdict(list)
    for ev in events:
        out[month_index(ev.date)].append(ev)
    return dict(out)


def fire(model: EventTarget, events: list[Event]) -> bool:
    """Apply this month's events to the model, in file order; True if money moved."""
    moved = False
    for ev in events:
        targets = [model.resolve_nation(k, f"events ({ev.kind} {ev.date})") for k in ev.targets()]
        idx = np.asarray(targets, dtype=np.int64)
        moved |= bool(_HANDLERS[ev.kind](model, ev, idx))
        model.fired_events.append(
            {
                "step": int(model.steps),
                "date": ev.date,
                "kind": ev.kind,
                "name": ev.name or ev.kind,
                "nations": [str(model.ids[i]) for i in idx],
            }
        )
    return moved


def _adopt(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    model.state.start_reserve(idx, model.steps)


def _mine(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    st = model.state
    if ev.mw is not None:
        st.energy_surplus_mw[idx] = np.maximum(st.energy_surplus_mw[idx], ev.mw)
    st.start_mining(idx, model.steps, ev.mw if ev.mw is not None else st.energy_surplus_mw[idx])


def _sell(model: EventTarget, ev: Event, idx: np.ndarray) -> bool:
    """Sell ``fraction`` (default all) of holdings now, at this month's price."""
    fraction = 1.0 if ev.fraction is None else ev.fraction
    reserve.sell_now(model.state, idx, fraction, model.world.price, model.steps)
    return True


def _buy(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    """Start a purchase programme (bought in the acts; the classic rules have no acts)."""
    model.state.start_programme(idx, ev.btc or 0.0, ev.months or 1)


def _price_shock(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    model.world.shock(float(ev.change or 0.0))


def _imf_stance(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    set_live(model, "imf.stance", ev.stance)


def _energy(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    model.state.energy_surplus_mw[idx] = ev.mw


def _set(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    set_live(model, ev.key or "", ev.value)


def _mandate(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    model.state.seized_mandate[idx] = True if ev.value is None else bool(ev.value)


def _pledge(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    model.state.no_sell[idx] = True if ev.value is None else bool(ev.value)


def _ban(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    """Impose or lift a crypto ban (decision.logit_inputs reads it from the next decision)."""
    on = True if ev.value is None else bool(ev.value)
    field = model.state.absolute_ban if ev.ban == "absolute" else model.state.mining_ban
    field[idx] = on


def _sanctions(model: EventTarget, ev: Event, idx: np.ndarray) -> None:
    model.state.sanctions_exposure[idx] = float(ev.value or 0.0)


_HANDLERS: dict[str, Callable[[EventTarget, Event, np.ndarray], bool | None]] = {
    "ban": _ban,
    "sanctions": _sanctions,
    "adopt": _adopt,
    "mine": _mine,
    "sell": _sell,
    "buy": _buy,
    "price_shock": _price_shock,
    "imf_stance": _imf_stance,
    "energy": _energy,
    "set": _set,
    "mandate": _mandate,
    "pledge": _pledge,
}


def set_live(model: EventTarget, key: str, value: Any) -> None:
    """Set a live scenario parameter (validated); takes effect from the next decision."""
    try:
        _check_settable(key, key)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    parts = key.split(".")
    node: Any = model.live
    for part in parts[:-1]:
        node = getattr(node, part)
    if not isinstance(node, BaseModel) or parts[-1] not in type(node).model_fields:
        raise InputError(f"{key}: unknown parameter")
    try:
        setattr(node, parts[-1], value)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, "").replace(parts[-1], key, 1)) from None
    if key == "imf.stance":
        model.world.imf_stance = float(value)
    if key.startswith("imf.exposure") or key == "imf.programme_floor":
        st, cfg = model.state, model.live.imf
        model.exposure = imf.exposure(
            st.credit_pct_quota, st.programme, cfg.exposure_full_at_pct_quota, cfg.programme_floor
        )
