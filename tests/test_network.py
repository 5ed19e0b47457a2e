"""Tests of the influence graph (adoption_model.network) on the real data, without mocks."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from adoption_model.data import load_borders
from adoption_model.errors import InputError
from adoption_model.nations import load_nations, synthetic_nations
from adoption_model.network import (
    LAYERS,
    InfluenceNetwork,
    barabasi_albert,
    build_influence_graph,
    complete,
    erdos_renyi,
    real_network,
    ring,
    synthetic_network,
    watts_strogatz,
)
from adoption_model.scenario import LayerWeights, as_layer_weights, load_scenario


@pytest.fixture(scope="module")
def nations() -> pd.DataFrame:
    return load_nations()


@pytest.fixture(scope="module")
def net() -> InfluenceNetwork:
    return real_network()


@pytest.fixture(scope="module")
def islands(nations: pd.DataFrame) -> list[str]:
    borders = load_borders()
    bordered = set(borders["iso3_a"]) | set(borders["iso3_b"])
    return [code for code in nations["iso3"] if code not in bordered]


def _edge_frame(g: nx.DiGraph) -> pd.DataFrame:
    rows = [{"src": j, "dst": i, **attrs} for j, i, attrs in g.edges(data=True)]
    return pd.DataFrame(rows)


def _arrays(net: InfluenceNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = net.matrix
    assert m is not None
    return m.indptr, m.indices, m.data


def _same(a: InfluenceNetwork, b: InfluenceNetwork) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(b), strict=True))


# ---------------------------------------------------------------------------------------
# The real graph
# ---------------------------------------------------------------------------------------


def test_real_nodes_follow_the_nation_table(net: InfluenceNetwork, nations: pd.DataFrame) -> None:
    assert net.kind == "real"
    assert net.nodes == nations["iso3"].tolist()
    g = net.graph
    assert isinstance(g, nx.DiGraph)
    assert list(g.nodes) == net.nodes
    usa = g.nodes["USA"]
    assert usa["name"] == nations.set_index("iso3").loc["USA", "name"]
    assert usa["region"] == nations.set_index("iso3").loc["USA", "un_region"]
    assert usa["gdp_usd"] == nations.set_index("iso3").loc["USA", "gdp_usd"]


def test_every_nation_has_an_in_neighbour_by_default(net: InfluenceNetwork) -> None:
    assert (net.in_degree() > 0).all()
    assert (net.in_degree_weight() > 0).all()
    assert all(net.graph.in_degree(v) > 0 for v in net.nodes)


def test_matrix_is_canonical_float64_and_matches_graph(net: InfluenceNetwork) -> None:
    m = net.matrix
    assert m.dtype == np.float64
    assert m.has_canonical_format
    assert (m.data > 0).all()
    assert m.diagonal().sum() == 0.0  # no self-influence
    assert not m.data.flags.writeable
    assert m.nnz == net.graph.number_of_edges()
    index = {code: k for k, code in enumerate(net.nodes)}
    for j, i, w in net.graph.edges(data="weight"):
        assert m[index[i], index[j]] == w  # edge j -> i is W[i, j]


def test_edge_attributes_are_layer_contributions_summing_to_weight(net: InfluenceNetwork) -> None:
    edges = _edge_frame(net.graph)
    assert set(LAYERS) <= set(edges.columns)
    total = ((edges["border"] + edges["bloc"]) + edges["gravity"]) + edges["benchmark"]
    assert (edges["weight"] == total).all()
    assert (edges["weight"] > 0).all()
    assert (edges[list(LAYERS)] >= 0).all().all()


def test_each_layer_gives_every_listener_its_layer_weight(net: InfluenceNetwork) -> None:
    """Layers are normalised per listening nation: a layer's in-weights sum to its weight."""
    w = LayerWeights()
    edges = _edge_frame(net.graph)
    per_node = edges.groupby("dst")[list(LAYERS)].sum()
    for layer in ("gravity", "benchmark"):  # these reach every nation
        assert np.allclose(per_node[layer], getattr(w, layer), rtol=1e-12)
    for layer in ("border", "bloc"):
        present = per_node[layer][per_node[layer] > 0]
        assert np.allclose(present, getattr(w, layer), rtol=1e-12)
    gravity_partners = edges[edges["gravity"] > 0].groupby("dst").size()
    assert gravity_partners.max() == w.gravity_top_k


