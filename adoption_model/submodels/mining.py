"""Mining: hashrate, BTC earned, revenue and margin per MWh, the stop rule (docs/ODD.md 7.3).

A nation that mines allocates ``MW`` of surplus power to machines of a given efficiency
(J/TH). Its hashrate is ``h = MW * 1e6 / efficiency`` TH/s and it earns its share of the
block rewards: ``BTC/month = blocks_per_month * (subsidy + fees) * h / H`` with ``H`` the
network hashrate plus all sovereign hashrate. Revenue per MWh uses the same share; the
margin compares it with the opportunity cost of the energy (what the power would fetch
otherwise, USD/MWh). A miner whose margin stays negative for ``mining.stop_after_months``
consecutive months stops and releases its megawatts.

Both engines, side by side: :func:`mine` (vectorised, every nation at once) and
:func:`mine_one` (the scalar reference a ``Nation`` agent runs for itself). The market
(:func:`market`: BTC per TH-month and revenue per MWh) is model-level and shared.

References
----------
Nakamoto, S. (2008), "Bitcoin: a peer-to-peer electronic cash system" (proportional reward).
Cambridge Centre for Alternative Finance, Cambridge Bitcoin Electricity Consumption Index
(methodology: hashrate x fleet efficiency = power draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adoption_model.state import NationState

HOURS_PER_MONTH = 8766.0 / 12.0


def hashrate_th(mw: np.ndarray | float, efficiency_j_per_th: float) -> np.ndarray | float:
    """TH/s delivered by ``mw`` megawatts of machines at ``efficiency_j_per_th``."""
    return mw * (1e6 / efficiency_j_per_th)


def btc_per_th_month(reward_btc: float, blocks_per_month: float, total_th: float) -> float:
    """BTC earned per month by one TH/s when the whole network runs ``total_th`` TH/s."""
    return blocks_per_month * reward_btc / total_th


def revenue_per_mwh(btc_per_th: float, price: float, efficiency_j_per_th: float) -> float:
    """USD earned per MWh consumed (at the current price and network share)."""
    mwh_per_th_month = efficiency_j_per_th * HOURS_PER_MONTH / 1e6
    return btc_per_th * price / mwh_per_th_month


def margin(revenue: float, cost: np.ndarray | float) -> np.ndarray | float:
    """Mining margin ``(revenue - cost) / revenue``, clipped to [-1, 1] (docs/ODD.md 7.3)."""
    return np.clip((revenue - cost) / revenue, -1.0, 1.0)


@dataclass
class Market:
    """This month's mining market: BTC per TH-month and USD revenue per MWh."""

    btc_per_th: float
    revenue_mwh: float
    #: sovereign hashrate (TH/s) in this market; the world's hashrate response next month
    #: sees it beside the private fleet (0 before the first decisions)
    sovereign_th: float = 0.0


def market(st: NationState, world: Any, blocks_per_month: float) -> Market:
    """The market given the nations mining now and the world (non-sovereign hashrate).

    Called on the start-of-step state for the revenue a new entrant would see when it
    decides (its own hashrate is not in the denominator), and again after the decisions
    for this month's income (new miners included).
    """
    eff = world.efficiency_j_per_th
    sovereign_th = float(hashrate_th(st.mining_mw[st.mining], eff).sum())
    per_th = btc_per_th_month(
        world.block_reward(), blocks_per_month, world.network_hashrate_th + sovereign_th
    )
    return Market(per_th, revenue_per_mwh(per_th, world.price, eff), sovereign_th)


def market_rows(
    st: NationState,
    reward_btc: np.ndarray,
    network_th: np.ndarray,
    efficiency_j_per_th: np.ndarray,
    price: np.ndarray,
    blocks_per_month: float | np.ndarray,
) -> Market:
    """:func:`market` for ``(R, n)`` state: one market per replicate, as ``(R, 1)`` arrays.

    The world's scalars come as ``(R,)`` arrays (block reward, non-sovereign hashrate,
    efficiency, price); the sovereign hashrate is summed over each replicate's miners
    exactly as :func:`market` sums it (:func:`~adoption_model.submodels.rows.masked_row_sums`),
    and the rest is the same IEEE arithmetic elementwise.
    """
    from adoption_model.submodels.rows import picked_row_sums, row_counts

    eff = efficiency_j_per_th
    # the miners' hashrate, computed at the miners only (elementwise: the same bits)
    miners = np.flatnonzero(st.mining)
    th = hashrate_th(st.mining_mw.reshape(-1)[miners], eff[miners // st.mining.shape[-1]])
    sovereign_th = picked_row_sums(th, row_counts(st.mining))
    blocks = np.ravel(blocks_per_month) if np.ndim(blocks_per_month) else blocks_per_month
    per_th = btc_per_th_month(reward_btc, blocks, network_th + sovereign_th)
    revenue = revenue_per_mwh(per_th, price, eff)
    return Market(per_th[:, None], revenue[:, None], sovereign_th)


def mine(st: NationState, mk: Market, efficiency_j_per_th: float, stop_after: int) -> None:
    """Every miner earns its share of the rewards; miners losing money long enough stop."""
    h = np.where(st.mining, hashrate_th(st.mining_mw, efficiency_j_per_th), 0.0)
    earned = h * mk.btc_per_th
    st.holdings += earned
    st.mined_btc += earned
    st.mined += earned
    m = margin(mk.revenue_mwh, st.energy_cost_usd_mwh)
    neg = st.mining & (m < 0)
    st.negative_months[...] = np.where(neg, st.negative_months + 1, 0)
    st.stop_mining(neg & (st.negative_months >= stop_after))


def mine_one(nation: Any, mk: Market, efficiency_j_per_th: float, stop_after: int) -> None:
    """Scalar reference of :func:`mine` for one ``Nation`` agent."""
    if not nation.mining:
        return
    earned = hashrate_th(nation.mining_mw, efficiency_j_per_th) * mk.btc_per_th
    nation.holdings = nation.holdings + earned
    nation.mined_btc = nation.mined_btc + earned
    nation.mined = nation.mined + earned
    if margin(mk.revenue_mwh, nation.energy_cost_usd_mwh) < 0:
        nation.negative_months = nation.negative_months + 1
        if nation.negative_months >= stop_after:
            nation.stop_mining()
    else:
        nation.negative_months = 0
