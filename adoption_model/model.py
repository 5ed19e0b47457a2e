"""The adoption model: nations on an influence graph deciding each month.

:class:`AdoptionModel` wires the world (:mod:`~adoption_model.world`), the nations' state
(:mod:`~adoption_model.state`), the influence network (:mod:`~adoption_model.network`), the
decision rule (:mod:`~adoption_model.rules`), mining (:mod:`~adoption_model.mining`), the IMF
(:mod:`~adoption_model.imf`) and dated events (:mod:`~adoption_model.events`), and holds
``step()``. One step is one month (MODEL.md section 3):

1. world update (price, supply and halvings, hashrate) and the month's scheduled events;
2. signals, on the start-of-step state;
3. decisions (synchronous);
4. acts (logit rule; the classic rules model adoption alone): purchases, mining income,
   sales, IMF audits;
5. record.

Two engines run the same model. ``engine="vectorized"`` updates the state arrays in one
synchronous numpy step. ``engine="agents"`` lets every :class:`~adoption_model.agents.Nation`
gather its own signal from its neighbours and decide and act in its own methods, in plain
Mesa idiom. Both draw exactly the same random numbers from ``model.rng`` (one standard
normal for the price, then the rule's uniforms: a ``(3, n)`` block for the logit rule
(review, choice, audit), one vector for Bass and the cascade, none for the threshold rule)
and give bit-identical trajectories.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from adoption_model import events as events_mod
from adoption_model import imf, mesa_compat, mining, rules
from adoption_model.errors import InputError, did_you_mean
from adoption_model.network import InfluenceNetwork
from adoption_model.scenario import Scenario, load_scenario
from adoption_model.state import STATE_NAMES, NationState
from adoption_model.world import World, month_index

try:  # scipy's compiled CSR mat-vec (the kernel behind ``csr_array @ vector``)
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - a future scipy may move it; fall back to ``@``
    _csr_matvec = None

#: Real influence networks already built in this process, by layer weights.
_REAL_NETWORKS: dict[tuple[str, bool], InfluenceNetwork] = {}

#: Columns of the per-step model frame, in order.
MODEL_COLUMNS = (
    "step",
    "date",
    "n_adopters",
    "adoption_share",
    "gdp_weighted_share",
    "population_weighted_share",
    "n_reserve",
    "n_miners",
    "mining_mw",
    "n_sold_out",
    "n_new_adopters",
    "btc_sovereign",
    "btc_bought",
    "btc_mined",
    "btc_sold",
    "supply_btc",
    "supply_share",
    "btc_price",
    "subsidy_btc",
    "network_hashrate_ehs",
    "imf_stance",
    "imf_detections",
    "fx_reserves_usd",
)


def fx_stress(reserves_usd: np.ndarray, imports_usd_month: np.ndarray) -> np.ndarray:
    """0 with three or more months of import cover (the IMF's rule of thumb), 1 with none."""
    return np.clip((3.0 - reserves_usd / imports_usd_month) / 3.0, 0.0, 1.0)


def debt_stress(debt_pct_gdp: np.ndarray) -> np.ndarray:
    """0 at or below 60% of GDP, 1 at or above 150%, linear between."""
    return np.clip((debt_pct_gdp - 60.0) / 90.0, 0.0, 1.0)


def unrealised_gain(holdings: np.ndarray, cost_basis: np.ndarray, price: float) -> np.ndarray:
    """tanh of the log gain on holdings against their cost basis (0 without holdings)."""
    ok = (holdings > 0) & (cost_basis > 0)
    ratio = np.where(ok, holdings * price / np.where(ok, cost_basis, 1.0), 1.0)
    return np.tanh(np.log(ratio))


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

        # network and nations: synthetic graphs draw from the model's generator first
        self.network, table = self._build_world(sc, nations)
        self.nations_table = table.reset_index(drop=True)
        self.n = self.network.n
        self.ids: list[Any] = list(self.network.nodes)
        self.index_of = {str(k): i for i, k in enumerate(self.ids)}
        self.world = World.start(self.live)
        self.state = NationState.from_table(self.nations_table, self.world.price)
        self._den = self.network.in_degree_weight()
        self._all_listen = bool((self._den > 0).all())
        self._structure: sp.csr_array | None = None
        if self.network.matrix is not None:
            s = self.network.matrix.copy()
            s.data[:] = 1.0
            self._structure = s
        self._init_rule(sc)
        self._init_adopters(sc)
        self.exposure = imf.exposure(
            self.state.credit_pct_quota,
            self.state.programme,
            sc.imf.exposure_full_at_pct_quota,
            sc.imf.programme_floor,
        )
        self.schedule_events = events_mod.by_month(sc.events)
        for k, ev in enumerate(sc.events):  # fail now, not years into the run
            for key in ev.targets():
                self.resolve_nation(key, f"events[{k}].nation")
        self.fired_events: list[dict[str, Any]] = []
        self._net_buying = 0.0
        self._money_moved = False
        self.classic = sc.rule.kind != "logit"
        self._counts = np.zeros(self.n)
        self._adopted_before = self.state.adopted
        self._u_review = self._u_choice = self._u_audit = np.zeros(self.n)
        self._gdp_total = float(self.state.gdp_usd.sum())
        self._pop_total = float(self.state.population.sum())

        # explanations of the latest decision
        self.last_terms = np.zeros((self.n, 3, len(rules.TERMS)))
        self.last_util = np.zeros((self.n, 3))
        self.last_probs = np.zeros((self.n, 4))
        self.last_probs[:, 0] = 1.0

        keep = sc.output.nation_frame
        self.keep_nations = (sc.network.kind == "real") if keep is None else keep
        self._init_recorders(sc.steps)

        # the Mesa agents: thin views on the arrays
        from adoption_model.agents import Nation

        self.nations = [Nation(self, i) for i in range(self.n)]
        mesa_compat.forget(self)  # all agents exist: drop Mesa's reference to the model

        events_mod.fire(self, self.schedule_events.get(self.world.month, []))
        adopted = self.state.adopted
        self.state.first_adopted[adopted & (self.state.first_adopted < 0)] = 0
        self._new_prev = adopted.copy()
        self._adopted_before = adopted.copy()
        self._record()

    # ------------------------------------------------------------------ construction
    def _build_world(
        self, sc: Scenario, nations: pd.DataFrame | None
    ) -> tuple[InfluenceNetwork, pd.DataFrame]:
        from adoption_model import network as net
        from adoption_model.nations import load_nations

        cfg = sc.network
        if cfg.kind == "real":
            if nations is not None:
                graph = net.real_network(nations, cfg.layers, allow_isolated=cfg.allow_isolated)
                return graph, nations
            key = (cfg.layers.model_dump_json(), cfg.allow_isolated)
            if key not in _REAL_NETWORKS:  # immutable, so runs in one process share it
                if len(_REAL_NETWORKS) >= 32:
                    _REAL_NETWORKS.clear()
                _REAL_NETWORKS[key] = net.real_network(
                    load_nations(), cfg.layers, allow_isolated=cfg.allow_isolated
                )
            return _REAL_NETWORKS[key], load_nations()
        if cfg.kind == "erdos_renyi":
            graph = net.erdos_renyi(cfg.n, cfg.mean_degree, self.rng)
        elif cfg.kind == "barabasi_albert":
            graph = net.barabasi_albert(cfg.n, cfg.m, self.rng)
        elif cfg.kind == "watts_strogatz":
            graph = net.watts_strogatz(cfg.n, cfg.k, cfg.p, self.rng)
        elif cfg.kind == "ring":
            graph = net.ring(cfg.n, cfg.k)
        else:
            graph = net.complete(cfg.n)
        table = net.synthetic_nations(cfg.n, self.rng, mode=cfg.attributes)
        return graph, table

    def _init_rule(self, sc: Scenario) -> None:
        r = sc.rule
        if r.kind == "threshold":
            if r.thresholds is not None and len(r.thresholds) != self.n:
                raise InputError(
                    f"rule.thresholds: {len(r.thresholds)} values for {self.n} nations; "
                    "give one per node"
                )
            self.state.threshold = rules.draw_thresholds(self.n, r, self.rng)

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
        if from_data and "initial_state" in self.nations_table:
            code = self.nations_table["initial_state"].astype(str).to_numpy()
            st.reserve[:] = np.isin(code, ("reserve", "both"))
            st.mining[:] = np.isin(code, ("mining", "both"))
            if "initial_mining_mw" in self.nations_table:
                mw = self.nations_table["initial_mining_mw"].to_numpy(dtype=float, na_value=0.0)
                st.mining_mw[:] = np.where(st.mining, mw, 0.0)
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
        self._new_prev = adopted.copy()

    def _init_recorders(self, steps: int) -> None:
        length = steps + 1
        self._rows = 0
        self._model_rec = {c: np.zeros(length) for c in MODEL_COLUMNS if c != "date"}
        self._months: list[int] = []
        self._nation_rec: dict[str, np.ndarray] = {}
        if self.keep_nations and self.classic:
            # adoption is the only process: keep the state, signal, action and probability;
            # holdings, reserves and mining stay at their step-0 values (kept once)
            n = self.n
            for name, dtype in (
                ("state", np.int8),
                ("peer", float),
                ("action", np.int8),
                ("p_adopt", float),
            ):
                self._nation_rec[name] = np.zeros((length, n), dtype=dtype)
        elif self.keep_nations:
            n = self.n
            for name, dtype in (
                ("state", np.int8),
                ("holdings", float),
                ("reserves_usd", float),
                ("mining_mw", float),
                ("peer", float),
                ("action", np.int8),
                ("reviewed", bool),
                ("bought", float),
                ("mined", float),
                ("sold", float),
            ):
                self._nation_rec[name] = np.zeros((length, n), dtype=dtype)
            self._nation_rec["probs"] = np.zeros((length, n, 4))
            self._nation_rec["util"] = np.zeros((length, n, 3))
            self._nation_rec["terms"] = np.zeros((length, n, 3, len(rules.TERMS)))

    # ------------------------------------------------------------------ the step
    @property
    def date(self) -> str:
        """The current month, ``YYYY-MM``."""
        return self.world.date

    def step(self) -> None:
        """Advance one month (Mesa increments ``self.steps`` before this runs)."""
        if self.steps > self._capacity():
            self._grow_recorders()
        st = self.state
        self.world.advance(self.rng, self._net_buying)
        if not self.classic:  # this month's flows start at zero (events may add to them)
            st.bought[:] = 0.0
            st.mined[:] = 0.0
            st.sold[:] = 0.0
            st.detected[:] = False
        self._money_moved = False
        events_mod.fire(self, self.schedule_events.get(self.world.month, []))
        self._draw()
        self._prepare_signals()
        agents = self.engine == "agents"
        if agents:
            self.agents.do("decide")  # every nation decides on the start-of-step state,
            self.agents.do("commit")  # then all switch policy together (synchronous update)
        else:
            self._decide_vectorized()
        if not self.classic:  # the classic rules model adoption alone: no acts
            self._after_decisions()
            if agents:
                self.agents.do("act")
            else:
                self._act_vectorized()
        adopted = st.reserve | st.mining
        new = adopted & ~self._adopted_before
        any_new = bool(new.any())
        if any_new:
            st.first_adopted[new & (st.first_adopted < 0)] = self.steps
        self._new_prev = new
        if not self.classic:
            self._net_buying = float(st.bought.sum() - st.sold.sum())
        n_adopted = self._record(adopted, new if any_new else None)
        self._check_stop(any_new, n_adopted)

    def _draw(self) -> None:
        """This step's uniforms, one block per step from ``model.rng`` (after the price draw).

        The logit rule draws a ``(3, n)`` block (policy review, choice, IMF audit); Bass and
        the cascade draw one vector (adoption); the threshold rule is deterministic.
        """
        kind = self.live.rule.kind
        if kind == "logit":
            self._u_review, self._u_choice, self._u_audit = self.rng.random((3, self.n))
        elif kind in ("bass", "cascade"):
            self._u_choice = self.rng.random(self.n)

    def _capacity(self) -> int:
        return len(self._model_rec["step"]) - 1

    def _grow_recorders(self) -> None:
        """Allow stepping past ``scenario.steps`` (interactive use): double the buffers."""
        for rec in (self._model_rec, self._nation_rec):
            for key, arr in rec.items():
                rec[key] = np.concatenate([arr, np.zeros_like(arr)])

    def _prepare_signals(self) -> None:
        """Shared, model-level signals computed once per step on the start-of-step state."""
        st, w, sc = self.state, self.world, self.live
        adopted = st.reserve | st.mining
        self._adopted_before = adopted
        self.adopted_now = adopted.astype(float)
        self.n_adopted_now = float(np.count_nonzero(adopted))
        self.new_prev = self._new_prev.astype(float)
        if self.classic:
            return
        self.world_share = float(st.gdp_usd[adopted].sum() / self._gdp_total)
        self.momentum = w.momentum()
        mn = sc.mining
        self.sovereign_th = float(
            mining.hashrate_th(st.mining_mw[st.mining], w.efficiency_j_per_th).sum()
        )
        total = w.network_hashrate_th + self.sovereign_th
        per_th = mining.btc_per_th_month(w.block_reward(), mn.blocks_per_month, total)
        self.revenue_mwh = mining.revenue_per_mwh(per_th, w.price, w.efficiency_j_per_th)
        self.p_detect = imf.detection_probability(w.imf_stance, sc.imf.detection_probability)

    def _after_decisions(self) -> None:
        """Network totals needed by the acts (after new miners joined)."""
        st, w, mn = self.state, self.world, self.live.mining
        self.sovereign_th = float(
            mining.hashrate_th(st.mining_mw[st.mining], w.efficiency_j_per_th).sum()
        )
        total = w.network_hashrate_th + self.sovereign_th
        self.btc_per_th = mining.btc_per_th_month(w.block_reward(), mn.blocks_per_month, total)
        self.revenue_mwh_after = mining.revenue_per_mwh(
            self.btc_per_th, w.price, w.efficiency_j_per_th
        )

    # ---- signals ---------------------------------------------------------------------
    def peer_signal(self, x: np.ndarray) -> np.ndarray:
        """m_i: influence-weighted share of in-neighbours with ``x`` (vectorised).

        Same arithmetic as :meth:`InfluenceNetwork.signal` (scipy's CSR mat-vec kernel,
        then one division), called directly to skip scipy's Python-level dispatch, which
        dominates a step at a few hundred nations.
        """
        w = self.network.matrix
        if w is None or _csr_matvec is None:
            return self.network.signal(x)
        num = np.zeros(self.n)
        _csr_matvec(self.n, self.n, w.indptr, w.indices, w.data, x, num)
        if self._all_listen:  # every nation has in-neighbours (always so on the real graph)
            return np.divide(num, self._den, out=num)
        return np.divide(num, self._den, out=np.zeros(self.n), where=self._den > 0)

    def new_neighbour_counts(self) -> np.ndarray:
        """Number of in-neighbours that adopted in the previous step (cascade rule)."""
        if self._structure is None:
            return np.full(self.n, float(self.new_prev.sum()))
        return self._structure @ self.new_prev

    def logit_inputs(self, idx: np.ndarray | slice, peer: np.ndarray) -> rules.LogitInputs:
        """What nations ``idx`` see under the logit rule (shared by both engines)."""
        st, sc = self.state, self.live
        frozen = self.steps < st.freeze_until[idx]
        return rules.LogitInputs(
            fx_stress=fx_stress(st.reserves_usd[idx], st.imports_usd_month[idx]),
            debt_stress=debt_stress(st.debt_pct_gdp[idx]),
            peer=peer,
            world_share=self.world_share,
            momentum=self.momentum,
            imf_pressure=self.world.imf_stance * self.exposure[idx],
            margin=mining.margin(self.revenue_mwh, st.energy_cost_usd_mwh[idx]),
            gain=unrealised_gain(st.holdings[idx], st.cost_basis_usd[idx], self.world.price),
            mandate=st.seized_mandate[idx].astype(float),
            can_adopt=~st.reserve[idx] & ~st.selling[idx] & ~frozen,
            can_mine=~st.mining[idx] & (st.energy_surplus_mw[idx] * sc.mining.allocation_share > 0),
            can_sell=(st.holdings[idx] > 0) & ~st.no_sell[idx] & ~st.selling[idx],
        )

    def decide_rows(
        self,
        idx: np.ndarray | slice,
        peer: np.ndarray,
        new_counts: np.ndarray | None = None,
    ) -> np.ndarray:
        """Apply the rule to nations ``idx`` with signals ``peer`` and this step's uniforms.

        ``new_counts`` (cascade rule only) is the number of in-neighbours that adopted in
        the previous step.

        Stores the explanation (terms, utilities, probabilities) and returns the actions.
        Both engines call this: the vectorised one with every nation, an agent with itself.
        """
        st, r = self.state, self.live.rule
        if r.kind == "threshold":  # the classic rules: adoption only, nothing else to keep
            action = rules.threshold_decide(peer, st.threshold[idx], self._adopted_before[idx])
        elif r.kind == "bass":
            action = rules.bass_decide(
                peer, r.p, r.q, self._adopted_before[idx], self._u_choice[idx]
            )
        elif r.kind == "cascade":
            self._counts[idx] = new_counts
            action = rules.cascade_decide(
                new_counts, r.transmission, self._adopted_before[idx], self._u_choice[idx]
            )
        if self.classic:
            st.peer[idx] = peer
            st.action[idx] = action
            return action
        if r.kind == "logit":
            x = self.logit_inputs(idx, peer)
            terms, util, probs, action = rules.logit_decide(
                x, r.coef, r.choice_intensity, self._u_choice[idx]
            )
            reviewed = self._u_review[idx] < r.review_probability
            action = np.where(reviewed, action, rules.HOLD)
            self.last_terms[idx] = terms
            self.last_util[idx] = util
        self.last_probs[idx] = probs
        st.reviewed[idx] = reviewed
        st.peer[idx] = peer
        st.action[idx] = action
        return action

    def classic_probabilities(self) -> np.ndarray:
        """Probabilities of hold/adopt/mine/sell in the latest classic-rule decision, (n, 4)."""
        p = self.classic_adopt_probability()
        probs = np.zeros((self.n, 4))
        probs[:, 1] = p
        probs[:, 0] = 1.0 - p
        return probs

    def classic_adopt_probability(self) -> np.ndarray:
        """Adoption probability of the latest decision under a classic rule.

        Derived from the stored signals: the threshold rule gives 1 where the signal
        reached the threshold, Bass ``p + q m``, the cascade ``1 - (1 - T)^k``; nations that
        had already adopted had nothing to decide (0).
        """
        st, r = self.state, self.live.rule
        if r.kind == "threshold":
            p = (st.peer >= st.threshold).astype(float)
        elif r.kind == "bass":
            p = np.minimum(r.p + r.q * st.peer, 1.0)
        else:
            p = 1.0 - np.power(1.0 - r.transmission, self._counts)
        return np.where(self._adopted_before, 0.0, p)

    def _decide_vectorized(self) -> None:
        counts = self.new_neighbour_counts() if self.live.rule.kind == "cascade" else None
        peer = self.peer_signal(self.adopted_now)
        action = self.decide_rows(slice(None), peer, counts)
        self._apply_decisions(action)

    # ---- acts -------------------------------------------------------------------------
    def _apply_decisions(self, action: np.ndarray) -> None:
        """State transitions for every nation's chosen action (vectorised)."""
        st = self.state
        if not action.any():  # everybody holds: nothing to switch
            return
        self.start_reserve(np.flatnonzero(action == rules.ADOPT))
        mine = np.flatnonzero(action == rules.MINE)
        self.start_mining(mine, self.live.mining.allocation_share * st.energy_surplus_mw[mine])
        self._start_sale(np.flatnonzero(action == rules.SELL))

    def start_reserve(self, idx: np.ndarray) -> None:
        """Nations ``idx`` adopt a reserve and plan to buy toward the target (decisions, events)."""
        st, sc = self.state, self.live
        st.reserve[idx] = True
        st.sold_out[idx] = False
        st.selling[idx] = False
        st.policy_since[idx] = self.steps
        st.buy_usd_month[idx] = (
            sc.adoption.target_share * st.reserves_usd[idx] / sc.adoption.purchase_months
        )
        st.buy_months_left[idx] = sc.adoption.purchase_months

    def start_mining(self, idx: np.ndarray, mw: np.ndarray | float) -> None:
        """Nations ``idx`` start mining with ``mw`` megawatts (decisions, events)."""
        st = self.state
        st.mining[idx] = True
        st.mining_mw[idx] = mw
        st.negative_months[idx] = 0
        st.policy_since[idx] = self.steps

    def leave_reserve(self, idx: np.ndarray) -> None:
        """Nations ``idx`` drop their reserve policy and purchase plans: they are sold out."""
        st = self.state
        st.reserve[idx] = False
        st.buy_months_left[idx] = 0
        st.program_months_left[idx] = 0
        st.sold_out[idx] = True
        st.policy_since[idx] = self.steps

    def _start_sale(self, sell: np.ndarray) -> None:
        """Leave the reserve and sell: all at once under a sale law, else in tranches."""
        st, sc = self.state, self.live
        self.leave_reserve(sell)
        st.selling[sell] = True
        st.sell_btc_month[sell] = np.where(
            st.seized_mandate[sell], st.holdings[sell], st.holdings[sell] / sc.selling.months
        )

    def _pay(self, usd: np.ndarray) -> None:
        """Buy ``usd`` worth of BTC at this month's price, paid from FX reserves."""
        st = self.state
        btc = usd / self.world.price
        st.holdings += btc
        st.reserves_usd -= usd
        st.cost_basis_usd += usd
        st.bought += btc

    def _act_vectorized(self) -> None:
        st, sc, w, t = self.state, self.live, self.world, self.steps
        price = w.price
        # purchases toward the target, and dated purchase programmes
        frozen = t < st.freeze_until
        buying = st.reserve & (st.buy_months_left > 0) & ~frozen
        self._pay(np.where(buying, np.minimum(st.buy_usd_month, st.reserves_usd), 0.0))
        st.buy_months_left -= buying
        prog = (st.program_months_left > 0) & ~frozen
        usd = np.where(prog, np.minimum(st.program_btc_month * price, st.reserves_usd), 0.0)
        self._pay(usd)
        st.program_months_left -= prog
        # mining income and the stop rule
        h = np.where(st.mining, mining.hashrate_th(st.mining_mw, w.efficiency_j_per_th), 0.0)
        earned = h * self.btc_per_th
        st.holdings += earned
        st.mined += earned
        m = mining.margin(self.revenue_mwh_after, st.energy_cost_usd_mwh)
        neg = st.mining & (m < 0)
        st.negative_months[:] = np.where(neg, st.negative_months + 1, 0)
        stop = neg & (st.negative_months >= sc.mining.stop_after_months)
        st.mining[stop] = False
        st.mining_mw[stop] = 0.0
        st.negative_months[stop] = 0
        # sales
        selling = st.selling
        amount = np.where(selling, np.minimum(st.sell_btc_month, st.holdings), 0.0)
        share = np.where(
            selling & (st.holdings > 0), amount / np.where(st.holdings > 0, st.holdings, 1.0), 0.0
        )
        st.cost_basis_usd -= st.cost_basis_usd * share
        st.holdings -= amount
        st.reserves_usd += amount * price
        st.sold += amount
        done = selling & (st.holdings <= 1e-9)
        st.holdings[done] = 0.0
        st.cost_basis_usd[done] = 0.0
        st.selling[done] = False
        # IMF audits of programme countries that accumulated this month
        caught = st.programme & ((st.bought + st.mined) > 0) & (self._u_audit < self.p_detect)
        st.detected |= caught
        st.reserves_usd -= np.where(caught, st.reserves_usd * sc.imf.tranche_share_of_reserves, 0.0)
        st.freeze_until[caught] = t + 1 + sc.imf.freeze_months

    # ------------------------------------------------------------------ record and stop
    def _record(self, adopted: np.ndarray | None = None, new: np.ndarray | None = None) -> int:
        """Record the step; ``new=None`` after step 0 means nobody adopted. Returns adopters."""
        st, w = self.state, self.world
        r, i = self._model_rec, self._rows
        if adopted is None:
            adopted = st.reserve | st.mining
        n_ad = float(np.count_nonzero(adopted))
        r["step"][i] = self.steps
        self._months.append(w.month)
        r["n_adopters"][i] = n_ad
        r["adoption_share"][i] = n_ad / self.n
        # boolean selection then sum: no BLAS thread start-up, no slow where= reduction
        r["gdp_weighted_share"][i] = st.gdp_usd[adopted].sum() / self._gdp_total
        r["population_weighted_share"][i] = st.population[adopted].sum() / self._pop_total
        r["n_reserve"][i] = np.count_nonzero(st.reserve)
        r["n_miners"][i] = np.count_nonzero(st.mining)
        if new is not None:
            r["n_new_adopters"][i] = np.count_nonzero(new)
        else:
            r["n_new_adopters"][i] = n_ad if i == 0 else 0.0
        r["supply_btc"][i] = w.supply
        r["btc_price"][i] = w.price
        r["subsidy_btc"][i] = w.subsidy
        r["network_hashrate_ehs"][i] = w.network_hashrate_th / 1e6
        r["imf_stance"][i] = w.imf_stance
        if self.classic and i > 0 and not self._money_moved:
            # adoption is the only process: holdings, reserves and mining do not move
            for key in ("mining_mw", "n_sold_out", "btc_sovereign", "fx_reserves_usd"):
                r[key][i] = r[key][i - 1]
            r["supply_share"][i] = r["btc_sovereign"][i] / w.supply
        else:
            total = st.holdings.sum()
            r["mining_mw"][i] = st.mining_mw[st.mining].sum()
            r["n_sold_out"][i] = np.count_nonzero(st.sold_out & ~adopted)
            r["btc_sovereign"][i] = total
            r["btc_bought"][i] = st.bought.sum()
            r["btc_mined"][i] = st.mined.sum()
            r["btc_sold"][i] = st.sold.sum()
            r["supply_share"][i] = total / w.supply
            r["imf_detections"][i] = np.count_nonzero(st.detected)
            r["fx_reserves_usd"][i] = st.reserves_usd.sum()
        if self.keep_nations and self.classic:
            nr = self._nation_rec
            nr["state"][i] = st.reserve.view(np.int8) + 2 * st.mining.view(np.int8)
            nr["peer"][i] = st.peer
            nr["action"][i] = st.action
            nr["p_adopt"][i] = self.classic_adopt_probability()
            if i == 0:
                self._static_rows = {
                    "holdings": st.holdings.copy(),
                    "reserves_usd": st.reserves_usd.copy(),
                    "mining_mw": np.where(st.mining, st.mining_mw, 0.0),
                }
        elif self.keep_nations:
            nr = self._nation_rec
            nr["state"][i] = st.state_code()
            nr["holdings"][i] = st.holdings
            nr["reserves_usd"][i] = st.reserves_usd
            nr["mining_mw"][i] = np.where(st.mining, st.mining_mw, 0.0)
            nr["peer"][i] = st.peer
            nr["action"][i] = st.action
            nr["reviewed"][i] = st.reviewed
            nr["bought"][i] = st.bought
            nr["mined"][i] = st.mined
            nr["sold"][i] = st.sold
            nr["probs"][i] = self.last_probs
            nr["util"][i] = self.last_util
            nr["terms"][i] = self.last_terms
        self._rows += 1
        return int(n_ad)

    def _check_stop(self, any_new: bool, n_adopted: int) -> None:
        kind = self.live.rule.kind
        if self.steps >= self.scenario.steps:
            self.running = False
        elif kind in ("threshold", "cascade") and not any_new:
            # deterministic (threshold) or exhausted (cascade: no new adopter, no chances left)
            self.running = False
        elif self.classic and n_adopted == self.n:
            self.running = False
        self.stopped_early = not self.running and self.steps < self.scenario.steps

    # ------------------------------------------------------------------ outputs
    def dates(self) -> list[str]:
        """``YYYY-MM`` of every recorded step."""
        from adoption_model.world import month_name

        return [month_name(m) for m in self._months]

    def model_frame(self) -> pd.DataFrame:
        """One row per recorded step (step 0 included)."""
        k = self._rows
        data: dict[str, Any] = {}
        for c in MODEL_COLUMNS:
            data[c] = self.dates()[:k] if c == "date" else self._model_rec[c][:k]
        df = pd.DataFrame(data)
        int_cols = [
            "step",
            "n_adopters",
            "n_reserve",
            "n_miners",
            "n_sold_out",
            "n_new_adopters",
            "imf_detections",
        ]
        df[int_cols] = df[int_cols].astype(np.int64)
        return df

    def series(self, column: str) -> np.ndarray:
        """One column of the model frame as a read-only array, without building a DataFrame.

        For live displays that redraw every step; ``column`` is any of ``MODEL_COLUMNS``
        except ``date`` (use :meth:`dates`).
        """
        if column not in self._model_rec:
            valid = [c for c in MODEL_COLUMNS if c != "date"]
            raise InputError(f"{column!r} is not a model-frame column{did_you_mean(column, valid)}")
        view = self._model_rec[column][: self._rows]
        view.flags.writeable = False
        return view

    def nation_frame(self) -> pd.DataFrame | None:
        """One row per nation per recorded step, with the decision breakdown; None if off."""
        if not self.keep_nations:
            return None
        k, n, nr = self._rows, self.n, self._nation_rec
        steps = self._model_rec["step"][:k].astype(np.int64)
        data: dict[str, Any] = {
            "step": np.repeat(steps, n),
            "date": np.repeat(np.asarray(self.dates()[:k]), n),
            "nation": np.tile(np.asarray([str(x) for x in self.ids]), k),
        }
        data["state"] = pd.Categorical.from_codes(
            nr["state"][:k].ravel(), categories=list(STATE_NAMES)
        )
        zeros = np.zeros(k * n)
        if self.classic:
            for key, row in self._static_rows.items():
                data[key] = np.tile(row, k)
            data["peer"] = nr["peer"][:k].ravel()
            for key in ("bought", "mined", "sold"):
                data[key] = zeros
            code = nr["state"][:k]
            before = np.vstack([code[:1], code[:-1]])  # the state each decision started from
            data["reviewed"] = np.isin(before, (0, 4)).ravel()
            p = nr["p_adopt"][:k].ravel()
            probs = np.column_stack([1.0 - p, p, zeros, zeros])
        else:
            for key in (
                "holdings",
                "reserves_usd",
                "mining_mw",
                "peer",
                "bought",
                "mined",
                "sold",
                "reviewed",
            ):
                data[key] = nr[key][:k].ravel()
            probs = nr["probs"][:k].reshape(k * n, 4)
        data["action"] = pd.Categorical.from_codes(
            nr["action"][:k].ravel(), categories=list(rules.ACTIONS)
        )
        for j, opt in enumerate(rules.OPTIONS):
            data[f"u_{opt}"] = zeros if self.classic else nr["util"][:k, :, j].ravel()
        for j, act in enumerate(rules.ACTIONS):
            data[f"p_{act}"] = probs[:, j]
        for j, opt in enumerate(rules.OPTIONS):
            for t, term in enumerate(rules.TERMS):
                if not self.classic:
                    data[f"{opt}_{term}"] = nr["terms"][:k, :, j, t].ravel()
                elif (opt, term) == ("adopt", "peer"):
                    data[f"{opt}_{term}"] = data["peer"]  # the classic rules' only input
                else:
                    data[f"{opt}_{term}"] = zeros
        return pd.DataFrame(data)

    def explain(self, nation: str | int) -> pd.DataFrame:
        """The latest decision of one nation, term by term.

        Returns a small table: one row per utility term (with a plain-words label), then the
        rows ``utility`` and ``probability``; one column per option (hold, adopt, mine,
        sell). ``.attrs`` carries the nation, step, date, whether it reviewed its policy, the
        chosen action and its policy state.
        """
        i = self.resolve_nation(nation)
        terms = self.last_terms[i]
        probs = self.classic_probabilities()[i] if self.classic else self.last_probs[i]
        if self.classic:
            terms = np.zeros_like(terms)
            terms[0, 3] = self.state.peer[i]
        rows = []
        for t, term in enumerate(rules.TERMS):
            rows.append(
                {
                    "term": term,
                    "meaning": rules.TERM_LABELS[term],
                    "hold": 0.0,
                    **{opt: float(terms[j, t]) for j, opt in enumerate(rules.OPTIONS)},
                }
            )
        rows.append(
            {
                "term": "utility",
                "meaning": "sum of the terms",
                "hold": 0.0,
                **{opt: float(self.last_util[i, j]) for j, opt in enumerate(rules.OPTIONS)},
            }
        )
        rows.append(
            {
                "term": "probability",
                "meaning": "chance of each option if reviewing",
                **{a: float(probs[j]) for j, a in enumerate(rules.ACTIONS)},
            }
        )
        df = pd.DataFrame(rows).set_index("term")
        st = self.state
        df.attrs.update(
            nation=str(self.ids[i]),
            name=str(self.nations_table.get("name", pd.Series(self.ids)).iloc[i]),
            step=int(self.steps),
            date=self.date,
            rule=self.live.rule.kind,
            reviewed=bool(not self._adopted_before[i] if self.classic else st.reviewed[i]),
            action=rules.ACTIONS[int(st.action[i])],
            state=STATE_NAMES[int(st.state_code()[i])],
            peer=float(st.peer[i]),
        )
        return df

    @property
    def datacollector(self) -> _Collected:
        """What ``mesa.batch_run`` reads: the model frame as Mesa's DataCollector would hold it.

        The model records into preallocated arrays, not a ``mesa.DataCollector`` (whose
        per-step Python loops would dominate the vectorised engine's time); this view gives
        ``batch_run`` the same shape: ``model_vars[column][k]`` is the value after step ``k``
        (index 0 is the initial state) and there are no agent reporters.
        """
        return _Collected(self)

    def set_parameter(self, key: str, value: Any) -> None:
        """Change a live parameter (dated 'set' events and the view's sliders).

        Takes effect from the next step. ``key`` is a dotted scenario path such as
        ``rule.coef.a_peer`` or ``imf.stance``.
        """
        events_mod.set_live(self, key, value)

    def first_adoptions(self) -> pd.DataFrame:
        """Who adopted (reserve or mining) and when; step 0 are the starting adopters."""
        fa = self.state.first_adopted
        idx = np.flatnonzero(fa >= 0)
        start = month_index(self.scenario.start)
        from adoption_model.world import month_name

        return pd.DataFrame(
            {
                "nation": [str(self.ids[i]) for i in idx],
                "step": fa[idx],
                "date": [month_name(start + int(s)) for s in fa[idx]],
            }
        ).sort_values(["step", "nation"], kind="stable", ignore_index=True)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (
            f"AdoptionModel({self.scenario.name!r}, seed={self.seed}, n={self.n}, "
            f"step={self.steps}, engine={self.engine!r})"
        )


class _Collected:
    """A read-only stand-in for ``mesa.DataCollector`` backed by the model's recorders."""

    agent_reporters: dict[str, Any] = {}

    def __init__(self, model: AdoptionModel) -> None:
        frame = model.model_frame()
        self.model_vars = {c: frame[c].tolist() for c in frame.columns if c != "step"}
        self._agent_records: dict[int, list] = {}

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The model frame without the step column, as Mesa returns it."""
        return pd.DataFrame(self.model_vars)