def test_direction_convention(net: InfluenceNetwork) -> None:
    g = net.graph
    # the largest economy is a benchmark for Jamaica, not the other way round
    assert g.edges["USA", "JAM"]["benchmark"] > 0
    assert not g.has_edge("JAM", "USA") or g.edges["JAM", "USA"]["benchmark"] == 0.0
    # borders are mutual, but each side normalises by its own number of borders
    assert g.edges["ESP", "PRT"]["border"] == 1.0  # Portugal's only land neighbour
    assert 0 < g.edges["PRT", "ESP"]["border"] < 1.0
    i, j = net.nodes.index("PRT"), net.nodes.index("ESP")
    assert net.matrix[i, j] == g.edges["ESP", "PRT"]["weight"]
    assert j in net.in_neighbours(i)[0]
    assert "PRT" in set(g.successors("ESP"))  # Spain influences Portugal


def test_island_states_listen_through_gravity_and_benchmark(
    net: InfluenceNetwork, islands: list[str]
) -> None:
    assert len(islands) == 39
    edges = _edge_frame(net.graph)
    for code in islands:
        mine = edges[edges["dst"] == code]
        assert (mine["border"] == 0).all()
        assert (mine["gravity"] > 0).any()
        assert (mine["benchmark"] > 0).any()


def test_benchmarks_are_the_largest_economies(nations: pd.DataFrame) -> None:
    g = build_influence_graph(weights={"benchmark_top": 3})
    top3 = nations.sort_values("gdp_usd", ascending=False)["iso3"].head(3).tolist()
    sources = {j for j, _, b in g.edges(data="benchmark") if b > 0}
    assert sources == set(top3)
    # a benchmark watches the other benchmarks only, in proportion to their GDP
    a, b, c = top3
    gdp = nations.set_index("iso3")["gdp_usd"]
    ratio = g.edges[b, a]["benchmark"] / g.edges[c, a]["benchmark"]
    assert ratio == pytest.approx(gdp[b] / gdp[c], rel=1e-12)
    assert not g.has_edge(a, a)


def test_doubling_a_layer_weight_doubles_its_contribution(net: InfluenceNetwork) -> None:
    g1 = net.graph
    g2 = build_influence_graph(weights={"border": 2.0})
    assert set(g1.edges) == set(g2.edges)
    for j, i, a in g1.edges(data=True):
        b = g2.edges[j, i]
        assert b["border"] == 2.0 * a["border"]
        for layer in ("bloc", "gravity", "benchmark"):
            assert b[layer] == a[layer]
        assert b["weight"] - a["weight"] == pytest.approx(a["border"], rel=1e-9, abs=1e-15)


def test_gravity_top_k_zero_keeps_every_partner(nations: pd.DataFrame) -> None:
    g = build_influence_graph(weights={"gravity_top_k": 0})
    partners = pd.Series([i for _, i, gr in g.edges(data="gravity") if gr > 0]).value_counts()
    assert (partners == len(nations) - 1).all()


def test_bloc_cap_one_makes_bloc_ties_equal() -> None:
    g = build_influence_graph(weights={"bloc_cap": 1})
    edges = _edge_frame(g)
    bloc = edges[edges["bloc"] > 0].groupby("dst")["bloc"]
    assert np.allclose(bloc.max(), bloc.min(), rtol=1e-12)
    # uncapped, shared blocs count: France weighs more on Germany than Turkey does
    g0 = build_influence_graph()
    assert g0.edges["FRA", "DEU"]["bloc"] > g0.edges["TUR", "DEU"]["bloc"] > 0


