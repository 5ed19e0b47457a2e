"""Tools for policy analysts: scenario discovery, key players, reports that travel.

Usage::

    from adoption_model import discovery
    d = discovery.discover("results/sobol", "final_adoption_share >= 0.25")
    d.box, d.trajectory, d.cart, d.scores       # DataFrames
    d.save("results/sobol/discovery")           # CSV/Parquet, SVG/PNG, report.html
    kp = discovery.key_players("baseline", k=3, replications=8)
    kp.ranking, kp.greedy                       # DataFrames

See ``docs/scenarios.md`` ("Asking which conditions", "Who matters").
"""

from __future__ import annotations

from adoption_model.discovery.core import (
    Discovery,
    cart_leaves,
    discover,
    feature_scores,
    parse_condition,
)
from adoption_model.discovery.iamc import export_iamc, steps_to_iamc, to_iamc, write_excel_csv
from adoption_model.discovery.prim import PrimResult, prim

__all__ = [
    "Discovery",
    "PrimResult",
    "cart_leaves",
    "discover",
    "export_iamc",
    "feature_scores",
    "key_players",
    "parse_condition",
    "prim",
    "steps_to_iamc",
    "to_iamc",
    "write_excel_csv",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy: key players imports the runner
    if name == "key_players":
        from adoption_model.discovery.keyplayers import key_players

        return key_players
    raise AttributeError(name)
