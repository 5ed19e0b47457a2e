"""Synthetic influence graphs for stylised experiments.

:func:`erdos_renyi`, :func:`barabasi_albert`, :func:`watts_strogatz`, :func:`ring` and
:func:`complete` replace the real graph for stylised experiments. They are undirected with
unit weights (``W`` symmetric, ``W[i, j] = 1`` for every tie), take a
:class:`numpy.random.Generator` and are reproducible: the same seed gives identical CSR
arrays. :func:`complete` is the mean field: no matrix is built, and every node's signal is
the global share ``x.sum() / n`` (each node counts itself). The nodes get nation
attributes from :func:`adoption_model.nations.synthetic_nations`.

References
----------
.. [1] Erdős, P. & Rényi, A. (1959). On random graphs I. *Publicationes Mathematicae
   Debrecen* 6, 290-297.
.. [2] Batagelj, V. & Brandes, U. (2005). Efficient generation of large random networks.
   *Physical Review E* 71, 036113.
.. [3] Barabási, A.-L. & Albert, R. (1999). Emergence of scaling in random networks.
   *Science* 286(5439), 509-512.
.. [4] Watts, D. J. & Strogatz, S. H. (1998). Collective dynamics of 'small-world'
   networks. *Nature* 393, 440-442.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from adoption_model.errors import InputError, check_float, check_int, check_rng, did_you_mean
from adoption_model.network.graph import InfluenceNetwork, _canonical_csr

__all__ = [
    "barabasi_albert",
    "complete",
    "erdos_renyi",
    "ring",
    "synthetic_network",
    "watts_strogatz",
]


def _undirected(n: int, a: np.ndarray, b: np.ndarray, kind: str) -> InfluenceNetwork:
    """Symmetric unit-weight network from undirected pairs (a[e], b[e]), a != b, unique."""
    idx_dtype = np.int32 if 2 * len(a) < 2**31 and n < 2**31 else np.int64
    rows = np.concatenate([a, b]).astype(idx_dtype)
    cols = np.concatenate([b, a]).astype(idx_dtype)
    # COO to CSR is a counting sort by row; _canonical_csr sorts each row's columns, so
    # the matrix is the canonical CSR of the pairs (unique: no duplicates to sum)
    matrix = sp.coo_array((np.ones(len(cols)), (rows, cols)), shape=(n, n)).tocsr()
    return InfluenceNetwork(nodes=list(range(n)), matrix=_canonical_csr(matrix), kind=kind)


def _unrank_pairs(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map ranks ``k = j (j - 1) / 2 + i`` (0 <= i < j) back to the pairs (i, j)."""
    k = k.astype(np.int64)
    j = np.floor((1.0 + np.sqrt(1.0 + 8.0 * k.astype(np.float64))) / 2.0).astype(np.int64)
    # correct float rounding at the boundaries
    j -= (j * (j - 1) // 2) > k
    j += ((j + 1) * j // 2) <= k
    i = k - j * (j - 1) // 2
    return i, j


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> InfluenceNetwork:
    """Erdős–Rényi (Gilbert) random graph G(n, p) with ``p = mean_degree / (n - 1)``.

    Undirected, unit weights. Instead of testing all ``n (n - 1) / 2`` pairs it draws the
    number of edges ``M ~ Binomial(n (n - 1) / 2, p)`` and then ``M`` distinct pairs
    uniformly without replacement (ranks of pairs unranked into ``(i, j)``). Conditional on
    ``M`` every set of ``M`` pairs is equally likely, so the graph has exactly the G(n, p)
    distribution, in expected ``O(n + m)`` time and memory, like the geometric skipping
    method of Batagelj & Brandes (2005).

    Parameters
    ----------
    n : int
        Number of nodes (>= 2).
    mean_degree : float
        Expected degree, in ``[0, n - 1]``.
    rng : numpy.random.Generator
        Source of randomness; the same seed gives identical arrays.

    Returns
    -------
    InfluenceNetwork
        ``kind == "erdos_renyi"``.

    Raises
    ------
    InputError
        ``network.n``, ``network.mean_degree`` or ``network.rng`` out of range.

    Examples
    --------
    >>> net = erdos_renyi(1000, 6.0, np.random.default_rng(1))
    >>> 5.5 < net.matrix.nnz / net.n < 6.5
    True

    References
    ----------
    .. [1] Erdős, P. & Rényi, A. (1959). On random graphs I. *Publicationes Mathematicae
       Debrecen* 6, 290-297.
    .. [2] Gilbert, E. N. (1959). Random graphs. *Annals of Mathematical Statistics*
       30(4), 1141-1144.
    .. [3] Batagelj, V. & Brandes, U. (2005). Efficient generation of large random
       networks. *Physical Review E* 71, 036113.
    """
    n = check_int("network.n", n, 2)
    mean_degree = check_float(
        "network.mean_degree", mean_degree, 0.0, float(n - 1), " (0 to n - 1)"
    )
    rng = check_rng(rng)
    n_pairs = n * (n - 1) // 2
    p = min(mean_degree / (n - 1), 1.0)
    m = int(rng.binomial(n_pairs, p))
    if m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _undirected(n, empty, empty, "erdos_renyi")
    ranks = rng.choice(n_pairs, size=m, replace=False, shuffle=False)
    a, b = _unrank_pairs(np.asarray(ranks, dtype=np.int64))
    return _undirected(n, a, b, "erdos_renyi")


class _Uniforms:
    """Buffered uniform draws from a Generator, consumed one at a time in Python loops."""

    def __init__(self, rng: np.random.Generator, chunk: int) -> None:
        self._rng = rng
        self._chunk = max(int(chunk), 1024)
        self._buf: list[float] = []
        self._pos = 0

    def below(self, upper: int) -> int:
        """A uniform integer in ``[0, upper)``."""
        if self._pos >= len(self._buf):
            self._buf = self._rng.random(self._chunk).tolist()
            self._pos = 0
        u = self._buf[self._pos]
        self._pos += 1
        return min(int(u * upper), upper - 1)


def barabasi_albert(n: int, m: int, rng: np.random.Generator) -> InfluenceNetwork:
    """Barabási–Albert preferential-attachment graph.

    Starts from a star on ``m + 1`` nodes (node 0 linked to nodes ``1..m``, as networkx's
    ``barabasi_albert_graph``); each further node attaches to ``m`` distinct existing nodes
    chosen with probability proportional to their degree (a uniform draw from the list in
    which every node appears once per edge end). The graph has exactly ``m * (n - m)``
    edges; ``O(n m)`` time. Undirected, unit weights.

    Parameters
    ----------
    n : int
        Number of nodes (>= 2).
    m : int
        Edges attached from each new node, ``1 <= m < n``.
    rng : numpy.random.Generator
        Source of randomness; the same seed gives identical arrays.

    Returns
    -------
    InfluenceNetwork
        ``kind == "barabasi_albert"``.

    Raises
    ------
    InputError
        ``network.n``, ``network.m`` or ``network.rng`` out of range.

    Examples
    --------
    >>> net = barabasi_albert(100, 2, np.random.default_rng(0))
    >>> net.matrix.nnz // 2
    196

    References
    ----------
    .. [1] Barabási, A.-L. & Albert, R. (1999). Emergence of scaling in random networks.
       *Science* 286(5439), 509-512.
    """
    n = check_int("network.n", n, 2)
    m = check_int("network.m", m, 1, n - 1, " (1 to n - 1)")
    rng = check_rng(rng)
    uni = _Uniforms(rng, 2 * m * n)
    src: list[int] = list(range(1, m + 1))
    dst: list[int] = [0] * m
    repeated: list[int] = [0] * m + list(range(1, m + 1))
    for v in range(m + 1, n):
        targets: list[int] = []
        size = len(repeated)
        while len(targets) < m:
            t = repeated[uni.below(size)]
            if t not in targets:
                targets.append(t)
        src.extend([v] * m)
        dst.extend(targets)
        repeated.extend(targets)
        repeated.extend([v] * m)
    return _undirected(
        n, np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64), "barabasi_albert"
    )


def _ring_pairs(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lattice pairs ``(u, (u + j) % n)`` for ``j = 1..k/2``, j-major then u."""
    u = np.tile(np.arange(n, dtype=np.int64), k // 2)
    j = np.repeat(np.arange(1, k // 2 + 1, dtype=np.int64), n)
    return u, (u + j) % n


def _check_k(n: int, k: Any) -> int:
    k = check_int("network.k", k, 2, n - 1, " (2 to n - 1)")
    if k % 2:
        raise InputError(f"network.k: must be even (k/2 neighbours on each side), got {k}")
    return k


def ring(n: int, k: int) -> InfluenceNetwork:
    """Ring lattice: each node linked to its ``k`` nearest nodes, ``k / 2`` on each side.

    Undirected, unit weights, every degree exactly ``k``. The ``p = 0`` case of
    :func:`watts_strogatz` and the classic substrate of threshold models.

    Parameters
    ----------
    n : int
        Number of nodes (>= 3).
    k : int
        Even degree, ``2 <= k < n``.

    Returns
    -------
    InfluenceNetwork
        ``kind == "ring"``.

    Raises
    ------
    InputError
        ``network.n`` or ``network.k`` out of range.

    Examples
    --------
    >>> ring(10, 4).in_degree().tolist() == [4] * 10
    True

    References
    ----------
    .. [1] Watts, D. J. & Strogatz, S. H. (1998). Collective dynamics of 'small-world'
       networks. *Nature* 393, 440-442.
    """
    n = check_int("network.n", n, 3, what=" for a ring")
    k = _check_k(n, k)
    a, b = _ring_pairs(n, k)
    return _undirected(n, a, b, "ring")


def watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator) -> InfluenceNetwork:
    """Watts–Strogatz small-world graph: a ring lattice with each edge rewired with prob. ``p``.

    Follows Watts & Strogatz (1998) and networkx's ``watts_strogatz_graph``: for ``j = 1 ..
    k/2`` and every node ``u`` in order, the lattice edge ``(u, u + j)`` is, with
    probability ``p``, replaced by ``(u, w)`` with ``w`` uniform among the nodes that are
    neither ``u`` nor already linked to it (skipped if ``u`` is linked to all). The edge
    count stays ``n k / 2``. Only rewired edges are visited in Python, so the cost is
    ``O(n k)`` vectorised plus ``O(p n k)`` in the loop. ``p = 0`` gives :func:`ring`'s
    matrix exactly. Undirected, unit weights.

    Parameters
    ----------
    n : int
        Number of nodes (>= 3).
    k : int
        Even lattice degree, ``2 <= k < n``.
    p : float
        Rewiring probability in ``[0, 1]``.
    rng : numpy.random.Generator
        Source of randomness; the same seed gives identical arrays.

    Returns
    -------
    InfluenceNetwork
        ``kind == "watts_strogatz"``.

    Raises
    ------
    InputError
        ``network.n``, ``network.k``, ``network.p`` or ``network.rng`` out of range.

    Examples
    --------
    >>> net = watts_strogatz(100, 4, 0.1, np.random.default_rng(0))
    >>> net.matrix.nnz // 2
    200

    References
    ----------
    .. [1] Watts, D. J. & Strogatz, S. H. (1998). Collective dynamics of 'small-world'
       networks. *Nature* 393, 440-442.
    """
    n = check_int("network.n", n, 3, what=" for a ring")
    k = _check_k(n, k)
    p = check_float("network.p", p, 0.0, 1.0)
    rng = check_rng(rng)
    a, b = _ring_pairs(n, k)
    rewire = np.flatnonzero(rng.random(len(a)) < p)
    if len(rewire) == 0:
        return _undirected(n, a, b, "watts_strogatz")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    edges = set((lo * n + hi).tolist())
    degree = [k] * n
    uni = _Uniforms(rng, 2 * len(rewire))
    for e in rewire.tolist():
        u, v = int(a[e]), int(b[e])
        if degree[u] >= n - 1:
            continue
        while True:
            w = uni.below(n)
            if w != u and (min(u, w) * n + max(u, w)) not in edges:
                break
        edges.discard(min(u, v) * n + max(u, v))
        edges.add(min(u, w) * n + max(u, w))
        degree[v] -= 1
        degree[w] += 1
    keys = np.fromiter(edges, dtype=np.int64, count=len(edges))
    return _undirected(n, keys // n, keys % n, "watts_strogatz")


def complete(n: int) -> InfluenceNetwork:
    """The complete graph as a mean field: every node sees the global share.

    No matrix is stored (``matrix is None``); :meth:`InfluenceNetwork.signal` returns
    ``x.sum() / n`` for every node in ``O(n)``. Each node counts itself, so
    ``in_degree_weight`` is ``n``; this is the Bass (1969) setting where the imitation term
    uses the global adoption share.

    Parameters
    ----------
    n : int
        Number of nodes (>= 2).

    Returns
    -------
    InfluenceNetwork
        ``kind == "complete"``, ``matrix is None``, ``graph is None``.

    Raises
    ------
    InputError
        ``network.n`` below 2.

    Examples
    --------
    >>> complete(1_000_000).signal(np.ones(1_000_000))[:2].tolist()
    [1.0, 1.0]

    References
    ----------
    .. [1] Bass, F. M. (1969). A new product growth for model consumer durables.
       *Management Science* 15(5), 215-227.
    """
    n = check_int("network.n", n, 2)
    return InfluenceNetwork(nodes=list(range(n)), matrix=None, kind="complete")


def synthetic_network(
    kind: str,
    n: int,
    rng: np.random.Generator,
    *,
    mean_degree: float = 6.0,
    m: int = 2,
    k: int = 4,
    p: float = 0.1,
) -> InfluenceNetwork:
    """Build a synthetic network by name (the scenario's ``network.kind``).

    Parameters
    ----------
    kind : str
        ``"erdos_renyi"``, ``"barabasi_albert"``, ``"watts_strogatz"``, ``"ring"`` or
        ``"complete"``.
    n : int
        Number of nodes.
    rng : numpy.random.Generator
        Source of randomness (unused by ``ring`` and ``complete``).
    mean_degree, m, k, p
        Parameters of the chosen generator; the others are ignored.

    Returns
    -------
    InfluenceNetwork

    Raises
    ------
    InputError
        Unknown ``kind`` or invalid parameters.

    Examples
    --------
    >>> synthetic_network("ring", 8, np.random.default_rng(0), k=2).kind
    'ring'
    """
    makers: dict[str, Callable[[], InfluenceNetwork]] = {
        "erdos_renyi": lambda: erdos_renyi(n, mean_degree, rng),
        "barabasi_albert": lambda: barabasi_albert(n, m, rng),
        "watts_strogatz": lambda: watts_strogatz(n, k, p, rng),
        "ring": lambda: ring(n, k),
        "complete": lambda: complete(n),
    }
    if kind not in makers:
        raise InputError(
            f"network.kind: {kind!r} is not a synthetic graph; use one of "
            f"{', '.join(makers)}{did_you_mean(str(kind), makers)}"
        )
    return makers[kind]()
