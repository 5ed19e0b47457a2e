"""Reserve allocation: the target share, purchases that track it, and sales (docs/ODD.md 7.4).

**Target share.** A reserve holder aims at a BTC share of its reserves (FX reserves plus
BTC at market value) that rises with its exposure to financial sanctions, the rule of
Ferranti (2025), who finds with mean-variance preferences that a central bank without
sanctions risk holds a small BTC share (about 2-3%) and one facing sanctions risk a larger
one (about 5%, up to 10% if it cannot buy enough gold)::

    w_i = adoption.target_share + s_i * (adoption.target_share_sanctioned - adoption.target_share)

with ``s_i`` in [0, 1] the nation's ``sanctions_exposure``. The rule is linear between
the paper's two reported cases (a documented simplification of its copula simulations).

**Purchases track the target.** Each month an accumulating reserve holder buys the gap
``w_i * (R + H P) - H P`` (``R`` FX reserves, ``H`` holdings, ``P`` the price), at most
``w_i * (R + H P) / adoption.purchase_months`` (so a reserve is built over about that many
months) and never more than its FX reserves; when the price has risen the gap is negative
and it buys nothing (it does not sell to rebalance: selling is a decision, 7.2). A dated
``buy`` event adds a programme of BTC a month, paid the same way.

**Sales.** A discretionary sale leaves the reserve and sells all holdings in
``selling.months`` equal tranches. Under a seized-asset sale law the sale is of the seized
coins only, all at once (Germany sold about 50,000 seized BTC in June-July 2024 under
Saxony's emergency-sale rule), see :meth:`NationState.sell_seized`. A nation that mines
without a reserve policy sells ``mining.sell_share`` of each month's mined coins (Bhutan
mines and sells part of it: about 929 BTC in October 2024 and 2,600 in March-May 2025
while it kept mining, sovereign_events_2013_2025_curated). Every sale takes coins from
the origins (seized, mined, bought) in proportion, except the seized-asset law (seized
only) and the sale of mined coins (mined only); proceeds return to FX reserves.

Both engines, side by side: :func:`buy`, :func:`sell` (vectorised) and :func:`buy_one`,
:func:`sell_one` (the scalar references a ``Nation`` agent runs for itself); every
vectorised function broadcasts over a leading replicate axis. :func:`sell_now` is the
dated ``sell`` event (7.7).

References
----------
Ferranti, M. (2025), "Hedging sanctions risk: cryptocurrency in central bank reserves",
Journal of International Money and Finance 159: 103433.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adoption_model.scenario import AdoptionConfig
    from adoption_model.state import NationState, Sel

#: Holdings at or below this (BTC) count as sold out: float dust after the last tranche.
DUST_BTC = 1e-9


def target_share(sanctions_exposure: np.ndarray | float, ad: AdoptionConfig) -> np.ndarray:
    """The target BTC share of reserves (Ferranti 2025, linear in sanctions exposure)."""
    w0, w1 = ad.target_share, ad.target_share_sanctioned
    return w0 + np.clip(sanctions_exposure, 0.0, 1.0) * (w1 - w0)


def monthly_budget(
    share: np.ndarray | float,
    reserves_usd: np.ndarray | float,
    holdings: np.ndarray | float,
    price: float,
    purchase_months: int,
) -> np.ndarray | float:
    """USD to buy this month: the gap to the target, at most 1/purchase_months of it."""
    value = holdings * price
    goal = share * (reserves_usd + value)
    gap = goal - value
    return np.clip(np.minimum(gap, goal / purchase_months), 0.0, None)


def _take(st: NationState, amount: np.ndarray) -> None:
    """Remove ``amount`` BTC from every nation's origins in proportion (flows untouched)."""
    held = st.holdings
    ok = held > 0
    share = np.where(ok, amount / np.where(ok, held, 1.0), 0.0)
    keep = 1.0 - share
    st.seized_btc *= keep
    st.mined_btc *= keep
    st.bought_btc *= keep
    st.cost_basis_usd -= st.cost_basis_usd * share
    st.holdings -= amount


def buy(st: NationState, t: int, price: float, ad: AdoptionConfig) -> None:
    """This month's purchases toward every reserve target, and every dated programme."""
    everyone = slice(None)
    st.target_share[...] = np.where(st.reserve, target_share(st.sanctions_exposure, ad), 0.0)
    buying = st.reserve & st.accumulating & ~st.selling
    budget = monthly_budget(
        st.target_share, st.reserves_usd, st.holdings, price, ad.purchase_months
    )
    st.buy_usd_month[...] = np.where(buying, budget, 0.0)
    st.pay(everyone, np.minimum(st.buy_usd_month, st.reserves_usd), price)
    prog = st.program_months_left > 0
    usd = np.where(prog, np.minimum(st.program_btc_month * price, st.reserves_usd), 0.0)
    st.pay(everyone, usd, price)
    st.program_months_left -= prog


