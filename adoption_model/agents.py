"""The Nation agent: one sovereign country, the readable face of one row of the model.

A :class:`Nation` is a Mesa agent whose attributes (``holdings``, ``reserve``, ``mining``,
``reserves_usd`` ...) read and write its entry of the model's state arrays, so inspecting
``model.nations[i].holdings`` always shows the truth, whichever engine runs.

Under ``engine="agents"`` each nation also runs the model itself, in plain Mesa idiom and
one short method per thing a nation does, each calling the scalar reference of its
submodel (docs/ODD.md section 7; the vectorised function sits beside it in the same file):

- :meth:`Nation.look_at_neighbours` gathers its signal m_i from its in-neighbours
  (:func:`adoption_model.submodels.signal.look_at_neighbours`, 7.1);
- :meth:`Nation.decide` applies the model's decision rule to what it sees (7.2);
- :meth:`Nation.commit` switches policy after every nation has decided (synchronous;
  :func:`adoption_model.submodels.decision.commit_one`);
- :meth:`Nation.act` buys toward its reserve target (7.4), mines (7.3), sells (7.4) and
  faces IMF audits (7.5).

Policy changes go through the state transitions of :mod:`adoption_model.state` (the
verbs :meth:`Nation.pay`, :meth:`Nation.stop_mining` ... are one-line calls for this
nation's row). This engine is the reference the vectorised engine is checked against:
both give bit-identical trajectories for the same scenario and seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from adoption_model import mesa_compat
from adoption_model.state import STATE_NAMES
from adoption_model.submodels import decision, imf, mining, reserve, signal

if TYPE_CHECKING:
    from adoption_model.model import AdoptionModel


class _Row:
    """Descriptor: an agent attribute that is its row of a model state array."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Nation | None, owner: type) -> Any:
        if agent is None:
            return self
        return getattr(agent.model.state, self.name)[agent.index].item()

    def __set__(self, agent: Nation, value: Any) -> None:
        getattr(agent.model.state, self.name)[agent.index] = value