def test_border_only_isolates_islands_unless_allowed(islands: list[str]) -> None:
    only_border = {"bloc": 0, "gravity": 0, "benchmark": 0}
    with pytest.raises(InputError, match="no influence reaches ATG") as info:
        real_network(weights=only_border)
    assert "allow_isolated" in str(info.value) and "\n" not in str(info.value)
    net = real_network(weights=only_border, allow_isolated=True)
    edges = _edge_frame(net.graph)
    assert (edges["border"] == edges["weight"]).all()
    assert edges[["bloc", "gravity", "benchmark"]].eq(0).all().all()
    assert net.graph.number_of_edges() == 2 * len(load_borders())
    isolated = [v for v in net.nodes if net.graph.in_degree(v) == 0]
    assert isolated == islands
    x = np.ones(net.n)
    signal = net.signal(x)
    for code in islands:
        assert signal[net.nodes.index(code)] == 0.0


def test_all_layers_zero() -> None:
    zero = dict.fromkeys(LAYERS, 0.0)
    with pytest.raises(InputError, match=r"^network\.layers: all layer weights are 0"):
        real_network(weights=zero)
    net = real_network(weights=zero, allow_isolated=True)
    assert net.matrix.nnz == 0
    assert (net.signal(np.ones(net.n)) == 0).all()


def test_real_network_takes_a_subset_of_nations(nations: pd.DataFrame) -> None:
    europe = nations[nations["continent"] == "Europe"].reset_index(drop=True)
    net = real_network(europe)
    assert net.nodes == europe["iso3"].tolist()
    assert (net.in_degree() > 0).all()


def test_missing_gdp_is_refused(nations: pd.DataFrame) -> None:
    broken = nations.copy()
    broken.loc[broken["iso3"] == "CUB", "gdp_usd"] = np.nan
    with pytest.raises(InputError, match=r"^nations\.gdp_usd: missing or negative for CUB"):
        real_network(broken)
    # without the GDP-based layers the gap does not matter
    real_network(broken, {"gravity": 0, "benchmark": 0}, allow_isolated=True)


# ---------------------------------------------------------------------------------------
# Layer weights: validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            {"border": -1},
            "network.layers.border: -1 is out of range; must be >= 0.0",
        ),
        (
            {"bloc": -0.5},
            "network.layers.bloc: -0.5 is out of range; must be >= 0.0",
        ),
        ({"bordr": 1.0}, "network.layers.bordr: unknown key; did you mean border?"),
        (
            {"gravity": "high"},
            "network.layers.gravity: expected a number, got 'high' (str)",
        ),
        (
            {"benchmark": True},
            "network.layers.benchmark: expected a number, got True (bool)",
        ),
        (
            {"gravity": float("nan")},
            "network.layers.gravity: must be a finite number, got nan",
        ),
        (
            {"benchmark_top": 0},
            "network.layers.benchmark_top: 0 is out of range; must be >= 1",
        ),
        (
            {"benchmark_top": 2.5},
            "network.layers.benchmark_top: expected a whole number, got 2.5",
        ),
        (
            {"gravity_top_k": -3},
            "network.layers.gravity_top_k: -3 is out of range; must be >= 0",
        ),
    ],
)
def test_bad_layer_weights_give_one_line(weights: dict, message: str) -> None:
    for attempt in (
        lambda: as_layer_weights(weights),
        lambda: real_network(weights=weights),
        lambda: build_influence_graph(weights=weights),
    ):
        with pytest.raises(InputError) as info:
            attempt()
        assert str(info.value) == message
    # a scenario gives the same line (one formatter), naming its source
    key, value = next(iter(weights.items()))
    with pytest.raises(InputError) as info:
        load_scenario(overrides={f"network.layers.{key}": value})
    assert str(info.value) == f"{message} in overrides"
    # constructed directly (or nested in a scenario) it is pydantic's error, with the key
    with pytest.raises(ValidationError) as raw:
        LayerWeights(**weights)
    assert raw.value.errors()[0]["loc"] == (next(iter(weights)),)


