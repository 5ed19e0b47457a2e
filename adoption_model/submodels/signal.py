"""Peer signal and the month's shared signals (docs/ODD.md section 7.1; step 4 of section 3).

A nation listens to its in-neighbours on the influence graph. Its peer signal is the
influence-weighted share of them that have adopted (hold a reserve or mine)::

    m_i = sum_j W_ij a_j / sum_j W_ij        (0 for a nation without in-neighbours)

the weighted averaging of DeGroot (1974) applied to a binary state, as in the threshold
model of Granovetter (1978) and Watts (2002); on an unweighted graph it is the plain
fraction of adopting neighbours, and on the complete graph (mean field) the global share.
The world share is the GDP-weighted share of adopters (docs/ODD.md 7.1).

Both engines, side by side:

- vectorised: :meth:`PeerSignal.share` (one sparse mat-vec for every nation) and
  :meth:`PeerSignal.new_adopter_counts` (the cascade rule's count of in-neighbours that
  adopted last step);
- per agent: :func:`look_at_neighbours` and :func:`count_new_adopter_neighbours`, which sum
  one nation's in-neighbours one by one in the graph's stored order, exactly as the
  compiled mat-vec does, so the two agree bit for bit.

The model-level signals every nation reads on the start-of-step state are gathered once
per step in :class:`Signals`.

References
----------
DeGroot, M. H. (1974), "Reaching a consensus", JASA 69(345): 118-121.
Granovetter, M. (1978), "Threshold models of collective behavior", AJS 83(6): 1420-1443.
Watts, D. J. (2002), "A simple model of global cascades on random networks", PNAS 99(9).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

try:  # scipy's compiled CSR mat-vec (the kernel behind ``csr_array @ vector``)
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - a future scipy may move it; fall back to ``@``
    _csr_matvec = None


@dataclass
class Signals:
    """What every nation sees at the start of a step (one value, or one entry per nation).

    Under the classic rules only the adoption fields are filled: they model adoption alone.
    """

    adopted: np.ndarray  # bool: holds a reserve or mines (start of step)
    adopted_f: np.ndarray  # the same as 0/1 floats (the signal's input)
    n_adopted: float  # number of adopters (the mean-field signal's numerator)
    new_prev: np.ndarray  # 0/1: adopted in the previous step (cascade rule)
    t: int = 0  # the step being decided
    price: float = 0.0  # this month's BTC price (after the world update and events)
    world_share: float = 0.0  # GDP-weighted share of adopters
    momentum: float = 0.0  # tanh of the recent log return of the price
    revenue_mwh: float = 0.0  # USD per MWh a new miner would earn (7.3)
    p_detect: float = 0.0  # the IMF's monthly detection probability (7.5)
    imf_stance: float = 0.0  # the IMF's stance (7.5)
    exposure: np.ndarray | None = None  # each nation's exposure to the IMF (7.5)
    imf_at_risk: np.ndarray | None = None  # expected tranche withheld / FX reserves (7.5)


class PeerSignal:
    """The vectorised peer signal on one influence network (any object with ``matrix``).

    ``network.matrix`` is the CSR matrix ``W`` (row *i* holds *i*'s in-neighbours) or None
    for the complete graph (mean field).
    """

    def __init__(self, network: Any) -> None:
        self.network = network
        self.n = int(network.n)
        self.matrix: sp.csr_array | None = network.matrix
        self.den = network.in_degree_weight()
        self.all_listen = bool((self.den > 0).all())
        self.structure: sp.csr_array | None = None
        if self.matrix is not None:  # unit weights: counts of neighbours (cascade rule)
            s = self.matrix.copy()
            s.data[:] = 1.0
            self.structure = s

    def share(self, x: np.ndarray) -> np.ndarray:
        """``m_i`` for every nation given 0/1 states ``x`` (last axis: nations).

        For a 1-D ``x`` it calls scipy's compiled CSR mat-vec directly (the same arithmetic
        as :meth:`InfluenceNetwork.signal`, without scipy's Python-level dispatch, which
        dominates a step at a few hundred nations). A leading replicate axis ``(R, n)`` is
        handled with one sparse product.
        """
        w, n = self.matrix, self.n
        if w is None and x.ndim == 1:
            return np.full(n, x.sum() / n)
        if w is None:
            return np.repeat(x.sum(axis=-1, keepdims=True) / n, n, axis=-1)
        if x.ndim == 1 and _csr_matvec is not None:
            num = np.zeros(n)
            _csr_matvec(n, n, w.indptr, w.indices, w.data, x, num)
        else:
            num = np.asarray((w @ x.reshape(-1, n).T).T).reshape(x.shape)
        if self.all_listen:  # every nation has in-neighbours (always so on the real graph)
            return np.divide(num, self.den, out=num)
        return np.divide(num, self.den, out=np.zeros(x.shape), where=self.den > 0)

    def new_adopter_counts(self, new_prev: np.ndarray) -> np.ndarray:
        """How many in-neighbours of each nation adopted in the previous step (cascade)."""
        if self.structure is None:
            return np.full(self.n, float(new_prev.sum()))
        return self.structure @ new_prev


def look_at_neighbours(
    idx: Sequence[int] | None, weights: Sequence[float] | None, signals: Signals, n: int
) -> float:
    """Scalar reference of :meth:`PeerSignal.share` for one nation.

    ``idx`` and ``weights`` are its in-neighbours in stored order (None on the complete
    graph, where the signal is the global share).
    """
    if idx is None or weights is None:
        return signals.n_adopted / n
    adopted = signals.adopted_f
    num = 0.0
    den = 0.0
    for j, wj in zip(idx, weights, strict=True):
        num += wj * adopted[j]
        den += wj * 1.0
    return num / den if den > 0 else 0.0


def count_new_adopter_neighbours(idx: Sequence[int] | None, signals: Signals) -> float:
    """Scalar reference of :meth:`PeerSignal.new_adopter_counts` for one nation."""
    if idx is None:
        return float(signals.new_prev.sum())
    count = 0.0
    for j in idx:
        count += 1.0 * signals.new_prev[j]
    return count


def world_share(gdp_usd: np.ndarray, adopted: np.ndarray, gdp_total: float) -> float:
    """GDP-weighted share of adopters, ``sum_j GDP_j a_j / sum_j GDP_j``."""
    # boolean selection then sum: no BLAS thread start-up, no slow where= reduction
    return float(gdp_usd[adopted].sum() / gdp_total)
