"""Mining economics: hashrate from megawatts, BTC earned, revenue and margin per MWh.

A nation that mines allocates ``MW`` of surplus power to machines of a given efficiency
(J/TH). Its hashrate is ``h = MW * 1e6 / efficiency`` TH/s and it earns its share of the
block rewards: ``BTC/month = blocks_per_month * (subsidy + fees) * h / H`` with ``H`` the
network hashrate plus all sovereign hashrate. Revenue per MWh uses the same share; the
margin compares it with the opportunity cost of the energy (what the power would fetch
otherwise, USD/MWh).

References
----------
Nakamoto, S. (2008), "Bitcoin: a peer-to-peer electronic cash system" (proportional reward).
Cambridge Centre for Alternative Finance, Cambridge Bitcoin Electricity Consumption Index
(methodology: hashrate x fleet efficiency = power draw).
"""

from __future__ import annotations

import numpy as np

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
    """Mining margin ``(revenue - cost) / revenue``, clipped to [-1, 1] (MODEL.md section 4)."""
    return np.clip((revenue - cost) / revenue, -1.0, 1.0)
