"""The influence network type: whose Bitcoin policy each nation watches, and how much.

Nation *i* forms its peer signal as an influence-weighted average of the policy states of
the nations it listens to (docs/ODD.md, section 7.1)::

    m_i = sum_j W[i, j] * x_j / sum_j W[i, j]

:class:`InfluenceNetwork` wraps ``W`` for the engine. :mod:`adoption_model.network.real`
builds it for the real world of 197 nations, :mod:`adoption_model.network.synthetic` for
the stylised graphs.

Direction convention
--------------------
In the :class:`networkx.DiGraph` an edge ``(j, i)`` means "*j* influences *i*": *j* is an
in-neighbour of *i*. In the matrix the same tie is ``W[i, j]``: row *i* holds *i*'s
in-neighbours, so the signal is a plain sparse matrix-vector product ``W @ x``. There are
no self-loops in the real graph (a nation's own state is not part of its peer signal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import get_args

import networkx as nx
import numpy as np
import scipy.sparse as sp

from adoption_model.errors import InputError
from adoption_model.scenario import NetworkConfig

__all__ = ["KINDS", "InfluenceNetwork"]

#: Values of :attr:`InfluenceNetwork.kind` (the scenario's ``network.kind``).
KINDS: tuple[str, ...] = get_args(NetworkConfig.model_fields["kind"].annotation)


def _freeze(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _canonical_csr(matrix: sp.csr_array) -> sp.csr_array:
    """Return ``matrix`` as float64 CSR in canonical form with read-only arrays."""
    m = sp.csr_array(matrix, dtype=np.float64, copy=True)
    m.sum_duplicates()
    m.sort_indices()
    m.eliminate_zeros()
    for name in ("data", "indices", "indptr"):
        _freeze(getattr(m, name))
    return m


@dataclass(frozen=True, eq=False)
class InfluenceNetwork:
    """What the engine uses: node order, raw weights as CSR, and a graph for inspection.

    Parameters
    ----------
    nodes : list
        Node ids in index order: ISO3 codes for the real world, ints ``0..n-1`` for
        synthetic graphs.
    matrix : scipy.sparse.csr_array or None
        ``W[i, j]`` = raw weight of *j*'s state in *i*'s signal (row *i* holds *i*'s
        in-neighbours), float64, canonical (sorted indices, no duplicates, no explicit
        zeros), with read-only arrays. ``None`` for the complete graph (mean field).
    kind : str
        One of :data:`KINDS`.
    graph : networkx.DiGraph, networkx.Graph or None
        For inspection and drawing; the real graph is a DiGraph with an edge ``(j, i)`` for
        "*j* influences *i*". Synthetic graphs build theirs on demand
        (:meth:`to_networkx`).

    Notes
    -----
    The engine's per-agent reference implementation reproduces :meth:`signal` bit for bit
    by summing :meth:`in_neighbours` sequentially (``s = 0.0; s += w * x[j]`` in stored
    order) and dividing by :meth:`in_degree_weight`; this is tested. For the complete graph
    every node's in-neighbours are all ``n`` nodes (itself included) with weight 1, so
    ``in_degree_weight`` is ``n`` and the signal is ``x.sum() / n``; the sequential sum
    equals ``x.sum()`` exactly when ``x`` holds 0/1 states (integers are exact in float64).

    Examples
    --------
    >>> from adoption_model.network import ring
    >>> net = ring(6, 2)
    >>> net.n, net.kind
    (6, 'ring')
    >>> net.signal([1, 0, 0, 0, 0, 0]).tolist()
    [0.0, 0.5, 0.0, 0.0, 0.0, 0.5]
    >>> net.in_neighbours(0)[0].tolist()
    [1, 5]
    """

    nodes: list
    matrix: sp.csr_array | None
    kind: str
    graph: nx.DiGraph | nx.Graph | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"network.kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        n = len(self.nodes)
        if self.matrix is None:
            if self.kind != "complete":
                raise InputError(f"network: a {self.kind} network needs a matrix")
            return
        m = self.matrix
        if m.shape != (n, n):
            raise InputError(f"network: matrix shape {m.shape} does not match {n} nodes")
        if not isinstance(m, sp.csr_array) or m.dtype != np.float64:
            object.__setattr__(self, "matrix", _canonical_csr(m))
        elif not m.has_canonical_format or m.data.flags.writeable:
            object.__setattr__(self, "matrix", _canonical_csr(m))

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @cached_property
    def _in_weight(self) -> np.ndarray:
        if self.matrix is None:
            return _freeze(np.full(self.n, float(self.n)))
        return _freeze(np.asarray(self.matrix @ np.ones(self.n), dtype=np.float64))

    def in_degree_weight(self) -> np.ndarray:
        """Total in-weight of each node, ``sum_j W[i, j]`` (the signal's denominator).

        Computed as ``matrix @ ones`` so each value is bit-identical to a sequential sum of
        the row's weights in stored order. For the complete graph it is ``n`` for every
        node (all ``n`` nodes, itself included, with weight 1). The array is cached and
        read-only.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
        """
        return self._in_weight

    def in_degree(self) -> np.ndarray:
        """Number of in-neighbours of each node (``n`` for the complete graph)."""
        if self.matrix is None:
            return np.full(self.n, self.n, dtype=np.int64)
        return np.diff(self.matrix.indptr).astype(np.int64)

    def signal(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        """Influence-weighted share of in-neighbours in state ``x``.

        ``m_i = (sum_j W[i, j] x_j) / (sum_j W[i, j])``; 0 where a node has no
        in-neighbour. For the complete graph, ``x.sum() / n`` for every node (the global
        share).

        Parameters
        ----------
        x : array_like, shape (n,)
            Node states in index order (e.g. 1.0 for adopted, 0.0 otherwise).

        Returns
        -------
        numpy.ndarray of float64, shape (n,)

        Raises
        ------
        InputError
            If ``x`` does not have one value per node.

        Examples
        --------
        >>> from adoption_model.network import complete
        >>> complete(4).signal([1, 1, 0, 0]).tolist()
        [0.5, 0.5, 0.5, 0.5]
        """
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n,):
            raise InputError(f"network.signal: expected {self.n} node states, got shape {x.shape}")
        if self.matrix is None:
            return np.full(self.n, x.sum() / self.n)
        num = self.matrix @ x
        den = self.in_degree_weight()
        out = np.zeros(self.n, dtype=np.float64)
        np.divide(num, den, out=out, where=den > 0)
        return out

    def in_neighbours(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and weights of row ``i`` (the nodes ``i`` listens to), in stored order.

        The arrays are read-only views into the matrix (for the complete graph, all nodes
        with weight 1).
        """
        if self.matrix is None:
            return np.arange(self.n), np.ones(self.n)
        lo, hi = self.matrix.indptr[i], self.matrix.indptr[i + 1]
        return self.matrix.indices[lo:hi], self.matrix.data[lo:hi]

    def unweighted(self) -> InfluenceNetwork:
        """The same ties with every weight set to 1 (for the threshold rule's plain fraction).

        The graph is not copied; call :meth:`to_networkx` on the result if needed.
        """
        if self.matrix is None:
            return self
        m = self.matrix
        ones = sp.csr_array(
            (np.ones(m.nnz), m.indices.copy(), m.indptr.copy()), shape=m.shape, dtype=np.float64
        )
        return InfluenceNetwork(nodes=self.nodes, matrix=ones, kind=self.kind)

    def to_networkx(self) -> nx.DiGraph | nx.Graph:
        """The networkx graph (built and cached on first call for synthetic graphs).

        Synthetic graphs give an undirected :class:`networkx.Graph` with ``weight`` 1 on
        every edge; the complete graph gives ``networkx.complete_graph(n)`` with a
        self-loop on every node (the mean field counts each node's own state), so only
        call it for small ``n``.
        """
        if self.graph is not None:
            return self.graph
        if self.matrix is None:
            g: nx.Graph = nx.complete_graph(self.n)
            g.add_edges_from((v, v) for v in range(self.n))
            nx.set_edge_attributes(g, 1.0, "weight")
        else:
            coo = sp.triu(self.matrix, format="coo")
            g = nx.Graph()
            g.add_nodes_from(self.nodes)
            nodes = self.nodes
            g.add_weighted_edges_from(
                (nodes[r], nodes[c], float(w))
                for r, c, w in zip(
                    coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True
                )
            )
        g.graph["kind"] = self.kind
        object.__setattr__(self, "graph", g)
        return g
