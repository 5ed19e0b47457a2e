"""Reserve purchases and sales (docs/ODD.md section 7.4).

On adopting, a nation plans to buy ``adoption.target_share`` of its FX reserves in BTC in
equal USD tranches over ``adoption.purchase_months`` (the plan is set by
:meth:`NationState.start_reserve`). Each month's tranche, capped at the reserves left (so
reserves never go negative), buys ``usd / price`` BTC; a dated ``buy`` event adds a
programme of BTC a month, paid the same way. Purchases are skipped while the IMF freezes
them (7.5). A nation that sells leaves its reserve and sells in ``selling.months`` equal
tranches, or all at once under a seized-asset sale law (Germany sold about 50,000 BTC in
June-July 2024); the proceeds return to FX reserves at the current price.

The design follows the strategic-reserve proposals and laws in the seed articles
(``../shared/seeds/``): El Salvador's daily purchases, the US executive order of March 2025
(a reserve of seized coins, budget-neutral acquisitions) and Germany's 2024 forced sale.

Both engines, side by side: :func:`buy` and :func:`sell` (vectorised, every nation at
once); :func:`buy_one` and :func:`sell_one` (the scalar references a ``Nation`` agent runs
for itself). :func:`sell_now` is the dated ``sell`` event (7.7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adoption_model.state import NationState, Sel

#: Holdings at or below this (BTC) count as sold out: float dust after the last tranche.
DUST_BTC = 1e-9


def buy(st: NationState, t: int, price: float) -> None:
    """This month's tranche toward every reserve target, and every dated programme."""
    frozen = t < st.freeze_until
    buying = st.reserve & (st.buy_months_left > 0) & ~frozen
    everyone = slice(None)
    st.pay(everyone, np.where(buying, np.minimum(st.buy_usd_month, st.reserves_usd), 0.0), price)
    st.buy_months_left -= buying
    prog = (st.program_months_left > 0) & ~frozen
    usd = np.where(prog, np.minimum(st.program_btc_month * price, st.reserves_usd), 0.0)
    st.pay(everyone, usd, price)
    st.program_months_left -= prog


def buy_one(nation: Any, t: int, price: float) -> None:
    """Scalar reference of :func:`buy` for one ``Nation`` agent."""
    frozen = t < nation.freeze_until
    if nation.reserve and nation.buy_months_left > 0 and not frozen:
        nation.pay(min(nation.buy_usd_month, nation.reserves_usd), price)
        nation.buy_months_left = nation.buy_months_left - 1
    if nation.program_months_left > 0 and not frozen:
        nation.pay(min(nation.program_btc_month * price, nation.reserves_usd), price)
        nation.program_months_left = nation.program_months_left - 1


def sell(st: NationState, price: float) -> None:
    """Every selling nation sells this month's tranche; the cost basis falls pro rata."""
    selling = st.selling
    amount = np.where(selling, np.minimum(st.sell_btc_month, st.holdings), 0.0)
    held = st.holdings > 0
    share = np.where(selling & held, amount / np.where(held, st.holdings, 1.0), 0.0)
    st.cost_basis_usd -= st.cost_basis_usd * share
    st.holdings -= amount
    st.reserves_usd += amount * price
    st.sold += amount
    st.end_sale(selling & (st.holdings <= DUST_BTC))


def sell_one(nation: Any, price: float) -> None:
    """Scalar reference of :func:`sell` for one ``Nation`` agent."""
    if not nation.selling:
        return
    amount = min(nation.sell_btc_month, nation.holdings)
    if nation.holdings > 0:
        share = amount / nation.holdings
        nation.cost_basis_usd = nation.cost_basis_usd - nation.cost_basis_usd * share
    nation.holdings = nation.holdings - amount
    nation.reserves_usd = nation.reserves_usd + amount * price
    nation.sold = nation.sold + amount
    if nation.holdings <= DUST_BTC:
        nation.end_sale()


def sell_now(st: NationState, sel: Sel, fraction: float, price: float, t: int) -> None:
    """Sell ``fraction`` of the holdings of nations ``sel`` at once and leave the reserve."""
    amount = st.holdings[sel] * fraction
    st.holdings[sel] -= amount
    st.cost_basis_usd[sel] -= st.cost_basis_usd[sel] * fraction
    st.reserves_usd[sel] += amount * price
    st.sold[sel] += amount
    st.sell_out(sel, t)
