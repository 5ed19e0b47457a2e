"""The worlds of the ensemble's replicates as arrays, advanced together, bit for bit.

:class:`~adoption_model.world.World` advances one replicate's world in Python: about ten
microseconds a month, which at 256 replicates is a quarter of an ensemble step.
:class:`WorldRows` holds the same quantities as ``(rows,)`` arrays (and the price and
hashprice histories as ``(steps + 1, rows)`` arrays) and advances them with the same
arithmetic: additions, multiplications and divisions elementwise in numpy (IEEE, so the
same bits as Python's floats, in the same order), and every transcendental function
(``exp``, ``log``, ``tanh``, ``pow``) through Python's :mod:`math` value by value, since
numpy's vectorised ``exp`` and ``log`` may differ from the C library's in the last bit.
Each replicate still draws its one standard normal a month from its own Generator (the
ensemble draws it, before the month's uniforms, and passes it in).

It covers the default price process (``price.process = "gbm"``) under either hashrate
model; the ensemble keeps one :class:`World` per replicate for the regime and path
processes (:func:`supports`). Dated events act on a replicate's world through
:meth:`WorldRows.row` (price shocks, the IMF stance), as they act on a :class:`World`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adoption_model.market import MWH_PER_TH_DAY_PER_J
from adoption_model.world import DAYS_PER_MONTH, World, month_name

__all__ = ["WorldRows", "supports"]


def supports(params: Any) -> bool:
    """Whether :class:`WorldRows` advances these (stacked) scenarios' worlds."""
    mn = params.mining
    return params.price.process == "gbm" and mn.hashrate_model in ("exogenous", "market")


