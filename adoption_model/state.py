"""Nation state held as arrays on the model (one entry per nation), and its transitions.

The vectorised engine updates these arrays in one synchronous step; the Mesa ``Nation``
agents are thin views whose attributes read and write their entry. The transitions
(:meth:`NationState.start_reserve`, :meth:`~NationState.start_mining`,
:meth:`~NationState.stop_mining`, :meth:`~NationState.leave_reserve`,
:meth:`~NationState.start_sale`, :meth:`~NationState.end_sale`, :meth:`~NationState.sell_out`,
:meth:`~NationState.start_programme`, :meth:`~NationState.freeze_purchases` and
:meth:`~NationState.pay`) are the only code that writes the policy state (docs/ODD.md
section 2); decisions, acts and dated events all go through them, and both engines call the
very same methods (the vectorised engine with index arrays, an agent with its own index).

``sel`` selects nations along the last axis: an integer, an index array or a boolean mask.
Every transition is written with ``array[sel]``, so a boolean mask of the full shape also
works for state arrays with a leading replicate axis ``(R, n)``.

Policy states are coded for output and the view:

=====  =========  ===========================================
code   name       meaning
=====  =========  ===========================================
0      none       no reserve, no mining
1      reserve    holds a strategic reserve (accumulating or holding)
2      mining     mines with surplus energy, no reserve policy
3      both       reserve and mining
4      sold out   decided to sell its holdings (and neither holds a reserve nor mines)
=====  =========  ===========================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

STATE_NAMES = ("none", "reserve", "mining", "both", "sold out")

#: A selection of nations along the last axis: an index, an index array, a mask or a slice.
Sel = int | slice | np.ndarray


#: Reserve-adequacy classes, coded 0..3 in :attr:`NationState.ara` (nations.ARA_CLASSES).
ARA_CODES = {
    "advanced_reserve_issuer": 0,
    "advanced": 1,
    "emerging_market": 2,
    "low_income_or_credit_constrained": 3,
}
#: Currency unions, coded in :attr:`NationState.union` (0: none).
UNION_CODES = {"": 0, "EUR": 1, "WAEMU": 2, "CEMAC": 3, "ECCU": 4}


def institution_codes(nations: pd.DataFrame) -> dict[str, np.ndarray]:
    """Integer and flag codes of the institution columns of a nation table.

    ``ara`` codes the reserve-adequacy class (:data:`ARA_CODES`; a table without the
    column is coded emerging market), ``union`` the currency union (:data:`UNION_CODES`),
    ``own_currency`` whether the nation issues its own currency (not dollarised or
    euroised, not a union member) and ``reserve_issuer`` whether it issues a currency IMF
    COFER lists. Also used on the historical panel (calibration/likelihood.py).
    """
    n = len(nations)

    def text(name: str, default: str) -> np.ndarray:
        if name not in nations:
            return np.full(n, default, dtype=object)
        return nations[name].fillna("").astype(str).to_numpy()

    ara = np.array([ARA_CODES[v] for v in text("ara_class", "emerging_market")], dtype=np.int64)
    union = np.array([UNION_CODES[v] for v in text("currency_union", "")], dtype=np.int64)
    regime = text("currency_regime", "own_float")
    own = ~np.isin(regime, ("dollarised_or_euroised", "currency_union"))
    issuer = (
        nations["reserve_currency_issuer"].fillna(False).to_numpy(dtype=bool).copy()
        if "reserve_currency_issuer" in nations
        else np.zeros(n, dtype=bool)
    )
    return {"ara": ara, "union": union, "own_currency": own, "reserve_issuer": issuer}


@dataclass
class NationState:
    """Per-nation arrays. Static attributes first, then the dynamic state."""

    # static (from the nation table; energy and mandates may change through events)
    gdp_usd: np.ndarray
    population: np.ndarray
    debt_pct_gdp: np.ndarray
    imports_usd_month: np.ndarray
    energy_cost_usd_mwh: np.ndarray
    credit_pct_quota: np.ndarray
    programme: np.ndarray
    energy_surplus_mw: np.ndarray
    seized_mandate: np.ndarray
    no_sell: np.ndarray
    threshold: np.ndarray
    # institutions, sanctions and legal status (docs/ODD.md 7.2; events may change the last
    # three): see :func:`institution_codes`
    net_debt_pct_gdp: np.ndarray
    ara: np.ndarray
    union: np.ndarray
    own_currency: np.ndarray
    reserve_issuer: np.ndarray
    sanctions_exposure: np.ndarray
    absolute_ban: np.ndarray
    mining_ban: np.ndarray
    # dynamic
    reserve: np.ndarray
    mining: np.ndarray
    selling: np.ndarray
    sold_out: np.ndarray
    holdings: np.ndarray
    cost_basis_usd: np.ndarray
    reserves_usd: np.ndarray
    mining_mw: np.ndarray
    buy_usd_month: np.ndarray
    buy_months_left: np.ndarray
    program_btc_month: np.ndarray
    program_months_left: np.ndarray
    sell_btc_month: np.ndarray
    freeze_until: np.ndarray
    negative_months: np.ndarray
    first_adopted: np.ndarray
    policy_since: np.ndarray
    # flows of the current step
    bought: np.ndarray
    mined: np.ndarray
    sold: np.ndarray
    detected: np.ndarray
    peer: np.ndarray
    action: np.ndarray
    reviewed: np.ndarray

    @classmethod
    def from_table(cls, nations: pd.DataFrame, price: float) -> NationState:
        """Initial state from a nation table (see :func:`adoption_model.load_nations`)."""
        n = len(nations)

        def col(name: str, default: float = 0.0) -> np.ndarray:
            if name in nations:
                return nations[name].to_numpy(dtype=float, na_value=default).copy()
            return np.full(n, default)

        def flag(name: str) -> np.ndarray:
            if name in nations:
                return nations[name].fillna(False).to_numpy(dtype=bool).copy()
            return np.zeros(n, dtype=bool)

        holdings = col("btc_holdings")
        zeros = np.zeros(n)
        codes = institution_codes(nations)
        return cls(
            gdp_usd=col("gdp_usd", 1.0),
            population=col("population", 1.0),
            debt_pct_gdp=col("debt_pct_gdp"),
            imports_usd_month=np.maximum(col("imports_usd_month", 1.0), 1.0),
            energy_cost_usd_mwh=col("energy_cost_usd_mwh", 60.0),
            credit_pct_quota=col("imf_credit_pct_quota"),
            programme=flag("imf_programme_active"),
            energy_surplus_mw=col("energy_surplus_mw"),
            seized_mandate=flag("seized_sale_mandate"),
            no_sell=flag("no_sell_pledge"),
            threshold=np.full(n, np.inf),
            net_debt_pct_gdp=col("net_debt_pct_gdp", np.nan),
            **codes,
            sanctions_exposure=col("sanctions_exposure"),
            absolute_ban=flag("crypto_absolute_ban"),
            mining_ban=flag("crypto_mining_ban"),
            reserve=np.zeros(n, dtype=bool),
            mining=np.zeros(n, dtype=bool),
            selling=np.zeros(n, dtype=bool),
            sold_out=np.zeros(n, dtype=bool),
            holdings=holdings,
            cost_basis_usd=holdings * price,
            reserves_usd=col("reserves_usd"),
            mining_mw=zeros.copy(),
            buy_usd_month=zeros.copy(),
            buy_months_left=np.zeros(n, dtype=np.int64),
            program_btc_month=zeros.copy(),
            program_months_left=np.zeros(n, dtype=np.int64),
            sell_btc_month=zeros.copy(),
            freeze_until=np.zeros(n, dtype=np.int64),
            negative_months=np.zeros(n, dtype=np.int64),
            first_adopted=np.full(n, -1, dtype=np.int64),
            policy_since=np.full(n, -1, dtype=np.int64),
            bought=zeros.copy(),
            mined=zeros.copy(),
            sold=zeros.copy(),
            detected=np.zeros(n, dtype=bool),
            peer=zeros.copy(),
            action=np.zeros(n, dtype=np.int64),
            reviewed=np.zeros(n, dtype=bool),
        )

    @property
    def adopted(self) -> np.ndarray:
        """Holds a reserve or mines: what neighbours count as adoption (docs/ODD.md 7.1)."""
        return self.reserve | self.mining

    def state_code(self) -> np.ndarray:
        """Policy state codes (see the module table)."""
        code = self.reserve.astype(np.int8) + 2 * self.mining.astype(np.int8)
        return np.where((code == 0) & self.sold_out, 4, code).astype(np.int8)

    def clear_flows(self) -> None:
        """This month's flows start at zero (events and acts add to them)."""
        self.bought[...] = 0.0
        self.mined[...] = 0.0
        self.sold[...] = 0.0
        self.detected[...] = False

    # ---- transitions: the only writers of the policy state ----------------------------
    def start_reserve(self, sel: Sel, t: int, target_share: float, purchase_months: int) -> None:
        """Adopt a reserve at step ``t`` and plan to buy ``target_share`` of FX reserves.

        The plan buys in equal USD tranches over ``purchase_months`` (docs/ODD.md 7.4).
        """
        self.reserve[sel] = True
        self.sold_out[sel] = False
        self.selling[sel] = False
        self.policy_since[sel] = t
        self.buy_usd_month[sel] = target_share * self.reserves_usd[sel] / purchase_months
        self.buy_months_left[sel] = purchase_months

    def start_mining(self, sel: Sel, t: int, mw: np.ndarray | float) -> None:
        """Start mining at step ``t`` with ``mw`` megawatts (docs/ODD.md 7.3)."""
        self.mining[sel] = True
        self.mining_mw[sel] = mw
        self.negative_months[sel] = 0
        self.policy_since[sel] = t

    def stop_mining(self, sel: Sel) -> None:
        """Stop mining after months of negative margin: the megawatts are released."""
        self.mining[sel] = False
        self.mining_mw[sel] = 0.0
        self.negative_months[sel] = 0

    def leave_reserve(self, sel: Sel, t: int) -> None:
        """Drop the reserve policy and every purchase plan at step ``t``: sold out."""
        self.reserve[sel] = False
        self.buy_months_left[sel] = 0
        self.program_months_left[sel] = 0
        self.sold_out[sel] = True
        self.policy_since[sel] = t

    def start_sale(self, sel: Sel, t: int, months: int) -> None:
        """Leave the reserve and sell: all at once under a sale law, else over ``months``."""
        self.leave_reserve(sel, t)
        self.selling[sel] = True
        self.sell_btc_month[sel] = np.where(
            self.seized_mandate[sel], self.holdings[sel], self.holdings[sel] / months
        )

    def sell_out(self, sel: Sel, t: int) -> None:
        """Sold at once (a dated ``sell`` event): out of the reserve, no tranches pending."""
        self.leave_reserve(sel, t)
        self.selling[sel] = False

    def end_sale(self, sel: Sel) -> None:
        """The last tranche is sold: nothing left to sell (dust below 1e-9 BTC cleared)."""
        self.holdings[sel] = 0.0
        self.cost_basis_usd[sel] = 0.0
        self.selling[sel] = False

    def start_programme(self, sel: Sel, btc: float, months: int) -> None:
        """A dated purchase programme: ``btc`` in equal monthly tranches over ``months``."""
        self.program_btc_month[sel] = btc / months
        self.program_months_left[sel] = months

    def freeze_purchases(self, sel: Sel, until: int) -> None:
        """No purchases before step ``until`` (an IMF detection, docs/ODD.md 7.5)."""
        self.freeze_until[sel] = until

    def pay(self, sel: Sel, usd: np.ndarray | float, price: float) -> None:
        """Buy ``usd`` worth of BTC at ``price``, paid from FX reserves (at cost)."""
        btc = usd / price
        self.holdings[sel] += btc
        self.reserves_usd[sel] -= usd
        self.cost_basis_usd[sel] += usd
        self.bought[sel] += btc

    def names(self) -> list[str]:
        """Names of the array fields."""
        return [f.name for f in fields(self)]
