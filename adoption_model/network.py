"""The influence graph: whose Bitcoin policy each nation watches, and how much.

Nation *i* forms its peer signal as an influence-weighted average of the policy states of
the nations it listens to (MODEL.md section 3, step 2)::

    m_i = sum_j W[i, j] * x_j / sum_j W[i, j]

This module builds ``W`` for the real world of 197 nations and for the stylised synthetic
graphs, and wraps it in :class:`InfluenceNetwork`, the object the engine uses.

Direction convention
--------------------
In the :class:`networkx.DiGraph` an edge ``(j, i)`` means "*j* influences *i*": *j* is an
in-neighbour of *i*. In the matrix the same tie is ``W[i, j]``: row *i* holds *i*'s
in-neighbours, so the signal is a plain sparse matrix-vector product ``W @ x``. There are
no self-loops in the real graph (a nation's own state is not part of its peer signal).

The four layers of the real graph
---------------------------------
Each layer first gives every nation *i* a set of *shares* over its in-neighbours that sum
to 1 (a row-stochastic matrix, as in DeGroot's 1974 model of weighted averaging); the
layer's contribution to the edge ``(j, i)`` is then ``layer weight * share_ij``. Hence
``sum_j W[i, j]`` is the sum of the weights of the layers that reach *i*, and the layer
weights read as the relative attention a nation pays to each channel. A nation that lacks
a layer (an island state has no land border) splits its attention among the layers it has.
Normalising every layer per nation keeps one channel from swamping the others merely
because it has many members (the African Union has 55, so raw bloc ties would outweigh
every border of an African state), and keeps the meaning of a weight the same for China
(14 land borders) and Portugal (1).

``border``
    Land borders (``load_borders()``, 317 pairs among the 197). Each of *i*'s land
    neighbours gets an equal share ``1 / (number of land borders of i)``. Neighbour
    effects are the classic channel of policy diffusion among states (Berry & Berry 1990).
``bloc``
    Shared membership of blocs (EU, AU, BRICS, G20, OPEC, ...; the ``blocs`` column of the
    nation table). The raw tie is the *number of blocs i and j share*, optionally capped at
    ``bloc_cap``; *i*'s shares are these counts over their row sum. Nested European blocs
    (EU, EEA, Schengen, euro, CoE, OECD, NATO) make two euro-area members share up to 9
    blocs, so their mutual ties are the strongest in this layer (set ``bloc_cap`` to limit
    that). Emulation among peers of the same club is documented by Simmons & Elkins (2004).
``gravity``
    Economic gravity as a proxy for trade (Tinbergen 1962): the gravity-predicted flow
    between *i* and *j* is ``G_ij = GDP_i * GDP_j / d_ij ** power`` with ``d_ij`` the
    great-circle distance between centroids (``load_distances()``) and ``power = 2`` by
    default (MODEL.md section 2). *i*'s share of *j* is ``G_ij / sum_k G_ik``, *j*'s share
    of *i*'s predicted trade; ``GDP_i`` cancels within the row, so the share is
    ``(GDP_j / d_ij**power) / sum_k (GDP_k / d_ik**power)``. Only each nation's
    ``gravity_top_k`` largest partners are kept (then re-normalised to sum to 1), which
    keeps the graph sparse and readable; ``gravity_top_k = 0`` keeps all 196.
``benchmark``
    A size-weighted tie to the ``benchmark_top`` largest economies by GDP (the US, China,
    Germany, Japan, India, ...), which every nation watches whether or not it trades with
    them: *i*'s share of benchmark *j* is ``GDP_j / sum_{k in top, k != i} GDP_k``. A
    benchmark nation watches the other benchmarks. This is the "leader emulation" channel
    of international policy diffusion (Simmons, Dobbin & Garrett 2006).

The edge ``(j, i)`` carries one attribute per layer (``border``, ``bloc``, ``gravity``,
``benchmark``: the contribution already multiplied by its layer weight, 0.0 when absent)
and ``weight``, their sum computed as ``((border + bloc) + gravity) + benchmark``. Only
edges with ``weight > 0`` exist. The default weights (border 1, bloc 0.5, gravity 1,
benchmark 0.5) give a nation with land borders a third of its attention to its neighbours,
a third to its main trade partners, a sixth to its blocs and a sixth to the largest
economies. The 39 nations without a land border (island states such as Jamaica, Japan or
Australia) split theirs 1/2 gravity, 1/4 bloc and 1/4 benchmark, or 2/3 gravity and 1/3
benchmark if they belong to no bloc either; so every nation has in-neighbours as long as
``gravity`` or ``benchmark`` is positive.

Synthetic graphs
----------------
:func:`erdos_renyi`, :func:`barabasi_albert`, :func:`watts_strogatz`, :func:`ring` and
:func:`complete` replace the real graph for stylised experiments. They are undirected with
unit weights (``W`` symmetric, ``W[i, j] = 1`` for every tie), take a
:class:`numpy.random.Generator` and are reproducible: the same seed gives identical CSR
arrays. :func:`complete` is the mean field: no matrix is built, and every node's signal is
the global share ``x.sum() / n`` (each node counts itself). :func:`synthetic_nations`
gives the synthetic nodes nation attributes.

References
----------
.. [1] Tinbergen, J. (1962). *Shaping the World Economy: Suggestions for an International
   Economic Policy*. New York: Twentieth Century Fund.
.. [2] DeGroot, M. H. (1974). Reaching a consensus. *Journal of the American Statistical
   Association* 69(345), 118-121.
.. [3] Berry, F. S. & Berry, W. D. (1990). State lottery adoptions as policy innovations:
   an event history analysis. *American Political Science Review* 84(2), 395-415.
.. [4] Simmons, B. A. & Elkins, Z. (2004). The globalization of liberalization: policy
   diffusion in the international political economy. *American Political Science Review*
   98(1), 171-189.
.. [5] Simmons, B. A., Dobbin, F. & Garrett, G. (2006). Introduction: the international
   diffusion of liberalism. *International Organization* 60(4), 781-810.
.. [6] Erdős, P. & Rényi, A. (1959). On random graphs I. *Publicationes Mathematicae
   Debrecen* 6, 290-297.
.. [7] Batagelj, V. & Brandes, U. (2005). Efficient generation of large random networks.
   *Physical Review E* 71, 036113.
.. [8] Barabási, A.-L. & Albert, R. (1999). Emergence of scaling in random networks.
   *Science* 286(5439), 509-512.
.. [9] Watts, D. J. & Strogatz, S. H. (1998). Collective dynamics of 'small-world'
   networks. *Nature* 393, 440-442.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adoption_model.errors import InputError, did_you_mean

__all__ = [
    "KINDS",
    "LAYERS",
    "InfluenceNetwork",
    "LayerWeights",
    "as_layer_weights",
    "barabasi_albert",
    "build_influence_graph",
    "complete",
    "erdos_renyi",
    "real_network",
    "ring",
    "synthetic_nations",
    "synthetic_network",
    "watts_strogatz",
]

#: The layers of the real graph, in the order their contributions are summed.
LAYERS: tuple[str, ...] = ("border", "bloc", "gravity", "benchmark")

#: Values of :attr:`InfluenceNetwork.kind`.
KINDS: tuple[str, ...] = (
    "real",
    "erdos_renyi",
    "barabasi_albert",
    "watts_strogatz",
    "ring",
    "complete",
)

_PREFIX = "network.layers"


# ---------------------------------------------------------------------------------------
# Layer weights
# ---------------------------------------------------------------------------------------


class LayerWeights(BaseModel):
    """Weights and settings of the layers of the real influence graph.

    Every layer weight is the attention a nation pays to that channel relative to the
    others (each layer is normalised per nation before weighting; see the module
    docstring). A weight of 0 switches the layer off.

    Parameters
    ----------
    border : float, default 1.0
        Weight of the land-border layer (>= 0).
    bloc : float, default 0.5
        Weight of the shared-bloc layer (>= 0). Within the layer, a partner's tie grows
        with the number of blocs shared (see ``bloc_cap``).
    gravity : float, default 1.0
        Weight of the economic-gravity layer ``GDP_i GDP_j / d**gravity_distance_power``
        (>= 0).
    benchmark : float, default 0.5
        Weight of the size-weighted tie to the largest economies (>= 0).
    benchmark_top : int, default 10
        How many of the largest economies (by GDP) are benchmarks (>= 1).
    gravity_top_k : int, default 10
        Keep each nation's ``gravity_top_k`` strongest gravity partners (>= 0; 0 keeps
        all). The kept shares are re-normalised to sum to 1.
    gravity_distance_power : float, default 2.0
        Exponent of distance in the gravity equation (>= 0; 2 as in MODEL.md; empirical
        trade gravity estimates are nearer 1).
    bloc_cap : int, default 0
        Count at most this many shared blocs per pair (>= 0; 0 means no cap).

    Raises
    ------
    pydantic.ValidationError
        For a negative, non-finite or non-numeric value or an unknown key. Inside a
        scenario the error carries the full key path (``network.layers.border``);
        :func:`as_layer_weights`, :func:`real_network` and :func:`build_influence_graph`
        turn it into a one-line :class:`~adoption_model.errors.InputError` such as
        ``network.layers.border: must be >= 0, got -1``.

    Examples
    --------
    >>> LayerWeights(border=2.0).border
    2.0
    >>> as_layer_weights({"border": -1})
    Traceback (most recent call last):
    ...
    adoption_model.errors.InputError: network.layers.border: must be >= 0, got -1
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    border: float = Field(1.0, ge=0, description="weight of the land-border layer")
    bloc: float = Field(0.5, ge=0, description="weight of the shared-bloc layer")
    gravity: float = Field(1.0, ge=0, description="weight of the economic-gravity layer")
    benchmark: float = Field(0.5, ge=0, description="weight of the tie to the largest economies")
    benchmark_top: int = Field(10, ge=1, description="number of benchmark economies")
    gravity_top_k: int = Field(10, ge=0, description="gravity partners kept per nation (0: all)")
    gravity_distance_power: float = Field(2.0, ge=0, description="exponent of distance")
    bloc_cap: int = Field(0, ge=0, description="max shared blocs counted per pair (0: no cap)")

    @field_validator("benchmark_top", "gravity_top_k", "bloc_cap", mode="before")
    @classmethod
    def _whole_float_to_int(cls, v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v

    def layer_weights(self) -> dict[str, float]:
        """The four layer weights as a dict, in :data:`LAYERS` order."""
        return {name: float(getattr(self, name)) for name in LAYERS}


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _one_line(exc: ValidationError, prefix: str) -> str:
    errors = exc.errors()
    err = errors[0]
    loc = ".".join(str(p) for p in err["loc"])
    key = f"{prefix}.{loc}" if loc else prefix
    kind = err["type"]
    given = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(err["loc"][-1]) if err["loc"] else ""
        fields = list(LayerWeights.model_fields)
        hint = did_you_mean(name, fields) or "; valid keys: " + ", ".join(fields)
        msg = f"{key}: unknown key{hint}"
    elif kind == "greater_than_equal":
        bound = ctx.get("ge")
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        msg = f"{key}: must be >= {bound}, got {_fmt(given)}"
    elif kind in ("float_type", "float_parsing"):
        msg = f"{key}: must be a number, got {_fmt(given)}"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        msg = f"{key}: must be a whole number, got {_fmt(given)}"
    elif kind == "finite_number":
        msg = f"{key}: must be a finite number, got {_fmt(given)}"
    else:
        msg = f"{key}: {err['msg']}, got {_fmt(given)}"
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return msg.replace("\n", " ")


def as_layer_weights(weights: LayerWeights | Mapping[str, Any] | None) -> LayerWeights:
    """Validate ``weights`` into a :class:`LayerWeights`.

    Parameters
    ----------
    weights : LayerWeights, mapping or None
        ``None`` gives the defaults; a mapping (e.g. the ``[network.layers]`` table of a
        scenario) is validated key by key.

    Returns
    -------
    LayerWeights

    Raises
    ------
    InputError
        One line naming the offending key, e.g. ``network.layers.bloc: must be >= 0, got -2``.

    Examples
    --------
    >>> as_layer_weights({"gravity": 0}).gravity
    0.0
    >>> as_layer_weights({"bordr": 1})
    Traceback (most recent call last):
    ...
    adoption_model.errors.InputError: network.layers.bordr: unknown key; did you mean border?
    """
    if weights is None:
        return LayerWeights()
    if isinstance(weights, LayerWeights):
        return weights
    if isinstance(weights, BaseModel):
        weights = weights.model_dump()
    if not isinstance(weights, Mapping):
        raise InputError(
            f"{_PREFIX}: must be a table of layer weights such as "
            f"{{'border': 1.0, 'gravity': 1.0}}, got {type(weights).__name__}"
        )
    bad = [k for k in weights if not isinstance(k, str)]
    if bad:
        raise InputError(f"{_PREFIX}: keys must be layer names, got {bad[0]!r}")
    try:
        return LayerWeights.model_validate(dict(weights))
    except ValidationError as exc:
        raise InputError(_one_line(exc, _PREFIX)) from None


# ---------------------------------------------------------------------------------------
# The network object
# ---------------------------------------------------------------------------------------


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
    >>> net = ring(6, 2)
    >>> net.n, net.kind
    (6, 'ring')
    >>> net.signal([1, 0, 0, 0, 0, 0]).tolist()
    [0.0, 0.5, 0.0, 0.0, 0.0, 0.5]
    >>> net.in_neighbours(0)[0].tolist(), net.out_neighbours(0).tolist()
    ([1, 5], [1, 5])
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

    @cached_property
    def _transposed(self) -> sp.csr_array:
        assert self.matrix is not None
        return _canonical_csr(self.matrix.T.tocsr())

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

    def out_neighbours(self, j: int) -> np.ndarray:
        """Indices of the nodes that ``j`` influences (``W[i, j] > 0``), ascending."""
        if self.matrix is None:
            return np.arange(self.n)
        t = self._transposed
        return t.indices[t.indptr[j] : t.indptr[j + 1]]

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


# ---------------------------------------------------------------------------------------
# The real graph
# ---------------------------------------------------------------------------------------


def _nations_or_default(nations: pd.DataFrame | None) -> pd.DataFrame:
    if nations is None:
        from adoption_model.nations import load_nations

        nations = load_nations()
    if not isinstance(nations, pd.DataFrame):
        raise InputError(f"nations: expected a pandas DataFrame, got {type(nations).__name__}")
    for col in ("iso3", "gdp_usd"):
        if col not in nations.columns:
            raise InputError(f"nations: no column {col!r}; use load_nations() or add it")
    iso = nations["iso3"]
    if iso.isna().any() or (iso.astype(str).str.strip() == "").any():
        raise InputError("nations.iso3: empty code; give every nation its ISO3 code")
    dup = iso[iso.duplicated()].astype(str).unique().tolist()
    if dup:
        raise InputError(f"nations.iso3: duplicated {', '.join(dup)}; keep one row per nation")
    return nations


def _row_share(raw: np.ndarray) -> np.ndarray:
    """Divide each row by its sum (rows summing to 0 stay 0)."""
    total = raw.sum(axis=1, keepdims=True)
    out = np.zeros_like(raw)
    np.divide(raw, total, out=out, where=total > 0)
    return out


def _gdp(nations: pd.DataFrame) -> np.ndarray:
    gdp = pd.to_numeric(nations["gdp_usd"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(gdp) | (gdp < 0)
    if bad.any():
        names = nations["iso3"].to_numpy()[bad].astype(str).tolist()
        raise InputError(
            f"nations.gdp_usd: missing or negative for {', '.join(names)}; "
            "fill it (load_nations() fills gaps) or set network.layers.gravity and "
            "network.layers.benchmark to 0"
        )
    return gdp


def _border_raw(iso: list[str], index: dict[str, int]) -> np.ndarray:
    from adoption_model.data import load_borders

    n = len(iso)
    raw = np.zeros((n, n))
    pairs = load_borders()
    a = pairs["iso3_a"].map(index)
    b = pairs["iso3_b"].map(index)
    keep = a.notna() & b.notna()
    a = a[keep].to_numpy(dtype=np.int64)
    b = b[keep].to_numpy(dtype=np.int64)
    raw[a, b] = 1.0
    raw[b, a] = 1.0
    np.fill_diagonal(raw, 0.0)
    return raw


def _bloc_raw(nations: pd.DataFrame, index: dict[str, int], cap: int) -> np.ndarray:
    n = len(index)
    if "blocs" in nations.columns:
        codes = nations["blocs"].fillna("").astype(str).str.split(";")
        long = pd.DataFrame(
            {
                "iso3": np.repeat(nations["iso3"].astype(str).to_numpy(), codes.str.len()),
                "bloc": [code for row in codes for code in row],
            }
        )
    else:
        from adoption_model.data import load_blocs

        long = load_blocs()[["iso3", "bloc"]]
    long = long.assign(bloc=long["bloc"].astype(str).str.strip())
    long = long[(long["bloc"] != "") & long["iso3"].isin(index.keys())].drop_duplicates()
    if long.empty:
        return np.zeros((n, n))
    bloc_codes, bloc_idx = np.unique(long["bloc"].to_numpy(), return_inverse=True)
    member = np.zeros((n, len(bloc_codes)))
    member[long["iso3"].map(index).to_numpy(dtype=np.int64), bloc_idx] = 1.0
    shared = member @ member.T
    np.fill_diagonal(shared, 0.0)
    if cap > 0:
        np.minimum(shared, float(cap), out=shared)
    return shared


def _haversine_km(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    phi = np.radians(lat)
    lam = np.radians(lng)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _distance_km(nations: pd.DataFrame, iso: list[str], index: dict[str, int]) -> np.ndarray:
    """Symmetric centroid distances; pairs missing from the data fall back to lat/lng."""
    from adoption_model.data import load_distances

    n = len(iso)
    dist = np.full((n, n), np.nan)
    table = load_distances()
    km_col = "km" if "km" in table.columns else "centroid_distance_km"
    a = table["iso3_a"].map(index)
    b = table["iso3_b"].map(index)
    keep = a.notna() & b.notna()
    a = a[keep].to_numpy(dtype=np.int64)
    b = b[keep].to_numpy(dtype=np.int64)
    km = pd.to_numeric(table.loc[keep, km_col], errors="coerce").to_numpy(dtype=np.float64)
    dist[a, b] = km
    dist[b, a] = km
    np.fill_diagonal(dist, 0.0)
    missing = np.isnan(dist)
    if missing.any() and {"lat", "lng"} <= set(nations.columns):
        lat = pd.to_numeric(nations["lat"], errors="coerce").to_numpy(dtype=np.float64)
        lng = pd.to_numeric(nations["lng"], errors="coerce").to_numpy(dtype=np.float64)
        dist[missing] = _haversine_km(lat, lng)[missing]
        missing = np.isnan(dist)
    off = ~np.eye(n, dtype=bool)
    bad = (missing | (dist <= 0)) & off
    if bad.any():
        rows = sorted({iso[i] for i in np.nonzero(bad)[0]})
        raise InputError(
            f"nations: no positive distance for {', '.join(rows[:10])}"
            f"{' and others' if len(rows) > 10 else ''}; give them lat/lng or set "
            "network.layers.gravity to 0"
        )
    return dist


def _gravity_raw(gdp: np.ndarray, dist: np.ndarray, power: float, top_k: int) -> np.ndarray:
    n = len(gdp)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = gdp[None, :] / np.power(dist, power)
    np.fill_diagonal(raw, 0.0)
    raw[~np.isfinite(raw)] = 0.0
    if 0 < top_k < n - 1:
        order = np.argsort(-raw, axis=1, kind="stable")[:, :top_k]
        keep = np.zeros_like(raw, dtype=bool)
        np.put_along_axis(keep, order, True, axis=1)
        raw = np.where(keep, raw, 0.0)
    return raw


def _benchmark_raw(gdp: np.ndarray, top: int) -> np.ndarray:
    n = len(gdp)
    leaders = np.argsort(-gdp, kind="stable")[: min(top, n)]
    raw = np.zeros((n, n))
    raw[:, leaders] = gdp[leaders]
    np.fill_diagonal(raw, 0.0)
    return raw


def _layer_contributions(
    nations: pd.DataFrame, w: LayerWeights
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Dense (n, n) arrays ``C[layer][i, j]`` = weighted contribution of j to i."""
    iso = nations["iso3"].astype(str).tolist()
    index = {code: k for k, code in enumerate(iso)}
    n = len(iso)
    out: dict[str, np.ndarray] = {}
    gdp = _gdp(nations) if (w.gravity > 0 or w.benchmark > 0) else None
    for layer in LAYERS:
        weight = float(getattr(w, layer))
        if weight == 0.0:
            out[layer] = np.zeros((n, n))
            continue
        if layer == "border":
            raw = _border_raw(iso, index)
        elif layer == "bloc":
            raw = _bloc_raw(nations, index, w.bloc_cap)
        elif layer == "gravity":
            assert gdp is not None
            dist = _distance_km(nations, iso, index)
            raw = _gravity_raw(gdp, dist, w.gravity_distance_power, w.gravity_top_k)
        else:
            assert gdp is not None
            raw = _benchmark_raw(gdp, w.benchmark_top)
        out[layer] = weight * _row_share(raw)
    return iso, out


def real_network(
    nations: pd.DataFrame | None = None,
    weights: LayerWeights | Mapping[str, Any] | None = None,
    *,
    allow_isolated: bool = False,
) -> InfluenceNetwork:
    """The real-world influence network of the nations, as the engine uses it.

    Parameters
    ----------
    nations : pandas.DataFrame, optional
        The nation table (default: :func:`adoption_model.nations.load_nations`). Needs
        ``iso3`` and ``gdp_usd``; uses ``name``, ``un_region``, ``blocs``, ``lat``, ``lng``
        where present. Row order is node order. Borders and distances come from
        :mod:`adoption_model.data` and are restricted to the nations in the table.
    weights : LayerWeights or mapping, optional
        Layer weights and settings (default :class:`LayerWeights`).
    allow_isolated : bool, default False
        Allow nations with no in-neighbour (their signal is 0).

    Returns
    -------
    InfluenceNetwork
        ``kind == "real"``, ``nodes`` the ISO3 codes, ``matrix[i, j]`` the weight of the
        edge ``(j, i)`` and ``graph`` the DiGraph of :func:`build_influence_graph`.

    Raises
    ------
    InputError
        For invalid layer weights, a malformed nation table (missing or negative GDP while
        gravity or benchmark is on, duplicated ISO3), or, unless ``allow_isolated``, when
        all layer weights are 0 or some nation has no in-neighbour (the message names them).

    Examples
    --------
    >>> net = real_network()
    >>> net.n, net.nodes[:2]
    (197, ['AFG', 'AGO'])
    >>> bool(net.signal(np.asarray(net.nodes) == "USA")[net.nodes.index("CAN")] > 0)
    True

    References
    ----------
    .. [1] Tinbergen, J. (1962). *Shaping the World Economy*. Twentieth Century Fund.
    .. [2] DeGroot, M. H. (1974). Reaching a consensus. *JASA* 69(345), 118-121.
    .. [3] Simmons, B. A., Dobbin, F. & Garrett, G. (2006). Introduction: the international
       diffusion of liberalism. *International Organization* 60(4), 781-810.
    """
    w = as_layer_weights(weights)
    nations = _nations_or_default(nations)
    if all(getattr(w, layer) == 0 for layer in LAYERS) and not allow_isolated:
        raise InputError(
            f"{_PREFIX}: all layer weights are 0, so no nation listens to any other; "
            "set at least one of border, bloc, gravity, benchmark > 0"
        )
    iso, layer_arrays = _layer_contributions(nations, w)
    n = len(iso)
    total = np.zeros((n, n))
    for layer in LAYERS:
        total = total + layer_arrays[layer]
    rows, cols = np.nonzero(total > 0)  # row-major: CSR order
    data = total[rows, cols]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    matrix = sp.csr_array((data, cols.astype(np.int64), indptr), shape=(n, n))

    isolated = np.flatnonzero(np.diff(indptr) == 0)
    if len(isolated) and not allow_isolated:
        names = [iso[k] for k in isolated]
        shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
        raise InputError(
            f"network: no influence reaches {shown}; raise network.layers.gravity or "
            "network.layers.benchmark above 0 (they reach every nation) or set "
            "network.allow_isolated = true"
        )

    g = nx.DiGraph(kind="real", layers=w.model_dump(), allow_isolated=allow_isolated)
    name = nations["name"].tolist() if "name" in nations.columns else iso
    region = nations["un_region"].tolist() if "un_region" in nations.columns else [""] * n
    gdp_col = pd.to_numeric(nations["gdp_usd"], errors="coerce").tolist()
    g.add_nodes_from(
        (code, {"name": nm, "region": rg, "gdp_usd": float(gd)})
        for code, nm, rg, gd in zip(iso, name, region, gdp_col, strict=True)
    )
    parts = [layer_arrays[layer][rows, cols].tolist() for layer in LAYERS]
    g.add_edges_from(
        (
            iso[c],
            iso[r],
            {"border": b, "bloc": bl, "gravity": gr, "benchmark": bm, "weight": wt},
        )
        for r, c, b, bl, gr, bm, wt in zip(
            rows.tolist(), cols.tolist(), *parts, data.tolist(), strict=True
        )
    )
    return InfluenceNetwork(nodes=iso, matrix=_canonical_csr(matrix), kind="real", graph=g)


def build_influence_graph(
    nations: pd.DataFrame | None = None,
    weights: LayerWeights | Mapping[str, Any] | None = None,
    *,
    allow_isolated: bool = False,
) -> nx.DiGraph:
    """The real-world influence graph as a networkx DiGraph.

    Nodes are ISO3 codes in the row order of ``nations`` with attributes ``name``,
    ``region`` (UN region) and ``gdp_usd``. An edge ``(j, i)`` means *j* influences *i*;
    its attributes ``border``, ``bloc``, ``gravity`` and ``benchmark`` are each layer's
    contribution (already multiplied by the layer weight; 0.0 where the layer has no tie)
    and ``weight`` is their sum. Only edges with ``weight > 0`` exist. Each layer is
    normalised per listening nation *i* (its contributions to *i* sum to the layer weight),
    as explained in the module docstring. ``graph.graph["layers"]`` records the settings.

    Parameters
    ----------
    nations : pandas.DataFrame, optional
        Nation table (default :func:`adoption_model.nations.load_nations`).
    weights : LayerWeights or mapping, optional
        Layer weights and settings (default :class:`LayerWeights`).
    allow_isolated : bool, default False
        Allow nations with no in-neighbour instead of raising.

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    InputError
        As :func:`real_network`.

    Examples
    --------
    >>> g = build_influence_graph()
    >>> sorted(g.edges["USA", "CAN"])  # the US influences Canada
    ['benchmark', 'bloc', 'border', 'gravity', 'weight']

    References
    ----------
    .. [1] Tinbergen, J. (1962). *Shaping the World Economy*. Twentieth Century Fund.
    .. [2] Berry, F. S. & Berry, W. D. (1990). State lottery adoptions as policy
       innovations. *American Political Science Review* 84(2), 395-415.
    .. [3] Simmons, B. A. & Elkins, Z. (2004). The globalization of liberalization.
       *American Political Science Review* 98(1), 171-189.
    """
    net = real_network(nations, weights, allow_isolated=allow_isolated)
    assert net.graph is not None
    return net.graph


# ---------------------------------------------------------------------------------------
# Synthetic graphs
# ---------------------------------------------------------------------------------------


def _check_int(name: str, value: Any, low: int, high: int | None = None, what: str = "") -> int:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        ok, value = True, int(value)
    if not ok:
        raise InputError(f"network.{name}: must be a whole number, got {_fmt(value)}")
    value = int(value)
    if value < low or (high is not None and value > high):
        rng_text = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InputError(f"network.{name}: must be {rng_text}{what}, got {value}")
    return value


def _check_float(name: str, value: Any, low: float, high: float, what: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"network.{name}: must be a number, got {_fmt(value)}")
    value = float(value)
    if not (low <= value <= high):
        raise InputError(f"network.{name}: must be in [{low:g}, {high:g}]{what}, got {value:g}")
    return value


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise InputError(
            "network.rng: expected a numpy.random.Generator (numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _undirected(n: int, a: np.ndarray, b: np.ndarray, kind: str) -> InfluenceNetwork:
    """Symmetric unit-weight network from undirected pairs (a[e], b[e]), a != b, unique."""
    rows = np.concatenate([a, b]).astype(np.int64)
    cols = np.concatenate([b, a]).astype(np.int64)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if len(cols) < 2**31 and n < 2**31 else np.int64
    matrix = sp.csr_array(
        (np.ones(len(cols)), cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n)
    )
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
    n = _check_int("n", n, 2)
    mean_degree = _check_float("mean_degree", mean_degree, 0.0, float(n - 1), " (0 to n - 1)")
    rng = _check_rng(rng)
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
    n = _check_int("n", n, 2)
    m = _check_int("m", m, 1, n - 1, " (1 to n - 1)")
    rng = _check_rng(rng)
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
    k = _check_int("k", k, 2, n - 1, " (2 to n - 1)")
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
    n = _check_int("n", n, 3, what=" for a ring")
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
    n = _check_int("n", n, 3, what=" for a ring")
    k = _check_k(n, k)
    p = _check_float("p", p, 0.0, 1.0)
    rng = _check_rng(rng)
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
    n = _check_int("n", n, 2)
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


# ---------------------------------------------------------------------------------------
# Synthetic nations
# ---------------------------------------------------------------------------------------

#: Columns reset in synthetic worlds, which start clean (no holdings, no policy).
_CLEAN_START: dict[str, Any] = {
    "btc_holdings": 0.0,
    "btc_acquisition": "",
    "initial_state": "none",
    "initial_mining_mw": 0.0,
    "policy_since": "",
}


def synthetic_nations(
    n: int,
    rng: np.random.Generator,
    mode: Literal["sample", "constant"] = "sample",
    nations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Nation attributes for the ``n`` nodes of a synthetic graph.

    The result has the columns of :func:`adoption_model.nations.load_nations` in the same
    order and dtypes. Identity columns are synthetic: ``iso3 = f"N{i:05d}"``, ``name =
    f"Nation {i}"``, ``blocs = ""`` and ``lat``/``lng`` NaN (synthetic nations have no
    geography or blocs). Synthetic worlds start clean in both modes: ``btc_holdings`` and
    ``initial_mining_mw`` are 0, ``initial_state`` is ``"none"`` and ``btc_acquisition``
    and ``policy_since`` are empty (where those columns exist). Laws and flags
    (``seized_sale_mandate``, ``no_sell_pledge``, ``imf_programme_active``, ...) are sampled
    with their row in ``"sample"`` mode and False in ``"constant"`` mode.

    Parameters
    ----------
    n : int
        Number of nations (>= 2).
    rng : numpy.random.Generator
        Source of randomness for ``"sample"`` (unused for ``"constant"``).
    mode : {"sample", "constant"}
        ``"sample"`` draws whole rows with replacement from the real table (so the joint
        distribution of GDP, debt, reserves, energy, IMF exposure ... is kept);
        ``"constant"`` gives every nation the column medians of the real table (bools
        False, other columns their most common value).
    nations : pandas.DataFrame, optional
        The real table to sample from (default :func:`load_nations`).

    Returns
    -------
    pandas.DataFrame
        ``n`` rows with a fresh ``RangeIndex``.

    Raises
    ------
    InputError
        ``network.n`` below 2 or an unknown ``mode``.

    Examples
    --------
    >>> df = synthetic_nations(3, np.random.default_rng(0))
    >>> df["iso3"].tolist(), df["btc_holdings"].tolist()
    (['N00000', 'N00001', 'N00002'], [0.0, 0.0, 0.0])
    """
    n = _check_int("n", n, 2)
    if mode not in ("sample", "constant"):
        raise InputError(
            f"network.attributes: {mode!r} is not one of sample, constant"
            f"{did_you_mean(str(mode), ['sample', 'constant'])}"
        )
    if nations is None:
        from adoption_model.nations import load_nations

        nations = load_nations()
    real = nations.reset_index(drop=True)
    if len(real) == 0:
        raise InputError("nations: the table is empty; nothing to sample synthetic nations from")
    if mode == "sample":
        rng = _check_rng(rng)
        rows = rng.integers(0, len(real), size=n)
        out = real.iloc[rows].reset_index(drop=True)
    else:
        out = pd.DataFrame(index=pd.RangeIndex(n))
        for col in real.columns:
            s = real[col]
            if pd.api.types.is_bool_dtype(s):
                value: Any = False
            elif pd.api.types.is_numeric_dtype(s):
                value = s.median()
                if pd.api.types.is_integer_dtype(s) and pd.notna(value):
                    value = round(value)
            else:
                mode_values = s.dropna().mode()
                value = mode_values.iloc[0] if len(mode_values) else s.iloc[0]
            out[col] = pd.Series([value] * n, dtype=s.dtype)
    ids = [f"N{i:05d}" for i in range(n)]
    out["iso3"] = ids
    if "name" in real.columns:
        out["name"] = [f"Nation {i}" for i in range(n)]
    if "blocs" in real.columns:
        out["blocs"] = ""
    for col in ("lat", "lng"):
        if col in real.columns:
            out[col] = np.nan
    for col, value in _CLEAN_START.items():
        if col in real.columns:
            out[col] = pd.Series([value] * n, dtype=real[col].dtype)
    columns = list(real.columns) + [c for c in out.columns if c not in real.columns]
    return out[columns]