def _each(fn: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """``fn`` (a :mod:`math` function) applied value by value."""
    return np.array(list(map(fn, values.tolist())), dtype=float)


def _param(fn: Callable[[float], float], value: Any) -> Any:
    """``fn`` of a parameter: a plain value, or an ``(R, 1)`` column value by value."""
    if np.ndim(value):
        return _each(fn, np.asarray(value, dtype=float)[:, 0])
    return fn(value)


def _col(value: Any) -> Any:
    """A stacked parameter as a ``(rows,)`` array where replicates differ."""
    return np.asarray(value)[:, 0] if np.ndim(value) else value


class WorldRows:
    """The ``rows`` replicates' worlds (see the module docstring)."""

    def __init__(self, worlds: Sequence[World], steps: int) -> None:
        rows = len(worlds)
        if any(len(w.log_prices) != 1 or w.log_gaps or w.step for w in worlds):
            raise ValueError("WorldRows starts from worlds at step 0")
        self.step = 0
        self.month = np.array([w.month for w in worlds], dtype=np.int64)
        self.price = np.array([w.price for w in worlds])
        self.subsidy = np.array([w.subsidy for w in worlds])
        self.supply = np.array([w.supply for w in worlds])
        self.network_hashrate_th = np.array([w.network_hashrate_th for w in worlds])
        self.efficiency_j_per_th = np.array([w.efficiency_j_per_th for w in worlds])
        self.imf_stance = np.array([w.imf_stance for w in worlds])
        self.growth = np.array([w.hashrate_log_growth for w in worlds])
        self.log_prices = np.zeros((steps + 1, rows))
        self.log_prices[0] = [w.log_prices[0] for w in worlds]
        self.log_gaps = np.zeros((steps + 1, rows))
        self.halving = np.zeros((steps + 1, rows), dtype=bool)  # halving[s, r]: at step s
        for r, w in enumerate(worlds):
            for h in w.halving_months:
                s = h - w.month
                if 0 < s <= steps:
                    self.halving[s, r] = True

    # ---------------------------------------------------------------- the month's update
    def advance(
        self,
        params: Any,
        z: np.ndarray,
        net_buying_btc: np.ndarray,
        sovereign_th: np.ndarray,
    ) -> None:
        """:meth:`World.advance` of every row, given each row's standard normal ``z``
        (drawn by the caller from the row's Generator, the month's first draw; stopped
        rows are not recorded, whatever their value)."""
        if not supports(params):  # a 'set' event changed the process: run them alone
            raise ValueError("WorldRows: the price process or hashrate model changed")
        p, mn = params.price, params.mining
        self.log_gaps[self.step] = self.log_hashprice_gap(params, sovereign_th)
        self.step += 1
        s = self.step
        self.month += 1
        self.subsidy[self.halving[s]] /= 2.0
        self.supply += _col(mn.blocks_per_month) * self.subsidy
        if mn.hashrate_model == "exogenous":
            factor = _param(lambda g: (1.0 + g) ** (1.0 / 12.0), mn.hashrate_growth)
            self.network_hashrate_th *= factor
        else:
            lag = _col(mn.hashrate_lag_months)
            gap = self.log_gaps[np.maximum(0, s - lag), np.arange(len(self.price))]
            rho = _col(mn.hashrate_persistence)
            steady = _param(lambda e: -math.log1p(-e) / 12.0, mn.efficiency_improvement)
            growth = (1.0 - rho) * steady + _col(mn.hashrate_response) * gap + rho * self.growth
            self.growth = growth
            self.network_hashrate_th *= _each(math.exp, growth)
        impr = _param(lambda e: (1.0 - e) ** (1.0 / 12.0), mn.efficiency_improvement)
        self.efficiency_j_per_th *= impr

        mu, sigma = _col(p.drift), _col(p.volatility)
        dt = 1.0 / 12.0
        log_p = self.log_prices[s - 1] + (mu - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * z
        kappa = _col(p.kappa)
        if np.any(kappa):
            moved = log_p + kappa * net_buying_btc / _col(p.free_float_btc)
            log_p = np.where(kappa != 0, moved, log_p)
        self.log_prices[s] = log_p
        self.price = _each(math.exp, log_p)

    def log_hashprice_gap(self, params: Any, sovereign_th: np.ndarray) -> np.ndarray:
        """:meth:`World.log_hashprice_gap` of every row."""
        mn = params.mining
        reward = self.subsidy + _col(mn.fees_btc_per_block)
        per_day = reward * _col(mn.blocks_per_month) / DAYS_PER_MONTH * self.price
        hashprice = per_day / (self.network_hashrate_th + sovereign_th)
        breakeven = _col(mn.breakeven_usd_per_mwh) * self.efficiency_j_per_th
        return _each(math.log, hashprice / (breakeven * MWH_PER_TH_DAY_PER_J))

    def momentum(self, params: Any) -> np.ndarray:
        """:meth:`World.momentum` of every row."""
        p = params.price
        s, rows = self.step, len(self.price)
        back = s - np.broadcast_to(_col(p.momentum_months), (rows,))
        past = self.log_prices[np.maximum(0, back), np.arange(rows)]
        history = p.history  # one list, or one list per row where replicates differ
        if (back < 0).any() and history:  # the months before the start (price.history)
            for r in np.flatnonzero(back < 0):
                h = history if not isinstance(history[0], list) else history[r]
                if h:
                    past[r] = math.log(h[max(0, len(h) + int(back[r]))])
        return _each(math.tanh, self.log_prices[s] - past)

    def block_reward(self, params: Any) -> np.ndarray:
        """:meth:`World.block_reward` of every row."""
        return self.subsidy + _col(params.mining.fees_btc_per_block)

    # ---------------------------------------------------------------- rows and events
    def row(self, r: int) -> _Row:
        """Row ``r`` as the world dated events act on (price shocks, the IMF stance)."""
        return _Row(self, r)

    def select(self, keep: np.ndarray) -> None:
        """Keep rows ``keep`` only (after others stopped)."""
        for name in (
            "month", "price", "subsidy", "supply", "network_hashrate_th",
            "efficiency_j_per_th", "imf_stance", "growth",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name)[keep])
        for name in ("log_prices", "log_gaps", "halving"):
            setattr(self, name, getattr(self, name)[:, keep])


class _Row:
    """One replicate's world inside :class:`WorldRows`, as :mod:`~adoption_model.
    submodels.events` uses a :class:`World`."""

    def __init__(self, rows: WorldRows, r: int) -> None:
        self._rows, self._r = rows, r

    @property
    def price(self) -> float:
        return float(self._rows.price[self._r])

    @property
    def month(self) -> int:
        return int(self._rows.month[self._r])

    @property
    def date(self) -> str:
        return month_name(self.month)

    @property
    def step(self) -> int:
        return self._rows.step

    @property
    def imf_stance(self) -> float:
        return float(self._rows.imf_stance[self._r])

    @imf_stance.setter
    def imf_stance(self, value: float) -> None:
        self._rows.imf_stance[self._r] = value

    def shock(self, change: float) -> None:
        """:meth:`World.shock`: multiply this month's price by ``1 + change``."""
        rows, r, s = self._rows, self._r, self._rows.step
        log_p = float(rows.log_prices[s, r]) + math.log1p(change)
        rows.price[r] = math.exp(log_p)
        rows.log_prices[s, r] = log_p
