"""The adoption model: nations on an influence graph deciding each month (docs/ODD.md).

:class:`AdoptionModel` wires the world (:mod:`adoption_model.world`, ODD 7.6), the nations'
state and its transitions (:mod:`adoption_model.state`), the influence network, and the
submodels of ODD section 7, one file each in :mod:`adoption_model.submodels`: the peer
signal (7.1, ``signal``), the decision rule (7.2, ``decision``), mining (7.3, ``mining``),
reserve purchases and sales (7.4, ``reserve``), the IMF (7.5, ``imf``) and dated events
(7.7, ``events``). Observation is in :mod:`adoption_model.record` and
:mod:`adoption_model.explain`. One step is one month (docs/ODD.md section 3):

1. world update (price, supply and halvings, hashrate);
2. the month's scheduled events;
3. this month's random draws;
4. signals, on the start-of-step state;
5. decisions (synchronous: all decide, then all switch policy);
6. acts (logit rule; the classic rules model adoption alone): purchases, mining income and
   the stop rule, sales, IMF audits;
7. record, and stop early when nothing can change any more (and no dated event is pending).

Two engines run the same model. ``engine="vectorized"`` performs steps 4-6 with the
vectorised submodel functions, one synchronous numpy update for all nations.
``engine="agents"`` lets every :class:`~adoption_model.agents.Nation` gather its own signal
from its neighbours and decide and act in its own methods (the scalar references in the
same submodel files), in plain Mesa idiom. Both draw exactly the same random numbers from
``model.rng`` and give bit-identical trajectories.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from adoption_model import guards, mesa_compat, network
from adoption_model.agents import Nation
from adoption_model.errors import InputError, did_you_mean
from adoption_model.explain import explain as _explain
from adoption_model.nations import load_dated_changes
from adoption_model.network import InfluenceNetwork
from adoption_model.record import MODEL_COLUMNS, Collected, Recorder
from adoption_model.scenario import Event, Scenario, load_scenario
from adoption_model.state import NationState
from adoption_model.submodels import decision, events, imf, mining, reserve
from adoption_model.submodels.signal import PeerSignal, Signals, world_share
from adoption_model.world import World, month_index, month_name

__all__ = ["MODEL_COLUMNS", "AdoptionModel"]


class AdoptionModel(mesa_compat.Model):
    """Sovereign Bitcoin adoption on an influence graph (see docs/ODD.md).

    Parameters
    ----------
    scenario : Scenario, str, Path, dict or None
        A validated scenario, a bundled scenario name, a TOML path, a dict of keys or None
        for the baseline.
    seed : int, optional
        The run's seed; overrides ``scenario.seed``. Without either, a fresh seed is drawn
        from the operating system and recorded in ``model.seed``.
    overrides : dict, optional
        Dotted-key overrides, as ``--set`` on the command line.
    nations : DataFrame, optional
        A nation table to use instead of the bundled one (real network only).
    **kwargs
        Any further keyword is taken as a dotted override with ``__`` for ``.``
        (``rule__kind="bass"``), so that ``mesa.batch_run`` can sweep scenario keys.

    Examples
    --------
    >>> m = AdoptionModel(overrides={"steps": 3}, seed=1)
    >>> m.run_model(); m.steps
    3
    """

    def __init__(
        self,
        scenario: Any = None,
        seed: int | None = None,
        *,
        overrides: dict[str, Any] | None = None,
        nations: pd.DataFrame | None = None,
        **kwargs: Any,
    ) -> None:
        extra = {k.replace("__", "."): v for k, v in kwargs.items()}
        sc = load_scenario(scenario, {**(overrides or {}), **extra} or None)
        if seed is None:
            seed = sc.seed if sc.seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        mesa_compat.init_model(self, seed)
        self.seed = int(seed)
        self.scenario: Scenario = sc.model_copy(update={"seed": int(seed)})
        self.live: Scenario = self.scenario.model_copy(deep=True)
        self.engine = sc.engine

        # initialisation (docs/ODD.md section 5), in the order of the draws from model.rng:
        # the synthetic graph and attributes, the thresholds, the seed adopters
        self.network, table = self._build_world(sc, nations)
        self.nations_table = table.reset_index(drop=True)
        self.n = self.network.n
        self.ids: list[Any] = list(self.network.nodes)
        self.index_of = {str(k): i for i, k in enumerate(self.ids)}
        self.world = World.start(self.live)
        self.state = NationState.from_table(
            self.nations_table, self.world.price, sc.start, sc.imf.review_months
        )
        self.peers = PeerSignal(self.network)
        self.rule = decision.make_rule(sc.rule.kind, self.n)
        self.classic = self.rule.classic
        self.rule.setup(self.state, sc.rule, self.rng)
        self._init_adopters(sc)
        self.exposure = self._start_exposure(sc)
        self.data_events = self._data_events(sc)  # the nation table's dated changes
        self.schedule_events = events.by_month(self.data_events + list(sc.events))
        #: the month of the last dated event: classic runs stop early only after it
        self.last_event_month = max(self.schedule_events, default=-1)
        for k, ev in enumerate(sc.events):  # fail now, not years into the run
            for key in ev.targets():
                self.resolve_nation(key, f"events[{k}].nation")
        self.fired_events: list[dict[str, Any]] = []
        self.net_buying = 0.0  # last month's sovereign purchases minus sales (BTC)
        self.money_moved = False  # an event moved holdings or reserves this step
        self.gdp_total = float(self.state.gdp_usd.sum())
        self.population_total = float(self.state.population.sum())
        self.market = mining.Market(0.0, 0.0)

        keep = sc.output.nation_frame
        self.keep_nations = (sc.network.kind == "real") if keep is None else keep
        self.recorder = Recorder(self.n, sc.steps, self.keep_nations, self.classic)

        # the Mesa agents: thin views on the arrays
        self.nations = [Nation(self, i) for i in range(self.n)]
        mesa_compat.forget(self)  # all agents exist: drop Mesa's reference to the model

        events.fire(self, self.schedule_events.get(self.world.month, []))
        adopted = self.state.adopted
        self.state.first_adopted[adopted & (self.state.first_adopted < 0)] = 0
        self.new_adopters = adopted.copy()  # who adopted in the last step (cascade rule)
        self.signals = self._adoption_signals(adopted.copy())
        self.recorder.record(self)

    def _build_world(
        self, sc: Scenario, nations: pd.DataFrame | None
    ) -> tuple[InfluenceNetwork, pd.DataFrame]:
        return network.build(sc.network, self.rng, nations)

    def _start_exposure(self, sc: Scenario) -> np.ndarray:
        """Each nation's IMF exposure at the start (recomputed each step, 7.5)."""
        st, cfg = self.state, sc.imf
        return imf.exposure(
            st.credit_pct_quota, st.programme, cfg.exposure_full_at_pct_quota, cfg.programme_floor
        )

    def _data_events(self, sc: Scenario) -> list[Event]:
        """The nation table's dated changes (sanctions, bans) as events, on the real world.

        They fire before the scenario's own events of the same month, so a scenario can
        override them (docs/ODD.md 7.7, "Dated changes from the data").
        """
        from_data = sc.initial.from_data if sc.initial.from_data is not None else True
        if self.network.kind != "real" or not from_data:
            return []
        out: list[Event] = []
        for r in load_dated_changes().itertuples():
            if r.date < sc.start:
                continue
            name = f"data: {r.field} ({r.source_id}, {r.confidence})"
            if r.field == "sanctions_exposure":
                ev = Event(
                    date=r.date, kind="sanctions", nation=r.iso3, value=float(r.value), name=name
                )
            else:
                ban = "absolute" if r.field == "crypto_absolute_ban" else "mining"
                ev = Event(
                    date=r.date,
                    kind="ban",
                    nation=r.iso3,
                    ban=ban,
                    value=r.value == "True",
                    name=name,
                )
            out.append(ev)
        return out

    def resolve_nation(self, key: str | int, where: str = "nation") -> int:
        """Row index of a nation given its ISO3 code (real world) or node id (synthetic)."""
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            if 0 <= int(key) < self.n:
                return int(key)
            raise InputError(f"{where}: node {key} is out of range 0..{self.n - 1}")
        text = str(key).strip()
        idx = self.index_of.get(text.upper()) if self.network.kind == "real" else None
        if idx is None:
            idx = self.index_of.get(text)
        if idx is None and text.isdigit() and int(text) < self.n and self.network.kind != "real":
            idx = int(text)
        if idx is None:
            hint = did_you_mean(text.upper(), list(self.index_of)[:1000])
            raise InputError(f"{where}: '{text}' is not a nation{hint}")
        return idx

    def _init_adopters(self, sc: Scenario) -> None:
        st, init = self.state, sc.initial
        from_data = init.from_data if init.from_data is not None else sc.network.kind == "real"
        start_step = 0
        if init.from_panel is not None:
            self._state_from_panel(sc, init.from_panel)
        elif from_data and (initial := self._table_initial_state()) is not None:
            st.reserve[:], st.mining[:] = initial
            if "initial_mining_mw" in self.nations_table:
                st.mining_mw[:] = np.where(st.mining, self._table_mining_mw(), 0.0)
            st.policy_since[st.adopted] = start_step
        for i, key in enumerate(init.adopters):
            idx = self.resolve_nation(key, f"initial.adopters[{i}]")
            st.reserve[idx] = True
        count = init.seed_count + int(round(init.seed_fraction * self.n))
        if count:
            pool = np.flatnonzero(~st.adopted)
            if count > len(pool):
                raise InputError(
                    f"initial.seed_count: {count} seeds but only {len(pool)} nations can be seeded"
                )
            chosen = self.rng.choice(pool, size=count, replace=False)
            st.reserve[np.sort(chosen)] = True
        adopted = st.adopted
        st.first_adopted[adopted] = 0
        st.policy_since[adopted] = 0

    def _state_from_panel(self, sc: Scenario, month: str) -> None:
        """The observed state at the end of ``month`` (``initial.from_panel``).

        Covariates, policy states, holdings and cost basis come from the historical panel
        (:func:`adoption_model.data.panel_state`). The panel does not record where coins
        came from: a reserve holder's are counted as bought, a miner's (without a reserve)
        as mined, anyone else's as seized. A nation that mines uses its table's
        ``initial_mining_mw`` when given, else ``mining.allocation_share`` of its surplus;
        a reserve holder accumulates (its purchases track its target share, 7.4); a nation
        in the middle of a sale sells the rest over ``selling.months``. The IMF: the
        panel's programme flag; a programme's financing terms come from the nation table
        (programmes in force in 2025) and apply only where the panel shows a programme.
        """
        st = self.state
        for field, value in self._panel_values(sc, month).items():
            getattr(st, field)[:] = value
        st.imf_financing &= st.programme

    def _panel_values(self, sc: Scenario, month: str) -> dict[str, np.ndarray]:
        """The state arrays :meth:`_state_from_panel` takes from the panel (and the
        table's mining megawatts), by field. It draws nothing."""
        from adoption_model.data import panel_state

        rows = panel_state(month).reindex([str(k) for k in self.ids])
        if rows["month"].isna().any():
            missing = rows.index[rows["month"].isna()][0]
            raise InputError(f"initial.from_panel {month}: nation {missing} is not in the panel")

        def num(col: str) -> np.ndarray:
            return rows[col].to_numpy(dtype=float, na_value=0.0)

        def flag(col: str) -> np.ndarray:
            return rows[col].fillna(False).to_numpy(dtype=bool)

        holdings, reserve, mining = num("holdings_btc"), flag("state_reserve"), flag("state_mining")
        surplus = num("energy_surplus_mw")
        bought = np.where(reserve, holdings, 0.0)
        mined = np.where(~reserve & mining, holdings, 0.0)
        selling = flag("state_selling") & (holdings > 0)
        table_mw = self._table_mining_mw()
        mw = np.where(table_mw > 0, table_mw, sc.mining.allocation_share * surplus)
        return {
            "gdp_usd": num("gdp_usd"),
            "population": num("population"),
            "debt_pct_gdp": num("debt_pct_gdp"),
            "imports_usd_month": np.maximum(num("imports_usd_month"), 1.0),
            "energy_surplus_mw": surplus,
            "energy_cost_usd_mwh": num("energy_cost_usd_mwh"),
            "credit_pct_quota": num("imf_credit_pct_quota"),
            "programme": flag("imf_programme_active"),
            "seized_mandate": flag("seized_sale_mandate"),
            "no_sell": flag("no_sell_pledge"),
            "reserves_usd": num("reserves_usd"),
            "holdings": holdings,
            "cost_basis_usd": num("cost_basis_usd"),
            "reserve": reserve,
            "accumulating": reserve,
            "mining": mining,
            "bought_btc": bought,
            "mined_btc": mined,
            "seized_btc": holdings - bought - mined,
            "selling": selling,
            "sold_out": flag("state_sold_out") | selling,
            "sell_btc_month": np.where(selling, holdings / sc.selling.months, 0.0),
            "mining_mw": np.where(mining, mw, 0.0),
        }

    def _table_mining_mw(self) -> np.ndarray:
        """The table's ``initial_mining_mw`` (0 where missing, or without the column)."""
        if "initial_mining_mw" not in self.nations_table:
            return np.zeros(self.n)
        return self.nations_table["initial_mining_mw"].to_numpy(dtype=float, na_value=0.0)

    def _table_initial_state(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Who holds a reserve and who mines by the table's ``initial_state`` (None
        without the column)."""
        if "initial_state" not in self.nations_table:
            return None
        code = self.nations_table["initial_state"].astype(str).to_numpy()
        return np.isin(code, ("reserve", "both")), np.isin(code, ("mining", "both"))

    # ------------------------------------------------------------------ the step
    @property
    def date(self) -> str:
        """The current month, ``YYYY-MM``."""
        return self.world.date

    @guards.checked_step  # a non-finite price, stock or flow stops the run with one line
    def step(self) -> None:
        """Advance one month (Mesa increments ``self.steps`` before this runs)."""
        if self.steps > self.recorder.capacity():
            self.recorder.grow()
        st, rule = self.state, self.rule
        # 1. world update (7.6); the hashrate responds to last month's market
        self.world.advance(self.rng, self.net_buying, self.market.sovereign_th)
        if not self.classic:  # this month's flows start at zero (events may add to them)
            st.clear_flows()
        before = st.reserve | st.mining  # adopters before this month's events and decisions
        self.money_moved = events.fire(self, self.schedule_events.get(self.world.month, []))
        rule.draw(self.rng)  # 3. this month's uniforms
        self.signals = self._prepare_signals()  # 4. signals (7.1)
        agents = self.engine == "agents"
        if agents:  # 5. decisions (7.2)
            self.agents.do("decide")  # every nation decides on the start-of-step state,
            self.agents.do("commit")  # then all switch policy together (synchronous update)
        else:
            self._decide_vectorized()
        if not self.classic:  # 6. acts (7.3-7.5); the classic rules model adoption alone
            self.market = mining.market(st, self.world, self.live.mining.blocks_per_month)
            if agents:
                self.agents.do("act")
            else:
                self._act_vectorized()
        adopted = st.reserve | st.mining
        new = adopted & ~before  # dated 'adopt'/'mine' events count as new adopters too
        any_new = bool(new.any())
        if any_new:
            st.first_adopted[new & (st.first_adopted < 0)] = self.steps
        self.new_adopters = new
        if not self.classic:
            self.net_buying = float(st.bought.sum() - st.sold.sum())
        n_adopted = self.recorder.record(self, adopted, new if any_new else None, self.money_moved)
        pending = self.world.month < self.last_event_month  # a dated event is still to fire
        if self.steps >= self.scenario.steps or (not pending and rule.stops(any_new, n_adopted)):
            self.running = False
        self.stopped_early = not self.running and self.steps < self.scenario.steps

    def _adoption_signals(self, adopted: np.ndarray) -> Signals:
        return Signals(
            adopted=adopted,
            adopted_f=adopted.astype(float),
            n_adopted=float(np.count_nonzero(adopted)),
            new_prev=self.new_adopters.astype(float),
            t=self.steps,
            price=self.world.price,
        )

    def _prepare_signals(self) -> Signals:
        """Model-level signals, computed once per step on the start-of-step state."""
        st, w, sc = self.state, self.world, self.live
        sig = self._adoption_signals(st.reserve | st.mining)
        if self.classic:
            return sig
        sig.world_share = world_share(st.gdp_usd, sig.adopted, self.gdp_total)
        sig.momentum = w.momentum()
        sig.revenue_mwh = mining.market(st, w, sc.mining.blocks_per_month).revenue_mwh
        sig.p_detect = imf.detection_probability(w.imf_stance, sc.imf.detection_probability)
        sig.imf_stance = w.imf_stance
        cfg = sc.imf  # programmes start, end and go off track: exposure follows them
        self.exposure = imf.exposure(
            st.credit_pct_quota, st.programme, cfg.exposure_full_at_pct_quota, cfg.programme_floor
        )
        sig.exposure = self.exposure
        sig.imf_at_risk = imf.at_risk(st, sig.p_detect, cfg.review_months)
        return sig

    def _decide_vectorized(self) -> None:
        sig = self.signals
        counts = self.peers.new_adopter_counts(sig.new_prev) if self.rule.uses_counts else None
        peer = self.peers.share(sig.adopted_f)
        action = self.rule.decide(self.live, self.state, slice(None), peer, sig, counts)
        decision.commit(self.state, action, self.steps, self.live)

    def _act_vectorized(self) -> None:
        st, sc, w, t = self.state, self.live, self.world, self.steps
        reserve.buy(st, t, w.price, sc.adoption)  # 7.4 purchases toward the target
        mining.mine(st, self.market, w.efficiency_j_per_th, sc.mining.stop_after_months)  # 7.3
        reserve.sell(st, w.price, sc.selling.mined_share, t)  # 7.4 sales
        rule = self.rule  # 7.5 reviews, programmes ending and starting
        imf.review(st, rule.u_audit, rule.u_imf, self.signals.p_detect, t, sc.imf)

    # ------------------------------------------------------------------ explanations
    @property
    def last_terms(self) -> np.ndarray:
        """Utility terms of the latest decision, ``(n, 3 options, terms)`` (logit rule)."""
        return self.rule.terms

    @property
    def last_util(self) -> np.ndarray:
        """Utilities of adopt, mine and sell in the latest decision, ``(n, 3)``."""
        return self.rule.util

    @property
    def last_probs(self) -> np.ndarray:
        """Probabilities of hold, adopt, mine and sell in the latest decision, ``(n, 4)``."""
        return self.rule.probs

    def explain(self, nation: str | int) -> pd.DataFrame:
        """The latest decision of one nation, term by term (see :mod:`adoption_model.explain`).

        Returns a small table: one row per utility term (with a plain-words label), then the
        rows ``utility`` and ``probability``; one column per option (hold, adopt, mine,
        sell). ``.attrs`` carries the nation, step, date, whether it reviewed its policy, the
        chosen action and its policy state.
        """
        return _explain(self, nation)

    # ------------------------------------------------------------------ outputs
    def dates(self) -> list[str]:
        """``YYYY-MM`` of every recorded step."""
        return self.recorder.dates()

    def model_frame(self) -> pd.DataFrame:
        """One row per recorded step (step 0 included)."""
        return self.recorder.model_frame()

    def series(self, column: str) -> np.ndarray:
        """One column of the model frame as a read-only array, without building a DataFrame.

        For live displays that redraw every step; ``column`` is any of ``MODEL_COLUMNS``
        except ``date`` (use :meth:`dates`).
        """
        return self.recorder.series(column)

    def nation_frame(self) -> pd.DataFrame | None:
        """One row per nation per recorded step, with the decision breakdown; None if off."""
        return self.recorder.nation_frame(self.ids)

    @property
    def datacollector(self) -> Collected:
        """What ``mesa.batch_run`` reads: the model frame as Mesa's DataCollector would hold it.

        ``model_vars[column][k]`` is the value after step ``k`` (index 0 is the initial
        state); there are no agent reporters (see :class:`adoption_model.record.Collected`).
        """
        return Collected(self.recorder)

    def set_parameter(self, key: str, value: Any) -> None:
        """Change a live parameter (dated 'set' events and the view's sliders).

        Takes effect from the next step. ``key`` is a dotted scenario path such as
        ``rule.coef.a_peer`` or ``imf.stance``.
        """
        events.set_live(self, key, value)

    def first_adoptions(self) -> pd.DataFrame:
        """Who adopted (reserve or mining) and when; step 0 are the starting adopters."""
        fa = self.state.first_adopted
        idx = np.flatnonzero(fa >= 0)
        start = month_index(self.scenario.start)
        steps, where = np.unique(fa[idx], return_inverse=True)  # each month named once
        names = np.array([month_name(start + int(s)) for s in steps], dtype=object)
        ids = np.asarray(self.ids, dtype=object)
        return pd.DataFrame(
            {
                "nation": [str(k) for k in ids[idx]],
                "step": fa[idx],
                "date": names[where.reshape(-1)] if len(idx) else [],
            }
        ).sort_values(["step", "nation"], kind="stable", ignore_index=True)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (
            f"AdoptionModel({self.scenario.name!r}, seed={self.seed}, n={self.n}, "
            f"step={self.steps}, engine={self.engine!r})"
        )
