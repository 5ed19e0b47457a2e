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
Prat, J. and Walter, B. (2021), "An equilibrium model of the market for bitcoin mining",
Journal of Political Economy 129(8): free entry ties network hashrate to miners' revenue
(the hashprice), with investment lags.

The default price process and the mining market's parameters are fitted to Coin Metrics
Community Data (CC BY-NC 4.0) by ``tools/fit_market.py``; see ``adoption_model/market.py``
and docs/market.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from adoption_model.market import MWH_PER_TH_DAY_PER_J
from adoption_model.scenario import Scenario

DAYS_PER_MONTH = 365.25 / 12.0


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
    #: market hashrate model: log(hashprice / break-even) at the end of each month so far
    log_gaps: list[float] = field(default_factory=list)
    #: market hashrate model: last month's log growth of non-sovereign hashrate
    hashrate_log_growth: float = 0.0

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
        w.hashrate_log_growth = w.steady_hashrate_growth()
        return w

    @property
    def date(self) -> str:
        """The current month as ``YYYY-MM``."""
        return month_name(self.month)

    def momentum(self) -> float:
        """tanh of the log return over the last ``price.momentum_months`` months.

        Before that many months have passed, the start is the earliest price known: the
        given ``price.history`` (months before the start), else the start price (0 at start).
        """
        p = self.scenario.price
        k = p.momentum_months
        back = len(self.log_prices) - 1 - k
        if back >= 0 or not p.history:
            past = self.log_prices[max(0, back)]
        else:  # the months before the start (price.history, oldest first)
            past = math.log(p.history[max(0, len(p.history) + back)])
        return math.tanh(self.log_prices[-1] - past)

    def advance(
        self, rng: np.random.Generator, net_buying_btc: float, sovereign_th: float = 0.0
    ) -> None:
        """Move to the next month: calendar, subsidy, supply, hashrate and price.

        ``net_buying_btc`` is last month's sovereign purchases minus sales; with
        ``price.kappa > 0`` it moves the log price by ``kappa * net / free_float``.
        ``sovereign_th`` is the sovereign hashrate of the month just ended (it shares the
        block rewards, so it lowers the hashprice private miners see).
        Exactly one standard normal (and, for the regime process, one uniform) is drawn
        from ``rng`` per month, before the nations' draws; the hashrate is deterministic.
        """
        sc = self.scenario
        p, mn = sc.price, sc.mining
        # the month just ended, with its shocks and its sovereign miners, is now complete
        self.log_gaps.append(self.log_hashprice_gap(sovereign_th))
        self.step += 1
        self.month += 1
        if self.month in self.halving_months:
            self.subsidy /= 2.0
        self.supply += mn.blocks_per_month * self.subsidy
        if mn.hashrate_model == "exogenous":
            self.network_hashrate_th *= (1.0 + mn.hashrate_growth) ** (1.0 / 12.0)
        else:
            gap = self.log_gaps[max(0, self.step - mn.hashrate_lag_months)]
            rho = mn.hashrate_persistence
            growth = (
                (1.0 - rho) * self.steady_hashrate_growth()
                + mn.hashrate_response * gap
                + rho * self.hashrate_log_growth
            )
            self.hashrate_log_growth = growth
            self.network_hashrate_th *= math.exp(growth)
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

    def hashprice(self, sovereign_th: float = 0.0) -> float:
        """Miners' revenue per TH/s per day (USD) at the current price and network."""
        mn = self.scenario.mining
        per_day = self.block_reward() * mn.blocks_per_month / DAYS_PER_MONTH * self.price
        return per_day / (self.network_hashrate_th + sovereign_th)

    def breakeven_hashprice(self) -> float:
        """The free-entry hashprice: the all-in cost per MWh times the MWh a TH/s uses a day."""
        mn = self.scenario.mining
        return mn.breakeven_usd_per_mwh * self.efficiency_j_per_th * MWH_PER_TH_DAY_PER_J

    def log_hashprice_gap(self, sovereign_th: float = 0.0) -> float:
        """``ln(hashprice / break-even)``: positive when mining pays more than it costs."""
        return math.log(self.hashprice(sovereign_th) / self.breakeven_hashprice())

    def steady_hashrate_growth(self) -> float:
        """Monthly log growth of hashrate at break-even: the pace of fleet efficiency gains.

        The break-even hashprice falls as machines improve, so at a constant revenue the
        free-entry hashrate grows by ``-ln(1 - efficiency_improvement)`` a year.
        """
        return -math.log1p(-self.scenario.mining.efficiency_improvement) / 12.0
