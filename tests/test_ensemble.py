"""The ensemble engine: replicate r of an ensemble is bit for bit run(scenario_r, seed_r).

Every comparison is against the real single-run engine (``adoption_model.runner.run``) on
the same scenario and seed: model frame, nation frame, first adoptions, fired events and
summary must be equal, not close. Replicates in one ensemble differ in seed and in numeric
parameters, carry dated events and price impact, and stop early at different steps.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adoption_model.ensemble import (
    Ensemble,
    Stacked,
    auto_batch_size,
    run_ensemble,
    structure_key,
)
from adoption_model.errors import InputError
from adoption_model.runner import RunResult, run
from adoption_model.scenario import load_scenario
from adoption_model.submodels.rows import masked_row_sums
from tests.golden.cases import GOLDEN_FILE, SEEDS, cases, digest_result, digest_run


def assert_same(got: RunResult, ref: RunResult) -> None:
    """Every output of ``got`` equals the single run ``ref`` exactly."""
    pd.testing.assert_frame_equal(got.model_frame, ref.model_frame, check_exact=True)
    if ref.nation_frame is None:
        assert got.nation_frame is None
    else:
        pd.testing.assert_frame_equal(got.nation_frame, ref.nation_frame, check_exact=True)
    pd.testing.assert_frame_equal(got.first_adoptions, ref.first_adoptions, check_exact=True)
    assert got.summary == ref.summary
    assert got.events == ref.events
    assert got.seed == ref.seed
    assert got.scenario == ref.scenario


def check_ensemble(overrides: list[dict[str, Any]], seeds: list[int], name: Any = None) -> list:
    scenarios = [load_scenario(name, ov) for ov in overrides]
    results = Ensemble(scenarios, seeds).run()
    assert len(results) == len(seeds)
    for sc, seed, got in zip(scenarios, seeds, results, strict=True):
        assert_same(got, run(sc, seed=seed))
    return results


# ------------------------------------------------------------------ the golden cases
GOLDEN = json.loads(GOLDEN_FILE.read_text())
#: the stored digests are bit-exact for the numpy they were made with (.ci/lowest runs
#: numpy 1.26, where a few diagnostics differ in the last bit; see .ci/lowest)
GOLDEN_EXACT = int(np.__version__.split(".")[0]) >= 2


def test_golden_cases_as_ensembles() -> None:
    """Every golden case and seed, grouped by structure into ensembles, gives its single
    run's digest (computed here, so the test holds on every numpy the package allows; the
    stored digests pin the single runs in tests/test_golden.py).

    The bundled real-world scenarios (different events, price paths, IMF stances and
    coefficients) share one ensemble; each classic-rule case is another.
    """
    groups: dict[tuple, list[tuple[str, Any, int]]] = {}
    for cid, (name, over) in cases().items():
        sc = load_scenario(name, over)
        for seed in SEEDS:
            groups.setdefault(structure_key(sc), []).append((cid, sc, seed))
    assert max(len(g) for g in groups.values()) >= 10  # the real-world scenarios batch
    for members in groups.values():
        results = Ensemble([m[1] for m in members], [m[2] for m in members]).run()
        for (cid, _, seed), res in zip(members, results, strict=True):
            name, over = cases()[cid]
            single = digest_run(name, over, seed, "vectorized")
            assert digest_result(res) == single, f"{cid}@{seed}"
            if GOLDEN_EXACT:  # with the numpy the digests were made with: the stored ones
                assert single == GOLDEN[f"{cid}@{seed}"], f"{cid}@{seed}"


# ------------------------------------------------------------------ every rule, every graph
def test_logit_real_world_varied_parameters_and_price_impact() -> None:
    over = [
        {"steps": 36, "rule.coef.a_peer": 1.0, "price.kappa": 0.0},
        {"steps": 36, "rule.coef.a_peer": 3.0, "price.kappa": 40.0, "rule.choice_intensity": 2.0},
        {"steps": 36, "rule.review_probability": 0.5, "imf.review_months": 3, "imf.stance": 1.0,
         "imf.new_programme_rate": 0.9, "imf.new_programme_months": 12,
         "imf.suspend_after_failures": 1, "imf.detection_probability": 0.9},
        {"steps": 36, "adoption.target_share": 0.2, "adoption.target_share_sanctioned": 0.4,
         "adoption.purchase_months": 3, "selling.months": 2, "selling.mined_share": 0.9,
         "mining.allocation_share": 0.5, "price.process": "regime"},
        {"steps": 36, "rule.coef.a0": -2.0, "rule.coef.c0": -2.0, "rule.coef.s0": 1.0,
         "rule.coef.a_sanctions": 3.0, "imf.review_months": 4, "imf.new_programme_rate": 0.5},
    ]  # fmt: skip
    results = check_ensemble(over, [1, 2, 3, 4, 5])
    frames = [r.model_frame for r in results]
    # the mechanisms the comparison must cover happen: IMF reviews withhold, programmes
    # start and end, nations sell, and the replicates differ
    assert sum(f["imf_programme_starts"].sum() for f in frames) > 0
    assert sum(f["imf_programme_ends"].sum() for f in frames) > 0
    assert sum(f["btc_sold"].sum() for f in frames) > 0
    assert sum(f["imf_withheld_usd"].sum() for f in frames) > 0  # reviews withheld tranches
    assert len({f["btc_price"].iloc[-1] for f in frames}) == len(frames)


def test_logit_nation_frame_and_horizons_differ() -> None:
    over = [{"steps": s, "output.nation_frame": True} for s in (0, 5, 13)]
    results = check_ensemble(over, [7, 8, 9])
    assert [len(r.model_frame) for r in results] == [1, 6, 14]


def test_replicates_started_from_the_panel() -> None:
    """Runs started from the observed panel (the back-test's start) read the panel and
    the table once per ensemble and copy them into each replicate: still each single
    run's bits, also where replicates differ in the parameters that state reads (which
    change nothing at this month: no nation is mid-sale, the miners have table megawatts;
    the cache keys on them all the same)."""
    from adoption_model.calibration.history import history_overrides

    base = {**history_overrides("2021-06", 12), "output.nation_frame": True}
    over = [
        base,
        {**base, "selling.months": 3, "mining.allocation_share": 0.2},
        {**base, "rule.coef.a0": -1.0},
    ]
    results = check_ensemble(over, [11, 12, 13])
    held = [r.nation_frame.loc[r.nation_frame["step"] == 0, "holdings"].sum() for r in results]
    assert held[0] > 0 and held[0] == held[1] == held[2]  # the panel's holdings at the start


def test_events_fire_per_replicate() -> None:
    """Dated events of every kind, different per replicate, incl. set events mid-run."""
    ev = [
        {"date": "2025-09", "kind": "adopt", "nations": ["BRA", "ARG"]},
        {"date": "2025-10", "kind": "price_shock", "change": -0.5},
        {"date": "2025-11", "kind": "set", "key": "rule.coef.a_peer", "value": 6.0},
        {"date": "2025-11", "kind": "set", "key": "imf.exposure_full_at_pct_quota", "value": 50.0},
        {"date": "2025-12", "kind": "sell", "nation": "BRA", "fraction": 0.5},
        {"date": "2026-01", "kind": "buy", "nation": "USA", "btc": 5000.0, "months": 4},
        {"date": "2026-02", "kind": "imf_stance", "stance": 1.0},
        {"date": "2026-02", "kind": "energy", "nation": "PRY", "mw": 900.0},
        {"date": "2026-03", "kind": "mine", "nation": "PRY"},
        {"date": "2026-03", "kind": "mandate", "nation": "DEU"},
        {"date": "2026-04", "kind": "pledge", "nation": "USA"},
        {"date": "2026-04", "kind": "ban", "nation": "IND", "ban": "absolute"},
        {"date": "2026-05", "kind": "ban", "nation": "CHN", "ban": "mining", "value": False},
        {"date": "2026-05", "kind": "sanctions", "nation": "BRA", "value": 1.0},
    ]
    over = [
        {"steps": 18, "events": ev},
        {"steps": 18, "events": ev[3:8]},
        {"steps": 18},
        {"steps": 18, "events": [{"date": "2025-06", "kind": "adopt", "nation": "IND"}]},
    ]
    results = check_ensemble(over, [3, 3, 4, 5])
    own = [[e for e in r.events if not e["name"].startswith("data:")] for r in results]
    assert len(own[0]) == len(ev) and not own[2]
    assert any(e["name"].startswith("data:") for e in results[2].events)  # the table's own


@pytest.mark.parametrize(
    "net",
    [
        {"network.kind": "erdos_renyi", "network.n": 400, "network.mean_degree": 4.0},
        {"network.kind": "barabasi_albert", "network.n": 300, "network.m": 2},
        {"network.kind": "watts_strogatz", "network.n": 300, "network.k": 4, "network.p": 0.2},
        {"network.kind": "ring", "network.n": 200, "network.k": 6},
        {"network.kind": "complete", "network.n": 300},
    ],
    ids=lambda d: d["network.kind"],
)
@pytest.mark.parametrize("rule", ["threshold", "cascade", "bass", "logit"])
def test_every_rule_on_every_synthetic_graph(net: dict, rule: str) -> None:
    base = {"steps": 25, "rule.kind": rule, "initial.seed_count": 3, **net}
    over = [
        {**base, "output.nation_frame": True, "rule.phi": 0.1, "rule.transmission": 0.3,
         "rule.q": 0.2},
        {**base, "output.nation_frame": True, "rule.phi": 0.25, "rule.transmission": 0.6,
         "rule.q": 0.6, "rule.threshold_distribution.kind": "uniform"},
        {**base, "output.nation_frame": True, "steps": 40, "initial.seed_count": 1},
    ]  # fmt: skip
    check_ensemble(over, [11, 12, 13])


def test_early_stops_differ_and_rows_are_compacted() -> None:
    """Threshold cascades that stop at different steps; most rows stop, the rest go on."""
    base = {"steps": 60, "rule.kind": "threshold", "network.kind": "erdos_renyi",
            "network.n": 300, "rule.phi": 0.18, "initial.seed_count": 1}  # fmt: skip
    over = [{**base, "network.mean_degree": d} for d in (1.0, 2.0, 3.0, 4.0, 5.0, 8.0, 12.0)]
    results = check_ensemble(over * 2, list(range(14)))
    stops = {len(r.model_frame) for r in results}
    assert len(stops) > 3  # replicates really stopped at different steps
    assert any(r.summary["stopped_early"] for r in results)


def test_classic_rules_with_money_moving_events() -> None:
    """Classic rules record holdings only when an event moved money (per replicate)."""
    base = {"steps": 20, "rule.kind": "bass", "rule.p": 0.05}
    sell = [{"date": "2026-01", "kind": "sell", "nation": "SLV"}]
    over = [{**base, "events": sell}, base, {**base, "events": sell, "output.nation_frame": False}]
    with pytest.raises(InputError, match="structure"):
        Ensemble([load_scenario(None, o) for o in over], [1, 2, 3])
    check_ensemble(over[:2], [1, 2])


def test_run_ensemble_mixes_structures_and_engines() -> None:
    """run_ensemble groups consecutive runs of one structure; the agents engine and a
    'set' event of a parameter run too, each as its single run."""
    res = run_ensemble(None, [4, 5], overrides={"steps": 6})
    assert_same(res[1], run(None, seed=5, overrides={"steps": 6}))
    over = [
        {"steps": 4},
        {"steps": 4, "rule.kind": "threshold"},
        {"steps": 4, "engine": "agents"},
        {"steps": 4, "events": [{"date": "2025-07", "kind": "set", "key": "rule.coef.a0",
                                 "value": 1.0}]},
        {"steps": 4},
    ]  # fmt: skip
    out = run_ensemble([None] * 5, [1, 2, 3, 4, 5], overrides=over)
    for ov, seed, got in zip(over, [1, 2, 3, 4, 5], out, strict=True):
        assert_same(got, run(None, seed=seed, overrides=ov))


def test_batch_of_tasks_keeps_failures_per_run() -> None:
    """A worker's batch (run_tasks): a run that fails to initialise or to load fails
    alone, with the error run_task records for it alone; the others are their own runs."""
    from adoption_model.experiments.batches import run_tasks
    from adoption_model.experiments.runner import run_task

    def task(rid: int, over: dict) -> dict:
        return {"run_id": rid, "seed": rid, "base": None, "key": "k", "overrides": over,
                "outcomes": {"share": "final(adoption_share)"}, "keep_steps": True,
                "keep_nations": False, "keep_adoptions": True, "posterior": None}  # fmt: skip

    tasks = [
        task(0, {"steps": 3}),
        task(1, {"steps": 3, "initial.seed_count": 500}),  # fails when its replicate starts
        task(2, {"steps": 3, "rule.review_probability": 7.0}),  # does not load
        task(3, {"steps": 3, "rule.kind": "threshold"}),
        task(4, {"steps": 3}),
    ]
    got = run_tasks(tasks)
    assert [g["status"] for g in got] == ["ok", "failed", "failed", "ok", "ok"]
    for g, t in zip(got, tasks, strict=True):
        want = run_task(t)
        for k in ("run_id", "status", "error", "outcomes", "steps_run"):
            assert g[k] == want[k], (t["run_id"], k)
        for k in ("steps", "adoptions"):
            if want[k] is None:
                assert g[k] is None
            else:
                pd.testing.assert_frame_equal(g[k], want[k], check_exact=True)
    assert "seed_count" in got[1]["error"] and "review_probability" in got[2]["error"]


# ------------------------------------------------------------------ the pieces
def test_masked_row_sums_match_single_sums() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, n = int(rng.integers(1, 30)), int(rng.integers(1, 900))
        x = rng.lognormal(20, 3, size=(rows, n))
        mask = rng.random((rows, n)) < rng.random()
        want = np.array([x[r][mask[r]].sum() for r in range(rows)])
        assert np.array_equal(masked_row_sums(x, mask), want)
        assert np.array_equal(masked_row_sums(x[0], mask), [x[0][m].sum() for m in mask])


def test_hold_floor_bounds_the_hold_probability() -> None:
    """gather.hold_floor is below the logit's hold probability for nations without
    holdings, for any coefficients, intensity and inputs in their ranges (the ensemble
    skips the logit of a nation whose uniform lies below it); and it is not vacuous."""
    from adoption_model.gather import hold_floor
    from adoption_model.scenario import LogitCoefficients
    from adoption_model.submodels.decision import (
        LogitInputs,
        logit_probabilities,
        logit_utilities,
    )

    rng = np.random.default_rng(12)
    names = list(LogitCoefficients.model_fields)
    k = 4000
    baseline = load_scenario(None).rule.coef  # the estimated coefficients, first
    for trial in range(60):
        draw = (0.5 if trial % 2 else 4.0) * rng.normal(size=len(names))
        coef = LogitCoefficients(**{n: float(v) for n, v in zip(names, draw, strict=True)})
        coef = baseline if trial == 0 else coef
        lam = 1.0 if trial == 0 else float(rng.choice([0.0, 0.3, 1.0, 3.0]))
        stance, exposure = rng.random(k), rng.random(k)
        low = stance * exposure
        x = LogitInputs(
            fx_stress=rng.random(k), debt_stress=rng.random(k), peer=rng.random(k),
            world_share=rng.random(k), momentum=rng.uniform(-1, 1, k),
            imf_pressure=low + rng.random(k), margin=rng.uniform(-1, 1, k),
            gain=np.zeros(k), mandate=(rng.random(k) < 0.5).astype(float),
            can_adopt=rng.random(k) < 0.8, can_mine=rng.random(k) < 0.5,
            can_sell=np.zeros(k, dtype=bool), sanctions=rng.random(k),
        )  # fmt: skip
        # the extremes of the ranges too
        x.fx_stress[:50], x.margin[:50], x.imf_pressure[:50] = 0.0, 1.0, low[:50]
        x.fx_stress[50:100], x.margin[50:100], x.imf_pressure[50:100] = 1.0, -1.0, low[50:100] + 1
        util = logit_utilities(x, coef)
        avail = np.stack([x.can_adopt, x.can_mine, x.can_sell], axis=-1)
        p_hold = logit_probabilities(util, avail, lam)[:, 0]
        floor = hold_floor(coef, lam, x.peer, x.world_share, x.momentum, x.debt_stress,
                           x.sanctions, low)  # fmt: skip
        assert (floor <= p_hold).all(), trial
    # not vacuous: with the estimated coefficients the floor screens most nations (a
    # uniform below 0.9 holds wherever the peer share is below a half)
    peer = rng.random(k) * 0.5
    floor = hold_floor(baseline, 1.0, peer, 0.3, 0.0, np.ones(k), np.zeros(k), np.zeros(k))
    assert floor.min() > 0.9


def test_row_counts_equal_count_nonzero() -> None:
    from adoption_model.submodels.rows import row_counts

    rng = np.random.default_rng(1)
    for shape in ((7, 197), (3, 2**16 + 5), (4, 0)):
        mask = rng.random(shape) < 0.3
        want = np.count_nonzero(mask, axis=-1)
        assert np.array_equal(row_counts(mask), want) and row_counts(mask).dtype == np.int64
        assert np.array_equal(row_counts(mask, float), want.astype(float))
        assert np.array_equal(row_counts(mask[:, ::2]), np.count_nonzero(mask[:, ::2], axis=-1))
    ints = rng.integers(0, 3, size=(5, 9))  # not bools: counted as numpy counts them
    assert np.array_equal(row_counts(ints), np.count_nonzero(ints, axis=-1))


def test_stacked_parameters() -> None:
    a = load_scenario(None, {"rule.coef.a_peer": 1.5})
    b = load_scenario(None, {"rule.coef.a_peer": 2.5})
    s = Stacked([a, b])
    assert s.rule.coef.a0 == a.rule.coef.a0 and isinstance(s.rule.coef.a0, float)
    assert s.rule.coef.a_peer.shape == (2, 1)
    assert s.rule.coef.a_peer[:, 0].tolist() == [1.5, 2.5]


def test_batch_size_follows_memory() -> None:
    small = load_scenario(None, {"output.nation_frame": False})
    big = load_scenario(None, {"output.nation_frame": True})
    huge = load_scenario(None, {"network.kind": "erdos_renyi", "network.n": 1_000_000,
                                "rule.kind": "threshold"})  # fmt: skip
    assert auto_batch_size(small) == 256
    assert 1 <= auto_batch_size(big) < auto_batch_size(small)
    assert auto_batch_size(huge) == 1
    assert auto_batch_size(small, memory=10 * auto_batch_size(small)) >= 1


# ------------------------------------------------------------------ the experiments runner
def _sweep_parts(out: Any) -> dict[str, pd.DataFrame | None]:
    from adoption_model.experiments import VOLATILE_COLUMNS, read_runs, read_steps
    from adoption_model.experiments.store import read_parts

    runs = read_runs(out).drop(columns=list(VOLATILE_COLUMNS))
    parts: dict[str, pd.DataFrame | None] = {"runs": runs, "steps": read_steps(out)}
    for part in ("nations", "adoptions"):
        folder = out / part
        parts[part] = read_parts(folder) if folder.exists() else None
    return parts


def _sweep_experiment(store: dict[str, Any]) -> dict[str, Any]:
    """Points that mix structures (graph kinds, rules), a failing point, stops and events."""
    events = [{"date": "2025-09", "kind": "adopt", "nation": 3}]
    return {
        "name": "mixed",
        "seed": 5,
        "replications": 3,
        "set": {"steps": 14, "network.kind": "erdos_renyi", "network.n": 80,
                "initial.seed_count": 2},
        "design": {"kind": "points", "points": [
            {"rule.kind": "logit", "rule.coef.a_peer": 1.0, "network.mean_degree": 3.0},
            {"rule.kind": "logit", "rule.coef.a_peer": 4.0, "network.mean_degree": 5.0},
            {"rule.kind": "threshold", "rule.coef.a_peer": 2.0, "network.mean_degree": 2.0},
            {"rule.kind": "threshold", "rule.coef.a_peer": 2.0, "network.mean_degree": 6.0},
            {"rule.kind": "cascade", "rule.coef.a_peer": 2.0, "network.mean_degree": 60.0},
            {"rule.kind": "bass", "rule.coef.a_peer": 2.0, "network.mean_degree": 4.0},
        ]},
        "scenarios": [{"events": events}, {}, {"events": [{**events[0], "nation": 999}]}],
        "store": store,
    }  # fmt: skip


@pytest.mark.parametrize(
    "store",
    [
        {"chunk_runs": 4},
        {"chunk_runs": 7, "nations": True, "adoptions": True, "steps": False},
        {"chunk_runs": 5, "adoptions": True},
    ],
    ids=["steps", "nations+adoptions", "adoptions"],
)
def test_sweep_in_ensembles_equals_sweep_of_single_runs(tmp_path, store, monkeypatch) -> None:
    """runs.parquet and every part are identical with batches and with every run alone."""
    from adoption_model.experiments import batches as batches_module
    from adoption_model.experiments import run_experiment

    exp = _sweep_experiment(store)
    single = run_experiment(exp, tmp_path / "single", progress=False, batch_size=1)

    def no_fallback(tasks: list) -> list:
        raise AssertionError("an ensemble raised and its batch ran one by one")

    monkeypatch.setattr(batches_module, "_one_by_one", no_fallback)
    batched = run_experiment(exp, tmp_path / "batched", progress=False)
    assert len(batched) == len(single)
    assert len(single) == 3 * 6 * 3
    assert (single["status"] == "failed").sum() == 18  # the event naming node 999
    a, b = _sweep_parts(tmp_path / "single"), _sweep_parts(tmp_path / "batched")
    for part in a:
        if a[part] is None:
            assert b[part] is None, part
        else:
            pd.testing.assert_frame_equal(a[part], b[part], check_exact=True, obj=part)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_backends_run_batches_as_ensembles(tmp_path, backend) -> None:
    from adoption_model.experiments import run_experiment

    exp = _sweep_experiment({"chunk_runs": 6})
    run_experiment(exp, tmp_path / "single", progress=False, batch_size=1)
    run_experiment(exp, tmp_path / "b", backend=backend, workers=2, progress=False, batch_size=4)
    a, b = _sweep_parts(tmp_path / "single"), _sweep_parts(tmp_path / "b")
    pd.testing.assert_frame_equal(a["runs"], b["runs"], check_exact=True)
    pd.testing.assert_frame_equal(a["steps"], b["steps"], check_exact=True)


def test_batches_group_consecutive_runs_of_one_structure() -> None:
    from adoption_model.experiments.batches import batches

    base = load_scenario(None, {"output.nation_frame": False}).to_dict()
    tasks = [
        {"run_id": i, "base": base, "overrides": {"rule.kind": kind}, "keep_nations": False}
        for i, kind in enumerate(["logit"] * 5 + ["threshold"] * 2 + ["logit"])
    ]
    sizes = [[t["run_id"] for t in b] for b in batches(iter(tasks), None, 3)]
    assert sizes == [[0, 1, 2], [3, 4], [5, 6], [7]]
    assert [len(b) for b in batches(iter(tasks), 1, 3)] == [1] * 8


def test_compare_with_and_without_batches() -> None:
    from adoption_model.compare import compare

    args = (["baseline", "us_reserve_expansion"],)
    kw = {"replications": 3, "steps": 8, "seed": 4}
    one, many = compare(*args, **kw, batch_size=1), compare(*args, **kw)
    for name in ("runs", "trajectories", "outcomes", "differences", "adoption_probability"):
        got, want = getattr(many, name), getattr(one, name)
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)


def test_posterior_draws_batch_as_ensembles() -> None:
    """With parameter uncertainty every replicate has its own coefficients (``(R, 1)``
    columns): batched and alone give the same comparison."""
    from adoption_model.compare import compare

    kw = {"replications": 4, "steps": 8, "seed": 9, "posterior": "shipped"}
    pair = ["baseline", "imf_hard_line"]
    one, many = compare(pair, **kw, batch_size=1), compare(pair, **kw)
    for name in ("runs", "trajectories", "outcomes"):
        got, want = getattr(many, name), getattr(one, name)
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)
    plain = compare(pair, replications=4, steps=8, seed=9)
    assert not plain.runs.equals(many.runs)  # the draws changed the runs


def test_logit_utilities_equal_the_sum_of_terms_for_every_coefficient() -> None:
    """The ensemble's shortcut (no term array) adds every term the breakdown has: each
    coefficient is non-zero here, so a term left out shows."""
    from dataclasses import fields as dc_fields

    from adoption_model.scenario import LogitCoefficients
    from adoption_model.submodels.decision import (
        LogitInputs,
        logit_terms,
        logit_utilities,
        sum_terms,
    )

    rng = np.random.default_rng(0)
    n = 50
    names = list(LogitCoefficients.model_fields)
    coef = LogitCoefficients(
        **{k: float(v) for k, v in zip(names, rng.normal(size=len(names)), strict=True)}
    )
    values = {}
    for f in dc_fields(LogitInputs):
        values[f.name] = rng.random(n) < 0.5 if f.name.startswith("can_") else rng.random(n)
    x = LogitInputs(**values)
    want = sum_terms(logit_terms(x, coef))
    assert np.array_equal(logit_utilities(x, coef), want)


def test_world_rows_match_worlds_under_every_setting() -> None:
    """The worlds advanced as arrays (world_rows.py) give each replicate its single run's
    bits: both hashrate models, momentum from the price history, halvings at different
    steps (different start months), price impact, per-replicate parameters, shocks."""
    shock = [{"date": "2026-01", "kind": "price_shock", "change": -0.4}]
    exo = {"mining.hashrate_model": "exogenous"}
    over = [
        {"steps": 40, "price.history": [50_000.0, 60_000.0, 70_000.0],
         "price.momentum_months": 6, "price.kappa": 25.0},
        {"steps": 40, "start": "2027-11", "initial.from_data": False,
         "mining.efficiency_improvement": 0.2, "price.volatility": 0.9,
         "events": [{**shock[0], "date": "2028-02"}]},
        {"steps": 40, "mining.hashrate_response": 0.08, "mining.hashrate_lag_months": 4,
         "price.drift": 0.3, "events": shock},
    ]  # fmt: skip
    from adoption_model.ensemble import Ensemble as _E

    for group in (over, [{**o, **exo} for o in over]):
        ens = _E([load_scenario(None, o) for o in group], [1, 2, 3])
        assert ens.worlds is not None  # the array path ran
        check_ensemble(group, [1, 2, 3])
    growth = [{**exo, "steps": 30, "mining.hashrate_growth": g} for g in (0.1, 0.6)]
    check_ensemble(growth, [5, 6])
    regime = [{"steps": 12, "price.process": "regime"}, {"steps": 12}]
    assert _E([load_scenario(None, o) for o in regime], [1, 2]).worlds is None
    check_ensemble(regime, [1, 2])


def test_calibration_simulations_run_as_ensembles() -> None:
    """SMM's moments, the back-test's action shares and the start rate come from
    ensembles: the same numbers as a loop of single runs."""
    from adoption_model.calibration import backtest, smm
    from adoption_model.runner import run
    from adoption_model.seeds import replicate_seeds

    moments = smm.observed_moments()
    sc = smm.replay_scenario()
    theta = {"adoption.target_share": 0.04, "mining.allocation_share": 0.5}
    got = smm.simulate_moments(theta, sc, [5, 6, 7], moments)
    events = [dict(e) for e in smm.REPLAY_EVENTS]  # with the mining start's megawatts
    for e in events:
        if e["kind"] == "mine":
            e["mw"] = 0.5 * smm._surplus_at("BTN", "2019-04")
    scenario = sc.with_overrides({**theta, "events": events})
    want = np.zeros(len(moments))
    for s in (5, 6, 7):
        hold = run(scenario, seed=s).nation_frame.set_index(["nation", "date"])["holdings"]
        want += [
            float(hold.get((i, m), 0.0)) for i, m in zip(moments.nation, moments.month, strict=True)
        ]
    assert np.array_equal(got, want / 3)

    rate = backtest.policy_start_rate(months=6, replications=4, seed=3)
    per_run = []
    for s in replicate_seeds(3, 4):
        nf = run(None, seed=s, overrides={"steps": 6, "output.nation_frame": True}).nation_frame
        acts = nf.loc[nf["step"] >= 1, "action"].astype(str)
        per_run.append(int(acts.isin(["adopt", "mine"]).sum()) * 12 / 6)
    assert rate["starts_per_year"] == pytest.approx(float(np.mean(per_run)), abs=0)


def test_bad_batch_size_is_one_line_and_writes_nothing(tmp_path, capsys) -> None:
    from adoption_model.cli import main
    from adoption_model.ensemble import run_ensemble
    from adoption_model.experiments import run_experiment

    exp = _sweep_experiment({"chunk_runs": 4})
    with pytest.raises(InputError, match="--batch-size 0: give at least 1"):
        run_experiment(exp, tmp_path / "out", progress=False, batch_size=0)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="batch_size -3: give at least 1"):
        run_ensemble(None, [1, 2], batch_size=-3)
    for argv in (
        ["compare", "baseline", "imf_hard_line", "--batch-size", "0"],
        ["sweep", "lever_factorial", "--batch-size", "0", "--out", str(tmp_path / "s")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "--batch-size 0: give at least 1" in err
    assert not (tmp_path / "s").exists()
