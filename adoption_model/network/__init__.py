"""The influence network: the type, the real graph, the synthetic graphs, and one factory.

- :mod:`~adoption_model.network.graph`: :class:`InfluenceNetwork`, what the engine uses
  (node order, the weight matrix ``W``, the peer signal ``W @ x / W @ 1``).
- :mod:`~adoption_model.network.real`: the real graph of the 197 nations from the nation
  table (border, bloc, gravity and benchmark layers, weighted by
  :class:`~adoption_model.scenario.LayerWeights`).
- :mod:`~adoption_model.network.synthetic`: Erdős–Rényi, Barabási–Albert, Watts–Strogatz,
  ring and complete (mean-field) graphs.

:func:`build` turns a scenario's ``[network]`` table into the network and its nation table;
the model calls nothing else here. The configuration lives in
:mod:`adoption_model.scenario`: this package imports it, never the reverse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption_model.nations import load_nations, synthetic_nations
from adoption_model.network.graph import KINDS, InfluenceNetwork
from adoption_model.network.real import LAYERS, build_influence_graph, real_network
from adoption_model.network.synthetic import (
    barabasi_albert,
    complete,
    erdos_renyi,
    ring,
    synthetic_network,
    watts_strogatz,
)
from adoption_model.scenario import NetworkConfig

__all__ = [
    "KINDS",
    "LAYERS",
    "InfluenceNetwork",
    "barabasi_albert",
    "build",
    "build_influence_graph",
    "complete",
    "erdos_renyi",
    "real_network",
    "ring",
    "synthetic_network",
    "watts_strogatz",
]

#: Real influence networks already built in this process, by layer weights. They are
#: immutable, so the runs of one process share them.
_REAL_NETWORKS: dict[tuple[str, bool], InfluenceNetwork] = {}
_REAL_CACHE_SIZE = 32


def build(
    cfg: NetworkConfig, rng: np.random.Generator, nations: pd.DataFrame | None = None
) -> tuple[InfluenceNetwork, pd.DataFrame]:
    """The influence network a scenario's ``[network]`` table describes, and its nations.

    Parameters
    ----------
    cfg : NetworkConfig
        The scenario's ``network`` table.
    rng : numpy.random.Generator
        The model's generator. A synthetic graph draws from it first, then the synthetic
        nations' attributes (the real graph draws nothing).
    nations : pandas.DataFrame, optional
        A nation table to use instead of the bundled one (real network only; synthetic
        worlds always sample the bundled table).

    Returns
    -------
    (InfluenceNetwork, pandas.DataFrame)
        The network and the nation table in node order.

    Raises
    ------
    InputError
        Invalid layer weights or graph parameters, or a malformed nation table.

    Examples
    --------
    >>> from adoption_model.scenario import NetworkConfig
    >>> graph, table = build(NetworkConfig(kind="ring", n=10, k=2), np.random.default_rng(0))
    >>> graph.kind, len(table)
    ('ring', 10)
    """
    if cfg.kind == "real":
        if nations is not None:
            graph = real_network(nations, cfg.layers, allow_isolated=cfg.allow_isolated)
            return graph, nations
        key = (cfg.layers.model_dump_json(), cfg.allow_isolated)
        if key not in _REAL_NETWORKS:
            if len(_REAL_NETWORKS) >= _REAL_CACHE_SIZE:
                _REAL_NETWORKS.clear()
            _REAL_NETWORKS[key] = real_network(
                load_nations(), cfg.layers, allow_isolated=cfg.allow_isolated
            )
        return _REAL_NETWORKS[key], load_nations()
    graph = synthetic_network(
        cfg.kind, cfg.n, rng, mean_degree=cfg.mean_degree, m=cfg.m, k=cfg.k, p=cfg.p
    )
    return graph, synthetic_nations(cfg.n, rng, mode=cfg.attributes)
