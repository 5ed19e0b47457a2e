"""One replicate of the ensemble engine, initialised exactly as a single run.

:class:`Replicate` borrows :class:`~adoption_model.model.AdoptionModel`'s own methods to
build the graph and table, place the seed adopters, take the state from the panel and
resolve nations, with a Generator seeded as ``mesa.Model(seed=seed)`` seeds it, so each
replicate starts from its single run's bits (:mod:`adoption_model.ensemble` then stacks
the replicates' state).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.model import AdoptionModel
from adoption_model.scenario import Scenario
from adoption_model.state import STATE_FIELDS, NationState
from adoption_model.submodels import decision, events
from adoption_model.world import World

__all__ = ["STATE_FIELDS", "Replicate"]


class Replicate:
    """One replicate: initialised exactly as :class:`AdoptionModel` initialises a run.

    The single run's own methods build the graph and table, place the seed adopters and
    resolve nations (borrowed from :class:`AdoptionModel`), with a Generator seeded as
    ``mesa.Model(seed=seed)`` seeds it; it skips the Mesa agents, which the vectorised
    engine never uses. Afterwards it is what dated events act on (its ``state`` is then a
    view of its rows of the ensemble's arrays).
    """

    _build_world = AdoptionModel._build_world
    _init_adopters = AdoptionModel._init_adopters
    _state_from_panel = AdoptionModel._state_from_panel
    _data_events = AdoptionModel._data_events
    _start_exposure = AdoptionModel._start_exposure
    resolve_nation = AdoptionModel.resolve_nation
    first_adoptions = AdoptionModel.first_adoptions

    def _panel_values(self, sc: Scenario, month: str) -> dict[str, np.ndarray]:
        months = (month, sc.selling.months, sc.mining.allocation_share)
        return self._once(("panel", months), AdoptionModel._panel_values, sc, month)

    def _table_mining_mw(self) -> np.ndarray:
        return self._once("mining_mw", AdoptionModel._table_mining_mw)

    def _table_initial_state(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self._once("initial_state", AdoptionModel._table_initial_state)

    def _once(self, what: Any, read: Any, *args: Any) -> Any:
        """What ``read`` reads from the table (or the panel), once per table in the
        ensemble: the replicates of one table share it (those reads draw nothing, and
        their callers copy the arrays into each replicate's state)."""
        if self._table_key is None:
            return read(self, *args)
        key = (self._table_key, what)
        if key not in self._cache:
            self._cache[key] = read(self, *args)
        return self._cache[key]

    @functools.cached_property
    def index_of(self) -> dict[str, int]:
        """Row of each node id (as text), built when an event or option names a nation."""
        return {str(k): i for i, k in enumerate(self.network.nodes)}

    def __init__(self, sc: Scenario, seed: int, cache: dict | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.seed = int(seed)
        self.scenario = sc.model_copy(update={"seed": int(seed)})
        # the live copy is written only by 'set' and 'imf_stance' events
        mutable = any(ev.kind in ("set", "imf_stance") for ev in sc.events)
        self.live = self.scenario.model_copy(deep=True) if mutable else self.scenario
        self.engine = sc.engine
        key = None
        if sc.network.kind == "real" and cache is not None:  # the same graph and table
            key = (sc.network.layers.model_dump_json(), sc.network.allow_isolated)
        self._cache = cache if cache is not None else {}
        self._table_key = key
        if key is not None and key in cache:
            self.network, self.nations_table, self.index_of = cache[key]
        else:
            self.network, table = self._build_world(sc, None)
            plain = isinstance(table.index, pd.RangeIndex) and table.index.start == 0
            self.nations_table = table if plain else table.reset_index(drop=True)
            if key is not None:
                cache[key] = (self.network, self.nations_table, self.index_of)
        self.n = self.network.n
        self.ids = list(self.network.nodes)
        self.world = World.start(self.live)
        start = (self.world.price, sc.start, sc.imf.review_months)
        if key is not None:  # one table read per start, copied per replicate
            proto = cache.get((key, "state", start))
            if proto is None:
                proto = NationState.from_table(self.nations_table, *start)
                cache[(key, "state", start)] = proto
            self.state = NationState(**{f: getattr(proto, f).copy() for f in STATE_FIELDS})
        else:
            self.state = NationState.from_table(self.nations_table, *start)
        rule = decision.make_rule(sc.rule.kind, self.n)
        rule.setup(self.state, sc.rule, self.rng)
        self._init_adopters(sc)
        self.exposure = self._start_exposure(sc)
        # the nation table's dated changes: the same for every replicate of a table and start
        dkey = None if key is None else (key, "data events", sc.start, sc.initial.from_data)
        if dkey is not None and dkey in cache:
            self.data_events = list(cache[dkey])
        else:
            self.data_events = self._data_events(sc)
            if dkey is not None:
                cache[dkey] = list(self.data_events)
        self.schedule_events = events.by_month(self.data_events + list(sc.events))
        self.last_event_month = max(self.schedule_events, default=-1)
        for k, ev in enumerate(sc.events):
            for key in ev.targets():
                self.resolve_nation(key, f"events[{k}].nation")
        self.fired_events: list[dict[str, Any]] = []
        self.steps = 0
        self.stopped_early = False
        events.fire(self, self.schedule_events.get(self.world.month, []))
        adopted = self.state.adopted
        self.state.first_adopted[adopted & (self.state.first_adopted < 0)] = 0
        keep = sc.output.nation_frame
        self.keep_nations = (sc.network.kind == "real") if keep is None else bool(keep)
        self.classic = rule.classic
        self.kind = rule.kind
        self.done = False
