"""The real influence graph of the 197 nations, built from the nation table.

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
    default (docs/ODD.md). *i*'s share of *j* is ``G_ij / sum_k G_ik``, *j*'s share
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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from adoption_model.data import load_blocs, load_borders, load_distances
from adoption_model.errors import InputError
from adoption_model.nations import load_nations
from adoption_model.network.graph import InfluenceNetwork, _canonical_csr
from adoption_model.scenario import LayerWeights, as_layer_weights

__all__ = ["LAYERS", "build_influence_graph", "real_network"]

#: The layers of the real graph, in the order their contributions are summed.
LAYERS: tuple[str, ...] = ("border", "bloc", "gravity", "benchmark")

_PREFIX = "network.layers"


def _nations_or_default(nations: pd.DataFrame | None) -> pd.DataFrame:
    if nations is None:
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
