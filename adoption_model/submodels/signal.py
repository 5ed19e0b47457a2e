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

from adoption_model.submodels.rows import masked_row_sums

try:  # scipy's compiled CSR mat-vec (the kernel behind ``csr_array @ vector``)
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a future scipy may move it; fall back to ``@``
    _csr_matvec = _csr_matvecs = None


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
    #: months of import cover of the nations deciding (None: computed from the state)
    fx_cover: np.ndarray | None = None
    #: debt stress and whether FX stress is assessed, of the nations deciding (None:
    #: computed from the state; they read covariates that nothing changes during a run)
    debt_stress: np.ndarray | None = None
    fx_assessed: np.ndarray | None = None
    #: the IMF's pressure on the nations deciding (None: from the stance, exposure and
    #: at-risk share, as :func:`~adoption_model.submodels.decision.logit_inputs` does)
    imf_pressure: np.ndarray | None = None


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
            if new_prev.ndim > 1:
                return np.repeat(new_prev.sum(axis=-1, keepdims=True), self.n, axis=-1)
            return np.full(self.n, float(new_prev.sum()))
        if new_prev.ndim > 1:
            return _product(self.structure, new_prev)
        return self.structure @ new_prev


def _product(w: sp.csr_array, x: np.ndarray) -> np.ndarray:
    """``(W @ X.T).T`` for ``(R, n)`` states ``X``: one sparse product, one column each.

    scipy's multi-vector CSR kernel sums each row's neighbours in stored order, as the
    one-vector kernel does, so every column is bit for bit the single run's product.
    """
    rows, n = x.shape
    if _csr_matvecs is None:  # pragma: no cover
        return np.ascontiguousarray(np.asarray(w @ x.T.astype(float)).T)
    cols = np.ascontiguousarray(x.T, dtype=float)
    out = np.zeros((n, rows))
    _csr_matvecs(n, n, rows, w.indptr, w.indices, w.data, cols.ravel(), out.ravel())
    return np.ascontiguousarray(out.T)


class EnsemblePeerSignal:
    """The peer signal of ``R`` replicates at once, one sparse product per step.

    ``networks`` holds each replicate's influence network. When they are all the same
    graph (the real world, rings, complete graphs: graphs that do not depend on the seed)
    the replicates share its matrix and one product ``W @ S`` with one column per
    replicate gives every signal. Random graphs differ per replicate (each is drawn from
    its replicate's generator), so their matrices are put on the diagonal of one
    block-diagonal matrix over all replicates and the flattened ``(R * n,)`` state goes
    through one CSR mat-vec: still one compiled call a step, and each block's rows are
    summed in the order of that replicate's own matrix, so every replicate gets its single
    run's bits. (A loop of R products would cost R Python-level calls a step; a dense
    batched product would cost n x n per replicate.) On a shared graph only the
    replicates whose adopters changed since the last step are multiplied again (a few
    in a hundred, a month of the baseline); the others keep their signal.
    """

    def __init__(self, networks: Sequence[Any]) -> None:
        first = networks[0]
        self.n = int(first.n)
        self.replicates = len(networks)
        self.shared = all(_same_graph(first, net) for net in networks[1:])
        self.complete = first.matrix is None
        #: the last states and signals of a shared graph (rows whose state did not change
        #: keep their signal: each column of the product is computed on its own)
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        #: the rows the last :meth:`share` recomputed (None: all of them)
        self.changed: np.ndarray | None = None
        if self.shared:
            one = PeerSignal(first)
            self.matrix, self.structure = one.matrix, one.structure
            self.den = one.den
            self.all_listen = one.all_listen
            return
        mats = [net.matrix for net in networks]
        self.matrix = _block_diagonal(mats)
        self.structure = None
        if self.matrix is not None:
            self.structure = self.matrix.copy()
            self.structure.data[:] = 1.0
        self.den = np.stack([net.in_degree_weight() for net in networks])
        self.all_listen = bool((self.den > 0).all())

    def share(self, x: np.ndarray) -> np.ndarray:
        """``m_i`` of every nation of every replicate given ``(R, n)`` 0/1 states ``x``
        (floats, or bools: the same signal, and on a shared graph a cheaper comparison
        with the last states)."""
        rows, n = x.shape
        self.changed = None
        if x.dtype == bool and (self.complete or not self.shared):
            x = x.astype(float)
        if self.complete:
            return np.repeat(x.sum(axis=-1, keepdims=True) / n, n, axis=-1)
        if not self.shared:
            return self._divide(self._apply(self.matrix, x))
        # a shared graph: recompute only the replicates whose adopters changed (a few a
        # step); the product's columns and the division are each row's own arithmetic
        last = self._last
        if last is None or last[0].shape != x.shape:
            out = self._divide(_product(self.matrix, x))
        else:
            self.changed = changed = np.flatnonzero((x != last[0]).any(axis=-1))
            if not len(changed):
                return last[1]
            out = last[1].copy()
            out[changed] = self._divide(_product(self.matrix, x[changed]))
        out.flags.writeable = False  # handed out again next step: callers only read it
        self._last = (x.copy(), out)
        return out

    def _divide(self, num: np.ndarray) -> np.ndarray:
        if self.all_listen:
            return np.divide(num, self.den, out=num)
        return np.divide(num, self.den, out=np.zeros(num.shape), where=self.den > 0)

    def new_adopter_counts(self, new_prev: np.ndarray) -> np.ndarray:
        """In-neighbours of each nation that adopted in the previous step, ``(R, n)``."""
        if self.complete:
            return np.repeat(new_prev.sum(axis=-1, keepdims=True), self.n, axis=-1)
        return self._apply(self.structure, new_prev)

    def _apply(self, w: sp.csr_array, x: np.ndarray) -> np.ndarray:
        if self.shared:
            return _product(w, x)
        flat = np.ascontiguousarray(x, dtype=float).ravel()
        total = flat.size
        out = np.zeros(total)
        if _csr_matvec is None:  # pragma: no cover
            out = w @ flat
        else:
            _csr_matvec(total, total, w.indptr, w.indices, w.data, flat, out)
        return out.reshape(x.shape)

    def select(self, keep: np.ndarray) -> EnsemblePeerSignal:
        """The signal of replicates ``keep`` only (after others stopped)."""
        new = object.__new__(EnsemblePeerSignal)
        new.__dict__.update(self.__dict__)
        new.replicates = len(keep)
        new._last = None
        if self.shared:
            return new
        new.den = self.den[keep]
        new.all_listen = bool((new.den > 0).all())
        if self.matrix is not None:
            new.matrix = _block_rows(self.matrix, self.n, keep)
            new.structure = new.matrix.copy()
            new.structure.data[:] = 1.0
        return new