def test_layer_weights_accept_instances_mappings_and_whole_floats() -> None:
    w = LayerWeights(border=2, benchmark_top=5.0)
    assert w.border == 2.0 and w.benchmark_top == 5
    assert as_layer_weights(w) is w
    assert as_layer_weights(None) == LayerWeights()
    assert as_layer_weights({"gravity": 0}).gravity == 0.0
    with pytest.raises(InputError, match=r"^network\.layers: must be a table"):
        as_layer_weights([1, 2])


# ---------------------------------------------------------------------------------------
# Signals: vectorised and sequential agree bit for bit
# ---------------------------------------------------------------------------------------


def _sequential_signal(net: InfluenceNetwork, x: np.ndarray) -> list[float]:
    den = net.in_degree_weight()
    out = []
    for i in range(net.n):
        idx, wts = net.in_neighbours(i)
        s = 0.0
        for j, w in zip(idx.tolist(), wts.tolist(), strict=True):
            s += w * x[j]
        out.append(s / den[i] if den[i] > 0 else 0.0)
    return out


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: real_network(), id="real"),
        pytest.param(lambda: real_network(weights={"gravity_top_k": 0}), id="real-dense"),
        pytest.param(lambda: erdos_renyi(3000, 6.0, np.random.default_rng(1)), id="er"),
        pytest.param(lambda: barabasi_albert(3000, 3, np.random.default_rng(2)), id="ba"),
        pytest.param(lambda: watts_strogatz(3000, 6, 0.2, np.random.default_rng(3)), id="ws"),
        pytest.param(lambda: ring(500, 4), id="ring"),
    ],
)
def test_sequential_sum_reproduces_signal_exactly(make) -> None:
    net = make()
    rng = np.random.default_rng(12345)
    den = net.in_degree_weight()
    for i in range(0, net.n, max(net.n // 50, 1)):
        _, wts = net.in_neighbours(i)
        s = 0.0
        for w in wts.tolist():
            s += w
        assert s == den[i]
    for x in (rng.integers(0, 2, net.n).astype(np.float64), rng.random(net.n)):
        vec = net.signal(x)
        seq = _sequential_signal(net, x)
        assert vec.tolist() == seq  # == on every element, not approx


def test_signal_is_weighted_share(net: InfluenceNetwork) -> None:
    x = np.zeros(net.n)
    assert (net.signal(x) == 0).all()
    assert np.allclose(net.signal(np.ones(net.n)), 1.0, rtol=0, atol=1e-15)
    with pytest.raises(InputError, match="expected 197 node states"):
        net.signal(np.ones(3))


def test_in_neighbours_are_the_graph_predecessors(net: InfluenceNetwork) -> None:
    for i in range(net.n):
        idx, _ = net.in_neighbours(i)
        assert {net.nodes[j] for j in idx.tolist()} == set(net.graph.predecessors(net.nodes[i]))


# ---------------------------------------------------------------------------------------
# Synthetic graphs
# ---------------------------------------------------------------------------------------

GENERATORS = {
    "erdos_renyi": lambda seed: erdos_renyi(2000, 5.0, np.random.default_rng(seed)),
    "barabasi_albert": lambda seed: barabasi_albert(2000, 3, np.random.default_rng(seed)),
    "watts_strogatz": lambda seed: watts_strogatz(2000, 4, 0.3, np.random.default_rng(seed)),
}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generators_are_deterministic_per_seed(kind: str) -> None:
    make = GENERATORS[kind]
    a, b, c = make(7), make(7), make(8)
    assert a.kind == kind
    assert _same(a, b)
    assert not _same(a, c)


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generators_leave_global_random_state_alone(kind: str) -> None:
    np_state = np.random.get_state()[1].copy()
    py_state = random.getstate()
    GENERATORS[kind](1)
    synthetic_nations(50, np.random.default_rng(1))
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert random.getstate() == py_state


def _check_simple_undirected(net: InfluenceNetwork) -> None:
    m = net.matrix
    assert m.has_canonical_format and m.dtype == np.float64
    assert (m.data == 1.0).all()
    assert m.diagonal().sum() == 0
    assert (m != m.T).nnz == 0
    assert net.nodes == list(range(net.n))


def test_erdos_renyi_mean_degree() -> None:
    n, k = 20_000, 6.0
    net = erdos_renyi(n, k, np.random.default_rng(2024))
    _check_simple_undirected(net)
    assert net.matrix.nnz / n == pytest.approx(k, abs=0.1)  # sd of the mean degree ~0.025
    degrees = net.in_degree()
    assert degrees.var() == pytest.approx(k * (1 - k / (n - 1)), rel=0.1)  # Poisson-like


def test_erdos_renyi_extremes() -> None:
    assert erdos_renyi(50, 0.0, np.random.default_rng(0)).matrix.nnz == 0
    full = erdos_renyi(40, 39.0, np.random.default_rng(0))
    assert full.matrix.nnz == 40 * 39


def test_erdos_renyi_large_is_sparse_and_fast() -> None:
    net = erdos_renyi(100_000, 6.0, np.random.default_rng(5))
    assert net.matrix.nnz / net.n == pytest.approx(6.0, abs=0.05)


def test_barabasi_albert_edges_and_hubs() -> None:
    n, m = 20_000, 3
    net = barabasi_albert(n, m, np.random.default_rng(11))
    _check_simple_undirected(net)
    assert net.matrix.nnz == 2 * m * (n - m)
    degrees = net.in_degree()
    assert degrees.min() >= m
    assert degrees.max() > 20 * m  # preferential attachment grows hubs
    assert barabasi_albert(2, 1, np.random.default_rng(0)).matrix.nnz == 2


def test_ring_degrees_and_neighbours() -> None:
    net = ring(30, 6)
    _check_simple_undirected(net)
    assert (net.in_degree() == 6).all()
    assert net.in_neighbours(0)[0].tolist() == [1, 2, 3, 27, 28, 29]
    assert (net.in_degree_weight() == 6.0).all()


def test_watts_strogatz_p0_is_the_ring_and_p1_keeps_edge_count() -> None:
    lattice = ring(1000, 6)
    ws0 = watts_strogatz(1000, 6, 0.0, np.random.default_rng(1))
    assert ws0.kind == "watts_strogatz"
    assert _same(ws0, lattice)
    ws1 = watts_strogatz(1000, 6, 1.0, np.random.default_rng(1))
    _check_simple_undirected(ws1)
    assert ws1.matrix.nnz == 1000 * 6
    assert not _same(ws1, lattice)


def test_complete_is_mean_field_without_a_matrix() -> None:
    n = 2_000_000
    net = complete(n)
    assert net.matrix is None and net.graph is None and net.kind == "complete"
    x = np.zeros(n)
    x[:500_000] = 1.0
    assert (net.signal(x) == 0.25).all()
    assert (net.in_degree_weight() == float(n)).all()
    small = complete(5)
    idx, wts = small.in_neighbours(2)
    assert idx.tolist() == [0, 1, 2, 3, 4] and (wts == 1.0).all()
    x = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    assert _sequential_signal(small, x) == small.signal(x).tolist() == [0.6] * 5
    g = small.to_networkx()
    assert g.number_of_edges() == 5 * 4 // 2 + 5  # each node counts itself


def test_to_networkx_and_unweighted() -> None:
    net = barabasi_albert(300, 2, np.random.default_rng(3))
    g = net.to_networkx()
    assert isinstance(g, nx.Graph) and not g.is_directed()
    assert g.number_of_edges() == net.matrix.nnz // 2
    assert net.to_networkx() is g
    real = real_network()
    plain = real.unweighted()
    assert (plain.matrix.data == 1.0).all()
    assert np.array_equal(plain.matrix.indices, real.matrix.indices)
    assert (plain.in_degree_weight() == real.in_degree()).all()


def test_synthetic_network_dispatch() -> None:
    rng = np.random.default_rng(0)
    assert synthetic_network("ring", 10, rng, k=2).kind == "ring"
    assert synthetic_network("complete", 10, rng).matrix is None
    with pytest.raises(InputError, match=r"^network\.kind: 'ring_lattice' .*did you mean ring"):
        synthetic_network("ring_lattice", 10, rng)


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda r: erdos_renyi(1, 0.0, r), "network.n"),
        (lambda r: erdos_renyi(10, -1.0, r), "network.mean_degree"),
        (lambda r: erdos_renyi(10, 9.5, r), "network.mean_degree"),
        (lambda r: erdos_renyi(10.5, 2.0, r), "network.n"),
        (lambda r: erdos_renyi(10, 2.0, 42), "network.rng"),
        (lambda r: barabasi_albert(10, 0, r), "network.m"),
        (lambda r: barabasi_albert(10, 10, r), "network.m"),
        (lambda r: watts_strogatz(10, 3, 0.1, r), "network.k"),
        (lambda r: watts_strogatz(10, 10, 0.1, r), "network.k"),
        (lambda r: watts_strogatz(10, 4, 1.5, r), "network.p"),
        (lambda r: watts_strogatz(10, 4, "0.1", r), "network.p"),
        (lambda r: ring(10, 0), "network.k"),
        (lambda r: ring(True, 2), "network.n"),
        (lambda r: complete(1), "network.n"),
        (lambda r: synthetic_nations(1, r), "network.n"),
        (lambda r: synthetic_nations(5, r, mode="median"), "network.attributes"),
    ],
)
def test_bad_generator_parameters_name_the_key(call, key: str) -> None:
    with pytest.raises(InputError) as info:
        call(np.random.default_rng(0))
    text = str(info.value)
    assert text.startswith(key + ":") and "\n" not in text


