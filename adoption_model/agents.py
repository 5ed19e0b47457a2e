"""The Nation agent: one sovereign country, the readable face of one row of the model.

A :class:`Nation` is a Mesa agent whose attributes (``holdings``, ``reserve``, ``mining``,
``reserves_usd`` ...) read and write its row of the model's state arrays, so inspecting
``model.nations[i].holdings`` always shows the truth, whichever engine runs.

Under ``engine="agents"`` each nation also runs the model itself, in plain Mesa idiom and
one short method per thing a nation does:

- :meth:`Nation.look_at_neighbours` gathers its signal m_i from its in-neighbours;
- :meth:`Nation.decide` applies the decision rule to what it sees;
- :meth:`Nation.commit` switches policy (after every nation has decided: synchronous);
- :meth:`Nation.act` buys toward its reserve target, mines, sells and faces IMF audits.

This engine is the reference the vectorised engine is checked against: both give
bit-identical trajectories for the same scenario and seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from adoption_model import mesa_compat, mining, rules
from adoption_model.state import STATE_NAMES

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
    buy_usd_month = _Row()
    buy_months_left = _Row()
    program_btc_month = _Row()
    program_months_left = _Row()
    sell_btc_month = _Row()
    freeze_until = _Row()
    negative_months = _Row()
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

    # -- the per-agent engine -----------------------------------------------------------
    def look_at_neighbours(self) -> float:
        """m_i: influence-weighted share of in-neighbours that have adopted.

        Summed neighbour by neighbour in the graph's stored order, on the start-of-step
        state. On the complete graph (mean field) it is the global share.
        """
        model = self.model
        adopted = model.adopted_now
        if model.network.matrix is None:
            return model.n_adopted_now / model.n
        idx, w = self.in_neighbours()
        num = 0.0
        den = 0.0
        for j, wj in zip(idx, w, strict=True):
            num += wj * adopted[j]
            den += wj * 1.0
        return num / den if den > 0 else 0.0

    def count_new_adopter_neighbours(self) -> float:
        """How many in-neighbours adopted in the previous step (cascade rule)."""
        model = self.model
        if model.network.matrix is None:
            return float(model.new_prev.sum())
        idx, _ = self.in_neighbours()
        count = 0.0
        for j in idx:
            count += 1.0 * model.new_prev[j]
        return count

    def decide(self) -> None:
        """Choose this month's action with the scenario's rule (state does not change yet)."""
        model = self.model
        i = np.array([self.index])
        peer = np.array([self.look_at_neighbours()])
        counts = None
        if model.live.rule.kind == "cascade":
            counts = np.array([self.count_new_adopter_neighbours()])
        model.decide_rows(i, peer, counts)

    def commit(self) -> None:
        """Switch policy according to the action chosen in :meth:`decide`."""
        sc, t = self.model.live, self.model.steps
        action = self.action
        if action == rules.ADOPT:
            self.reserve = True
            self.sold_out = False
            self.policy_since = t
            self.buy_usd_month = (
                sc.adoption.target_share * self.reserves_usd / sc.adoption.purchase_months
            )
            self.buy_months_left = sc.adoption.purchase_months
        elif action == rules.MINE:
            self.mining = True
            self.mining_mw = sc.mining.allocation_share * self.energy_surplus_mw
            self.negative_months = 0
            self.policy_since = t
        elif action == rules.SELL:
            self.start_selling()

    def start_selling(self) -> None:
        """Leave the reserve policy and sell: all at once under a sale law, else in tranches."""
        self.reserve = False
        self.buy_months_left = 0
        self.program_months_left = 0
        self.selling = True
        self.sold_out = True
        self.policy_since = self.model.steps
        if self.seized_mandate:
            self.sell_btc_month = self.holdings
        else:
            self.sell_btc_month = self.holdings / self.model.live.selling.months

    def act(self) -> None:
        """Carry out this month's policy: buy, mine, sell, then face an IMF audit."""
        self.buy()
        self.mine()
        self.sell()
        self.face_imf_audit()

    def buy(self) -> None:
        """Buy this month's tranche toward the reserve target, and any dated programme."""
        model = self.model
        price = model.world.price
        frozen = model.steps < self.freeze_until
        if self.reserve and self.buy_months_left > 0 and not frozen:
            usd = min(self.buy_usd_month, self.reserves_usd)
            self._pay(usd, usd / price)
            self.buy_months_left = self.buy_months_left - 1
        if self.program_months_left > 0 and not frozen:
            usd = min(self.program_btc_month * price, self.reserves_usd)
            self._pay(usd, usd / price)
            self.program_months_left = self.program_months_left - 1

    def _pay(self, usd: float, btc: float) -> None:
        self.holdings = self.holdings + btc
        self.reserves_usd = self.reserves_usd - usd
        self.cost_basis_usd = self.cost_basis_usd + usd
        self.bought = self.bought + btc

    def mine(self) -> None:
        """Earn this month's share of block rewards; stop after months of negative margin."""
        if not self.mining:
            return
        model, cfg = self.model, self.model.live.mining
        earned = (
            mining.hashrate_th(self.mining_mw, model.world.efficiency_j_per_th) * model.btc_per_th
        )
        self.holdings = self.holdings + earned
        self.mined = self.mined + earned
        if mining.margin(model.revenue_mwh_after, self.energy_cost_usd_mwh) < 0:
            self.negative_months = self.negative_months + 1
            if self.negative_months >= cfg.stop_after_months:
                self.mining = False
                self.mining_mw = 0.0
                self.negative_months = 0
        else:
            self.negative_months = 0

    def sell(self) -> None:
        """Sell this month's tranche; the proceeds return to FX reserves."""
        if not self.selling:
            return
        amount = min(self.sell_btc_month, self.holdings)
        if self.holdings > 0:
            share = amount / self.holdings
            self.cost_basis_usd = self.cost_basis_usd - self.cost_basis_usd * share
        self.holdings = self.holdings - amount
        self.reserves_usd = self.reserves_usd + amount * self.model.world.price
        self.sold = self.sold + amount
        if self.holdings <= 1e-9:
            self.holdings = 0.0
            self.cost_basis_usd = 0.0
            self.selling = False

    def face_imf_audit(self) -> None:
        """A programme country that accumulated BTC this month may be caught by an audit."""
        model = self.model
        accumulated = self.bought + self.mined > 0
        if self.programme and accumulated and model._u_audit[self.index] < model.p_detect:
            self.detected = True
            self.reserves_usd = (
                self.reserves_usd - self.reserves_usd * model.live.imf.tranche_share_of_reserves
            )
            self.freeze_until = model.steps + 1 + model.live.imf.freeze_months

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"Nation({self.code}, {self.state}, {self.holdings:,.0f} BTC)"
