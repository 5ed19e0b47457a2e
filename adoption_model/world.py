"""The world: calendar, BTC price, supply and halvings, network hashrate, IMF stance.

This is the model-level state of MODEL.md section 2 ("World") and step 1 of the process
("World update"). Everything here is scalar and shared by both engines, so the engines
cannot drift apart on it.

References
----------
Black, F. and Scholes, M. (1973), geometric Brownian motion for asset prices.
Hamilton, J. D. (1989), "A new approach to the economic analysis of nonstationary time
series and the business cycle", Econometrica 57(2): regime-switching (Markov) processes.
Nakamoto, S. (2008), "Bitcoin: a peer-to-peer electronic cash system": the block subsidy
halves every 210,000 blocks (about four years; April 2028 and April 2032 after 2024).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from adoption_model.scenario import Scenario


def month_index(month: str) -> int:
    """Months since year 0 for a ``YYYY-MM`` string (for calendar arithmetic)."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_name(index: int) -> str:
    """Inverse of :func:`month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class World:
    """Model-level state, updated once per month before nations decide.

    ``scenario`` is the model's *live* copy: dated ``set`` events and the view's sliders
    change it mid-run, and the world reads its parameters from it every month.
    """

    scenario: Scenario
    step: int = 0
    month: int = 0
    price: float = 0.0
    log_prices: list[float] = field(default_factory=list)
    regime: int = 0
    subsidy: float = 0.0
    supply: float = 0.0
    network_hashrate_th: float = 0.0
    efficiency_j_per_th: float = 0.0
    imf_stance: float = 0.0
    halving_months: set[int] = field(default_factory=set)

    @classmethod
    def start(cls, scenario: Scenario) -> World:
        """The world at step 0 (the scenario's start month)."""
        p, mn = scenario.price, scenario.mining
        w = cls(scenario=scenario)
        w.month = month_index(scenario.start)
        w.price = p.initial
        w.log_prices = [math.log(p.initial)]
        w.subsidy = mn.subsidy_btc
        w.supply = mn.circulating_supply_btc
        w.network_hashrate_th = mn.network_hashrate_ehs * 1e6
        w.efficiency_j_per_th = mn.efficiency_j_per_th
        w.imf_stance = scenario.imf.stance
        w.halving_months = {month_index(h) for h in mn.halvings}
        return w

    @property
    def date(self) -> str:
        """The current month as ``YYYY-MM``."""
        return month_name(self.month)

    def momentum(self) -> float:
        """tanh of the log return over the last ``price.momentum_months`` months (0 at start)."""
        k = self.scenario.price.momentum_months
        past = self.log_prices[max(0, len(self.log_prices) - 1 - k)]
        return math.tanh(self.log_prices[-1] - past)

    def advance(self, rng: np.random.Generator, net_buying_btc: float) -> None:
        """Move to the next month: calendar, subsidy, supply, hashrate and price.

        ``net_buying_btc`` is last month's sovereign purchases minus sales; with
        ``price.kappa > 0`` it moves the log price by ``kappa * net / free_float``.
        Exactly one standard normal (and, for the regime process, one uniform) is drawn
        from ``rng`` per month, before the nations' draws.
        """
        sc = self.scenario
        p, mn = sc.price, sc.mining
        self.step += 1
        self.month += 1
        if self.month in self.halving_months:
            self.subsidy /= 2.0
        self.supply += mn.blocks_per_month * self.subsidy
        self.network_hashrate_th *= (1.0 + mn.hashrate_growth) ** (1.0 / 12.0)
        self.efficiency_j_per_th *= (1.0 - mn.efficiency_improvement) ** (1.0 / 12.0)

        z = float(rng.standard_normal())
        if p.process == "regime":
            u = float(rng.random())
            if u < p.regime_switch[self.regime]:
                self.regime = (self.regime + 1) % len(p.regime_switch)
            mu, sigma = p.regime_drift[self.regime], p.regime_volatility[self.regime]
        else:
            mu, sigma = p.drift, p.volatility
        dt = 1.0 / 12.0
        if p.process == "path" and self.step <= len(p.path):
            log_p = math.log(p.path[self.step - 1])
        else:
            log_p = (
                self.log_prices[-1] + (mu - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * z
            )
        if p.kappa:
            log_p += p.kappa * net_buying_btc / p.free_float_btc
        self.set_log_price(log_p)

    def set_log_price(self, log_p: float) -> None:
        """Set this month's price (used by the process and by price shocks)."""
        self.price = math.exp(log_p)
        if len(self.log_prices) > self.step:
            self.log_prices[self.step] = log_p
        else:
            self.log_prices.append(log_p)

    def shock(self, change: float) -> None:
        """A named price shock: multiply this month's price by ``1 + change``."""
        self.set_log_price(self.log_prices[-1] + math.log1p(change))

    def block_reward(self) -> float:
        """BTC paid per block: subsidy plus fees."""
        return self.subsidy + self.scenario.mining.fees_btc_per_block