# ---------------------------------------------------------------------------------------
# Synthetic nations
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sample", "constant"])
def test_synthetic_nations_columns_and_clean_start(mode: str, nations: pd.DataFrame) -> None:
    df = synthetic_nations(300, np.random.default_rng(4), mode=mode)
    assert list(df.columns) == list(nations.columns)
    assert (df.dtypes == nations.dtypes).all()
    assert df["iso3"].tolist()[:2] == ["N00000", "N00001"] and df["iso3"].is_unique
    assert (df["blocs"] == "").all()
    assert (df["btc_holdings"] == 0).all() and (df["initial_mining_mw"] == 0).all()
    assert (df["initial_state"] == "none").all() and (df["policy_since"] == "").all()
    assert df["gdp_usd"].gt(0).all()


def test_synthetic_nations_sample_and_constant(nations: pd.DataFrame) -> None:
    a = synthetic_nations(500, np.random.default_rng(9))
    b = synthetic_nations(500, np.random.default_rng(9))
    c = synthetic_nations(500, np.random.default_rng(10))
    pd.testing.assert_frame_equal(a, b)
    assert not a["gdp_usd"].equals(c["gdp_usd"])
    assert set(a["gdp_usd"]) <= set(nations["gdp_usd"])
    assert a["gdp_usd"].nunique() > 50
    const = synthetic_nations(10, np.random.default_rng(0), mode="constant")
    assert (const["gdp_usd"] == nations["gdp_usd"].median()).all()
    assert (const["debt_pct_gdp"] == nations["debt_pct_gdp"].median()).all()
    assert not const["imf_programme_active"].any()
