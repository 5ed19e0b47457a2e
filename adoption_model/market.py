"""The shipped fit of the price process and the mining market (``data/market_fit.toml``).

``tools/fit_market.py`` estimates both from the monthly Bitcoin market series (Coin Metrics
Community Data, CC BY-NC 4.0; attribution in the file and in ``docs/market.md``) and writes
the file; the package only reads it, so a run needs neither the network nor ``../shared``.
The scenario's defaults (``PriceConfig``, ``MiningConfig``) come from here.

Examples
--------
>>> fit = load_fit()
>>> fit["price"]["selected"], fit["provenance"]["licence"]
('gbm', 'CC BY-NC 4.0')
>>> 0.3 < price_defaults()["volatility"] < 1.2
True
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from adoption_model.data import DATA_DIR, verify

FIT_FILE = DATA_DIR / "market_fit.toml"

#: MWh a machine delivering 1 TH/s uses in a day per J/TH of efficiency (86,400 s / 3.6e9 J).
MWH_PER_TH_DAY_PER_J = 86_400 / 3.6e9


@cache
def load_fit() -> dict[str, Any]:
    """The shipped fit as a dict (read once)."""
    with verify(FIT_FILE).open("rb") as fh:
        return tomllib.load(fh)


def price_defaults() -> dict[str, Any]:
    """Fitted defaults of ``PriceConfig``: the GBM and the two-regime process."""
    p = load_fit()["price"]
    g, r = p["gbm"], p["regime"]
    return {
        "drift": float(g["annual_drift"]),
        "volatility": float(g["annual_volatility"]),
        "regime_drift": [float(v) for v in r["annual_drift"]],
        "regime_volatility": [float(v) for v in r["annual_volatility"]],
        "regime_switch": [float(v) for v in r["leave_probability"]],
    }


def mining_defaults() -> dict[str, Any]:
    """Fitted defaults of the mining market in ``MiningConfig``."""
    m = load_fit()["mining"]
    return {
        "hashrate_response": float(m["response"]),
        "hashrate_persistence": float(m["persistence"]),
        "hashrate_lag_months": int(m["lag_months"]),
        "breakeven_usd_per_mwh": float(m["breakeven_usd_per_mwh"]),
    }
