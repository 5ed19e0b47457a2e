"""Scenarios that replay the historical record: the observed state, world and price path.

:func:`history_overrides` gives the dotted overrides (the same keys as ``--set``) that start
the model from the panel's observed state at the end of a month (``initial.from_panel``)
with the world as it was then (price, hashrate, block subsidy and halvings, supply, fleet
efficiency) and the observed monthly price path afterwards (``price.process = "path"``),
so any scenario, runner or experiment can simulate a historical window. Timing follows the
panel: its row ``m`` holds the state at the start of ``m`` and the market of ``m - 1``
(what a decision in ``m`` can see), so step ``k`` of a run started at ``M`` sees the
price of panel row ``M + k``, exactly as the likelihood does.

Examples
--------
>>> o = history_overrides("2023-12", 18)
>>> o["start"], o["initial.from_panel"], len(o["price.path"]), o["price.process"]
('2023-12', '2023-12', 18, 'path')
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd

from adoption_model.calibration.panel import load_panel
from adoption_model.errors import InputError
from adoption_model.scenario import Scenario
from adoption_model.world import month_index, month_name

#: Halvings as the panel's lagged market sees them (block 630,000 in 2020-05 and 840,000
#: in 2024-04; the panel's month after shows the halved reward in full).
HALVINGS = ("2016-08", "2020-06", "2024-05", "2028-04", "2032-04")
#: Circulating supply at the end of 2025-05 (the baseline's start value).
SUPPLY_2025 = 19_880_000.0


@lru_cache(maxsize=1)
def market_by_month() -> pd.DataFrame:
    """The panel's market columns, one row per panel month (the world the nations saw)."""
    p = load_panel()
    cols = ["month", "btc_price_usd", "btc_hashrate_ths", "btc_reward_per_block", "btc_blocks"]
    return p[cols].drop_duplicates("month").set_index("month").sort_index()


def observed_path(start: str, steps: int) -> list[float]:
    """Prices seen at steps 1..steps of a run started at ``start`` (panel rows after it)."""
    mk = market_by_month()
    months = [month_name(month_index(start) + k) for k in range(1, steps + 1)]
    missing = [m for m in months if m not in mk.index]
    if missing:
        raise InputError(
            f"history: no observed price for {missing[0]} (the panel ends {mk.index.max()}); "
            "shorten the window"
        )
    return [float(mk.loc[m, "btc_price_usd"]) for m in months]


def _subsidy(month: int) -> float:
    """Block subsidy (BTC) in a month from 2015 on: 25 after the 2012 halving, then halved."""
    return 25.0 / 2 ** sum(month_index(h) <= month for h in HALVINGS[:3])


def history_overrides(start: str, steps: int, base: Scenario | None = None) -> dict[str, Any]:
    """Overrides that replay ``steps`` months of history from the end of ``start``.

    World at the start: the price the panel's row ``start`` shows, six months of price
    history before it (for momentum), the network hashrate of that row, the block subsidy of
    the epoch, the halvings still ahead, the supply run back from 2025 at the protocol's
    issuance, and fleet efficiency run back from the baseline's 2025-06 value at its assumed
    improvement (as the likelihood does). The hashrate then follows the model's market.
    ``price.kappa`` is 0: the observed path already includes any price impact of sovereign
    flows.
    """
    sc = base or Scenario()
    mk = market_by_month()
    if start not in mk.index:
        raise InputError(
            f"history: {start} is not a panel month ({mk.index.min()} .. {mk.index.max()})"
        )
    i0 = month_index(start)
    before = [month_name(i0 - k) for k in range(6, 0, -1)]
    history = [float(mk.loc[m, "btc_price_usd"]) for m in before if m in mk.index]
    months_to_2025 = month_index("2025-06") - i0
    subsidy = _subsidy(i0)
    # supply: run the protocol's issuance back from the 2025-06 value month by month
    supply = SUPPLY_2025 - sum(
        sc.mining.blocks_per_month * _subsidy(i0 + 1 + k) for k in range(months_to_2025)
    )
    eff = sc.mining.efficiency_j_per_th * (1.0 - sc.mining.efficiency_improvement) ** (
        -months_to_2025 / 12.0
    )
    return {
        "start": start,
        "steps": int(steps),
        "initial.from_panel": start,
        "price.process": "path",
        "price.initial": float(mk.loc[start, "btc_price_usd"]),
        "price.path": observed_path(start, steps),
        "price.history": history,
        "price.kappa": 0.0,  # the observed path already holds the sovereigns' price impact
        "mining.network_hashrate_ehs": float(mk.loc[start, "btc_hashrate_ths"]) / 1e6,
        "mining.subsidy_btc": subsidy,
        "mining.halvings": [h for h in HALVINGS if month_index(h) > i0],
        "mining.circulating_supply_btc": supply,
        "mining.efficiency_j_per_th": eff,
    }