class Nation(mesa_compat.Agent):
    """A sovereign nation (ISO3 ``code``) deciding to hold, adopt a reserve, mine or sell."""

    model: AdoptionModel

    # state: each attribute is this nation's row of model.state
    holdings = _Row()
    reserves_usd = _Row()
    reserve = _Row()
    mining = _Row()
    mining_mw = _Row()
    selling = _Row()
    sold_out = _Row()
    cost_basis_usd = _Row()
    energy_surplus_mw = _Row()
    energy_cost_usd_mwh = _Row()
    seized_mandate = _Row()
    no_sell = _Row()
    programme = _Row()
    sanctions_exposure = _Row()
    credit_pct_quota = _Row()
    imf_member = _Row()
    imf_quota_usd = _Row()
    seized_btc = _Row()
    mined_btc = _Row()
    bought_btc = _Row()
    accumulating = _Row()
    target_share = _Row()
    buy_usd_month = _Row()
    program_btc_month = _Row()
    program_months_left = _Row()
    sell_btc_month = _Row()
    seized_sale = _Row()
    negative_months = _Row()
    imf_financing = _Row()
    imf_suspended = _Row()
    imf_end = _Row()
    imf_next_review = _Row()
    imf_undisbursed_usd = _Row()
    imf_lost_usd = _Row()
    imf_scheduled_usd = _Row()
    imf_failures = _Row()
    imf_accumulated = _Row()
    imf_withheld = _Row()
    imf_started = _Row()
    imf_ended = _Row()
    policy_since = _Row()
    threshold = _Row()
    peer = _Row()
    action = _Row()
    bought = _Row()
    mined = _Row()
    sold = _Row()
    detected = _Row()

    def __init__(self, model: AdoptionModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.code = str(model.ids[index])
        table = model.nations_table
        self.name = str(table["name"].iloc[index]) if "name" in table else self.code
        self._in: tuple[list[int], list[float]] | None = None

    # -- what a nation is ---------------------------------------------------------------
    @property
    def adopted(self) -> bool:
        """Holds a reserve or mines."""
        return bool(self.reserve or self.mining)

    @property
    def state(self) -> str:
        """Policy state: none, reserve, mining, both or sold out."""
        code = int(self.reserve) + 2 * int(self.mining)
        if code == 0 and self.sold_out:
            code = 4
        return STATE_NAMES[code]

    def in_neighbours(self) -> tuple[list[int], list[float]]:
        """Indices and influence weights of the nations this one listens to."""
        if self._in is None:
            idx, w = self.model.network.in_neighbours(self.index)
            self._in = (idx.tolist(), w.tolist())
        return self._in

    # -- the per-agent engine: signal and decision (7.1, 7.2) ---------------------------
    def _neighbours(self) -> tuple[list[int] | None, list[float] | None]:
        if self.model.network.matrix is None:  # complete graph: the mean field
            return None, None
        return self.in_neighbours()

    def look_at_neighbours(self) -> float:
        """m_i: influence-weighted share of in-neighbours that have adopted.

        Summed neighbour by neighbour in the graph's stored order, on the start-of-step
        state. On the complete graph (mean field) it is the global share.
        """
        idx, w = self._neighbours()
        return signal.look_at_neighbours(idx, w, self.model.signals, self.model.n)

    def count_new_adopter_neighbours(self) -> float:
        """How many in-neighbours adopted in the previous step (cascade rule)."""
        return signal.count_new_adopter_neighbours(self._neighbours()[0], self.model.signals)

    def decide(self) -> None:
        """Choose this month's action with the model's rule (state does not change yet)."""
        model = self.model
        rule = model.rule
        counts = np.array([self.count_new_adopter_neighbours()]) if rule.uses_counts else None
        peer = np.array([self.look_at_neighbours()])
        rule.decide(model.live, model.state, np.array([self.index]), peer, model.signals, counts)

    def commit(self) -> None:
        """Switch policy according to the action chosen in :meth:`decide`."""
        model = self.model
        decision.commit_one(model.state, self.index, self.action, model.steps, model.live)

    # -- the per-agent engine: acts (7.3-7.5) -------------------------------------------
    def act(self) -> None:
        """Carry out this month's policy: buy, mine, sell, then face the IMF."""
        self.buy()
        self.mine()
        self.sell()
        self.face_imf()

    def buy(self) -> None:
        """Buy toward the reserve's target share, and any dated programme."""
        model = self.model
        reserve.buy_one(self, model.steps, model.world.price, model.live.adoption)

    def mine(self) -> None:
        """Earn this month's share of block rewards; stop after months of negative margin."""
        model = self.model
        eff, stop_after = model.world.efficiency_j_per_th, model.live.mining.stop_after_months
        mining.mine_one(self, model.market, eff, stop_after)

    def sell(self) -> None:
        """Sell (a seized-asset law, a tranche, part of the mined coins); proceeds to FX."""
        model = self.model
        reserve.sell_one(self, model.world.price, model.live.selling.mined_share, model.steps)

    def face_imf(self) -> None:
        """A programme review may find this month's or earlier accumulation (7.5)."""
        model, i = self.model, self.index
        rule = model.rule
        imf.review_one(
            self,
            rule.u_audit[i],
            rule.u_imf[i],
            model.signals.p_detect,
            model.steps,
            model.live.imf,
        )

    # -- verbs: the state transitions for this nation's row -----------------------------
    def pay(self, usd: float, price: float) -> None:
        """Buy ``usd`` worth of BTC at ``price``, paid from FX reserves."""
        self.model.state.pay(self.index, usd, price)

    def stop_mining(self) -> None:
        """Stop mining and release the megawatts."""
        self.model.state.stop_mining(self.index)

    def end_sale(self) -> None:
        """The last tranche is sold."""
        self.model.state.end_sale(self.index)

    def leave_reserve(self, t: int) -> None:
        """Drop the reserve policy: sold out."""
        self.model.state.leave_reserve(self.index, t)

    def start_imf_programme(self, t: int, size_usd: float, months: int, review_months: int) -> None:
        """A new IMF financing programme approved at step ``t``."""
        self.model.state.start_imf_programme(self.index, t, size_usd, months, review_months)

    def suspend_imf_programme(self) -> None:
        """The IMF programme goes off track."""
        self.model.state.suspend_imf_programme(self.index)

    def end_imf_programme(self) -> None:
        """The IMF programme reached its end month."""
        self.model.state.end_imf_programme(self.index)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"Nation({self.code}, {self.state}, {self.holdings:,.0f} BTC)"