def buy_one(nation: Any, t: int, price: float, ad: AdoptionConfig) -> None:
    """Scalar reference of :func:`buy` for one ``Nation`` agent."""
    share = float(target_share(nation.sanctions_exposure, ad)) if nation.reserve else 0.0
    nation.target_share = share
    budget = 0.0
    if nation.reserve and nation.accumulating and not nation.selling:
        budget = float(
            monthly_budget(share, nation.reserves_usd, nation.holdings, price, ad.purchase_months)
        )
    nation.buy_usd_month = budget
    nation.pay(min(budget, nation.reserves_usd), price)
    if nation.program_months_left > 0:
        nation.pay(min(nation.program_btc_month * price, nation.reserves_usd), price)
        nation.program_months_left = nation.program_months_left - 1


def sell(st: NationState, price: float, mined_share: float, t: int) -> None:
    """Seized-asset law sales, sale tranches, and miners' sales of mined coins."""
    law = st.seized_sale.copy()  # every seized coin at once; the nation keeps the rest
    _sell_from(st, st.seized_btc, np.where(law, st.seized_btc, 0.0), price)
    st.seized_sale &= False
    st.leave_reserve(law & (st.holdings <= DUST_BTC), t)
    selling = st.selling
    amount = np.where(selling, np.minimum(st.sell_btc_month, st.holdings), 0.0)
    _take(st, amount)
    st.reserves_usd += amount * price
    st.sold += amount
    st.end_sale(selling & (st.holdings <= DUST_BTC))
    # a miner without a reserve policy sells part of this month's mined coins
    seller = st.mining & ~st.reserve & ~st.selling & ~st.no_sell
    coins = np.where(seller, np.minimum(mined_share * st.mined, st.mined_btc), 0.0)
    _sell_from(st, st.mined_btc, coins, price)


def _sell_from(st: NationState, origin: np.ndarray, coins: np.ndarray, price: float) -> None:
    """Sell ``coins`` BTC of one origin (``st.seized_btc`` or ``st.mined_btc``, changed in
    place): the cost basis falls in proportion to the holdings sold, proceeds go to FX
    reserves."""
    held = st.holdings > 0
    st.cost_basis_usd -= st.cost_basis_usd * np.where(
        held, coins / np.where(held, st.holdings, 1.0), 0.0
    )
    origin -= coins
    st.holdings -= coins
    st.reserves_usd += coins * price
    st.sold += coins


def sell_one(nation: Any, price: float, mined_share: float, t: int) -> None:
    """Scalar reference of :func:`sell` for one ``Nation`` agent."""
    if nation.seized_sale:
        _sell_from_one(nation, "seized_btc", nation.seized_btc, price)
        nation.seized_sale = False
        if nation.holdings <= DUST_BTC:
            nation.leave_reserve(t)
    if nation.selling:
        amount = min(nation.sell_btc_month, nation.holdings)
        held = nation.holdings
        share = amount / held if held > 0 else 0.0
        keep = 1.0 - share
        nation.seized_btc = nation.seized_btc * keep
        nation.mined_btc = nation.mined_btc * keep
        nation.bought_btc = nation.bought_btc * keep
        nation.cost_basis_usd = nation.cost_basis_usd - nation.cost_basis_usd * share
        nation.holdings = nation.holdings - amount
        nation.reserves_usd = nation.reserves_usd + amount * price
        nation.sold = nation.sold + amount
        if nation.holdings <= DUST_BTC:
            nation.end_sale()
    seller = nation.mining and not nation.reserve and not nation.selling and not nation.no_sell
    coins = min(mined_share * nation.mined, nation.mined_btc) if seller else 0.0
    _sell_from_one(nation, "mined_btc", coins, price)


def _sell_from_one(nation: Any, origin: str, coins: float, price: float) -> None:
    """Scalar reference of :func:`_sell_from`: ``coins`` BTC of ``nation.<origin>`` sold."""
    held = nation.holdings
    share = coins / held if held > 0 else 0.0
    nation.cost_basis_usd = nation.cost_basis_usd - nation.cost_basis_usd * share
    setattr(nation, origin, getattr(nation, origin) - coins)
    nation.holdings = nation.holdings - coins
    nation.reserves_usd = nation.reserves_usd + coins * price
    nation.sold = nation.sold + coins


def sell_now(st: NationState, sel: Sel, fraction: float, price: float, t: int) -> None:
    """Sell ``fraction`` of the holdings of nations ``sel`` at once (a dated ``sell`` event).

    Selling everything leaves the reserve (sold out); a partial sale (Bhutan's) keeps the
    nation's policy and takes coins from every origin in proportion.
    """
    amount = np.zeros_like(st.holdings)
    amount[sel] = st.holdings[sel] * fraction
    _take(st, amount)
    st.reserves_usd += amount * price
    st.sold += amount
    if fraction >= 1.0:
        st.sell_out(sel, t)
