"""Nation state held as arrays on the model (one row per nation).

The vectorised engine updates these arrays in one synchronous step; the Mesa ``Nation``
agents are thin views whose attributes read and write their row. Policy states are coded
for output and the view:

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
        """Holds a reserve or mines: what neighbours count as adoption (MODEL.md step 2)."""
        return self.reserve | self.mining

    def state_code(self) -> np.ndarray:
        """Policy state codes (see the module table)."""
        code = self.reserve.astype(np.int8) + 2 * self.mining.astype(np.int8)
        return np.where((code == 0) & self.sold_out, 4, code).astype(np.int8)

    def names(self) -> list[str]:
        """Names of the array fields."""
        return [f.name for f in fields(self)]
