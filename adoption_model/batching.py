"""What may run as one ensemble, how many at once, and its parameters read as one scenario.

The planning half of :mod:`adoption_model.ensemble`: replicates share an ensemble when
they agree on :data:`STRUCTURAL_KEYS` (:func:`structure_key`); :func:`auto_batch_size`
sizes a batch from a replicate's memory (:func:`replicate_bytes`); :class:`Stacked` reads
the replicates' scenarios as one, a plain value where they agree and an ``(R, 1)`` column
where they differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from adoption_model.record import bytes_per_step
from adoption_model.scenario import Scenario

__all__ = [
    "BATCH_MEMORY",
    "MAX_BATCH",
    "STRUCTURAL_KEYS",
    "Stacked",
    "auto_batch_size",
    "replicate_bytes",
    "structure_key",
]

#: Scenario keys that change array shapes, the graph's kind or the code path: replicates
#: must agree on them to share an ensemble.
STRUCTURAL_KEYS = ("network.kind", "network.n", "rule.kind", "engine", "output.nation_frame")

#: Memory an automatically sized batch may use (bytes), and the largest batch.
BATCH_MEMORY = 512 * 2**20
MAX_BATCH = 256


# ---------------------------------------------------------------------------- parameters
class Stacked:
    """Scenario parameters of several replicates, read like one scenario.

    ``Stacked([sc1, sc2]).rule.coef.a_peer`` is a plain value where every replicate has
    the same one and an ``(R, 1)`` array (one row per replicate, broadcasting over
    nations) where they differ, so the submodel functions take it where they take a
    scenario. Values are read once and kept as attributes (later reads are plain
    attribute reads).
    """

    def __init__(self, models: Sequence[Any]) -> None:
        self._models = list(models)

    def __getattr__(self, name: str) -> Any:  # only for names not read before
        if name.startswith("_"):
            raise AttributeError(name)
        values = [getattr(m, name) for m in self._models]
        first = values[0]
        if isinstance(first, BaseModel):
            out: Any = Stacked(values)
        elif all(v == first for v in values[1:]):
            out = first
        elif isinstance(first, bool | int | float):
            out = np.asarray(values)[:, None]
        else:
            out = values
        self.__dict__[name] = out
        return out


class _Picked:
    """:class:`Stacked` parameters at selected ``(replicate, nation)`` pairs: a plain value,
    or the ``(R, 1)`` column picked at each pair's replicate (a 1-D array)."""

    def __init__(self, stacked: Stacked, rows: np.ndarray) -> None:
        self._stacked, self._rows = stacked, rows

    def __getattr__(self, name: str) -> Any:  # only for names not read before
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._stacked, name)
        if isinstance(value, Stacked):
            value = _Picked(value, self._rows)
        elif isinstance(value, np.ndarray):
            value = value[self._rows, 0]
        self.__dict__[name] = value
        return value


def structure_key(sc: Scenario) -> tuple:
    """What replicates must share to run in one ensemble (see :data:`STRUCTURAL_KEYS`)."""
    keep = sc.output.nation_frame
    keep_nations = (sc.network.kind == "real") if keep is None else bool(keep)
    n = 197 if sc.network.kind == "real" else int(sc.network.n)
    return (sc.network.kind, n, sc.rule.kind, sc.engine, keep_nations)


def replicate_bytes(sc: Scenario) -> int:
    """Rough memory of one replicate in an ensemble: state, decision temporaries, graph
    and records (the estimate :func:`auto_batch_size` divides the budget by)."""
    kind, n, rule, _, keep = structure_key(sc)
    classic = rule != "logit"
    state = 40 * 8 * n  # the NationState arrays and the signals
    temps = (8 if classic else 120) * 8 * n  # the logit's (n, 3 or 4) temporaries
    graph = 0
    if kind in ("erdos_renyi", "barabasi_albert", "watts_strogatz"):
        degree = {"erdos_renyi": sc.network.mean_degree, "barabasi_albert": 2 * sc.network.m}
        edges = degree.get(kind, sc.network.k) * n
        graph = 4 * 16 * edges  # own matrix, block copy and the structure (cascade)
        state += 2_000 * n // 10  # the synthetic nation table while it is built
    record = bytes_per_step(n, keep, classic) * (sc.steps + 1)
    return int(state + temps + graph + record)


def auto_batch_size(sc: Scenario, memory: int = BATCH_MEMORY) -> int:
    """How many replicates of ``sc`` to run as one ensemble within ``memory`` bytes."""
    if sc.engine != "vectorized":
        return 1
    return int(max(1, min(MAX_BATCH, memory // max(replicate_bytes(sc), 1))))