def _same_graph(a: Any, b: Any) -> bool:
    if a is b:
        return True
    wa, wb = a.matrix, b.matrix
    if int(a.n) != int(b.n):
        return False
    if wa is None or wb is None:
        return wa is None and wb is None
    return (
        np.array_equal(wa.indptr, wb.indptr)
        and np.array_equal(wa.indices, wb.indices)
        and np.array_equal(wa.data, wb.data)
    )


def _block_diagonal(mats: Sequence[sp.csr_array | None]) -> sp.csr_array | None:
    """One CSR matrix with ``mats`` on its diagonal, each block's rows in stored order."""
    if any(m is None for m in mats):
        return None
    n = mats[0].shape[0]
    nnz = np.array([m.nnz for m in mats])
    offsets = np.concatenate([[0], np.cumsum(nnz)[:-1]])
    indptr = np.concatenate(
        [
            np.asarray(m.indptr[:-1], dtype=np.int64) + off
            for m, off in zip(mats, offsets, strict=True)
        ]
        + [np.array([nnz.sum()], dtype=np.int64)]
    )
    indices = np.concatenate(
        [np.asarray(m.indices, dtype=np.int64) + r * n for r, m in enumerate(mats)]
    )
    data = np.concatenate([np.asarray(m.data, dtype=float) for m in mats])
    total = n * len(mats)
    return sp.csr_array((data, indices, indptr), shape=(total, total))


def _block_rows(w: sp.csr_array, n: int, keep: np.ndarray) -> sp.csr_array:
    """The block-diagonal matrix of the blocks ``keep`` (in that order)."""
    blocks = []
    for r in keep:
        lo, hi = w.indptr[r * n], w.indptr[(r + 1) * n]
        ptr = w.indptr[r * n : (r + 1) * n + 1] - lo
        blocks.append(sp.csr_array((w.data[lo:hi], w.indices[lo:hi] - r * n, ptr), shape=(n, n)))
    return _block_diagonal(blocks)


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


def world_share(
    gdp_usd: np.ndarray, adopted: np.ndarray, gdp_total: float | np.ndarray
) -> float | np.ndarray:
    """GDP-weighted share of adopters, ``sum_j GDP_j a_j / sum_j GDP_j``.

    With ``(R, n)`` adoption (the ensemble engine) one share per replicate, ``(R, 1)``.
    """
    if adopted.ndim > 1:
        return (masked_row_sums(gdp_usd, adopted) / gdp_total)[:, None]
    # boolean selection then sum: no BLAS thread start-up, no slow where= reduction
    return float(gdp_usd[adopted].sum() / gdp_total)
