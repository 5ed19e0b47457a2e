"""Experiments: designs, backends, the results store, resume, failures and analysis.

Real components throughout: the real model, real Parquet files, real worker processes, a
real Dask LocalCluster on 127.0.0.1 and a real ``python -m adoption_model`` subprocess.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption_model.cli import main
from adoption_model.errors import InputError
from adoption_model.experiments import (
    VOLATILE_COLUMNS,
    DesignConfig,
    Factor,
    analyze,
    design_points,
    evaluate_outcomes,
    load_experiment,
    read_runs,
    read_steps,
    run_experiment,
    run_table,
    sobol_indices,
)
from adoption_model.seeds import replicate_seeds

SMALL = """
name = "small"
seed = 11
replications = 2

[set]
steps = 18
"network.kind" = "erdos_renyi"
"network.n" = 60
"initial.seed_count" = 2

[design]
kind = "{kind}"
samples = {samples}

[uncertainties."rule.coef.a_peer"]
low = 0.5
high = 4.0

[uncertainties."rule.coef.a0"]
low = -4.0
high = -2.0

[store]
chunk_runs = {chunk}
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def stable(runs: pd.DataFrame) -> pd.DataFrame:
    """runs.parquet without the columns that legitimately vary (duration, host)."""
    return runs.drop(columns=list(VOLATILE_COLUMNS))


# -- designs ---------------------------------------------------------------------------
def test_full_factorial_counts_values_and_crn_seeds():
    exp = load_experiment(
        {
            "seed": 99,
            "replications": 3,
            "uncertainties": {"rule.coef.a_peer": {"low": 1.0, "high": 3.0, "levels": 3}},
            "levers": {"imf.stance": {"values": [0.0, 1.0]}},
        }
    )
    table = run_table(exp)
    assert len(table) == 3 * 2 * 3
    assert table["run_id"].tolist() == list(range(18))
    assert sorted(table["rule.coef.a_peer"].unique()) == [1.0, 2.0, 3.0]
    assert sorted(table["imf.stance"].unique()) == [0.0, 1.0]
    seeds = replicate_seeds(99, 3)
    for r in range(3):  # common random numbers: replicate r has one seed at every point
        assert set(table.loc[table["replicate"] == r, "seed"]) == {seeds[r]}
    assert table.groupby("point")["seed"].nunique().eq(3).all()


@pytest.mark.parametrize(
    ("kind", "samples", "extra", "expected"),
    [
        ("latin_hypercube", 20, {}, 20),
        ("sobol", 16, {}, 16 * (3 + 2)),
        ("sobol", 16, {"second_order": True}, 16 * (2 * 3 + 2)),
        ("morris", 5, {"levels": 4}, 5 * (3 + 1)),
    ],
)
def test_sampled_designs_have_documented_counts_and_bounds(kind, samples, extra, expected):
    factors = {
        "a": Factor(low=-1.0, high=2.0),
        "b": Factor(low=10, high=20, integer=True),
        "c": Factor(low=0.0, high=1.0, distribution="triangular", mode=0.2),
    }
    pts = design_points(factors, DesignConfig(kind=kind, samples=samples, **extra), seed=3)
    assert len(pts) == expected
    assert pts["a"].between(-1.0, 2.0).all() and pts["c"].between(0.0, 1.0).all()
    assert pts["b"].between(10, 20).all() and pd.api.types.is_integer_dtype(pts["b"])
    again = design_points(factors, DesignConfig(kind=kind, samples=samples, **extra), seed=3)
    pd.testing.assert_frame_equal(pts, again)
    if kind == "latin_hypercube":  # one point in each of the n strata of every factor
        strata = np.floor((pts["a"] + 1.0) / 3.0 * samples).astype(int)
        assert sorted(strata) == list(range(samples))


def test_explicit_points_and_discrete_values_in_sobol():
    pts = design_points({}, DesignConfig(kind="points", points=[{"x": 1}, {"x": 5}]), seed=0)
    assert pts["x"].tolist() == [1, 5]
    sob = design_points(
        {"k": Factor(values=["logit", "bass"])}, DesignConfig(kind="sobol", samples=8), seed=0
    )
    assert set(sob["k"]) == {"logit", "bass"}


def test_outcome_reducers():
    frame = pd.DataFrame(
        {"adoption_share": [0.0, 0.1, 0.4, 0.6, 0.6], "n_new_adopters": [0, 0, 3, 2, 0]}
    )
    got = evaluate_outcomes(
        {
            "final": "final(adoption_share)",
            "t50": "time_to(adoption_share, 0.5)",
            "t90": "time_to(adoption_share, 0.9)",
            "peak": "peak_change(adoption_share)",
            "first": "first_step(n_new_adopters)",
            "at10": "at(adoption_share, 10)",
        },
        frame,
    )
    assert got["final"] == 0.6 and got["t50"] == 3.0 and math.isnan(got["t90"])
    assert got["peak"] == pytest.approx(0.3) and got["first"] == 2.0 and got["at10"] == 0.6


# -- bad experiment files --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[design]\nkind = "sobl"\n[levers."imf.stance"]\nvalues = [0.5]', "did you mean 'sobol'"),
        ('[levers."rule.coef.a_per"]\nvalues = [1.0]', "a_peer"),
        ('[levers."imf.stance"]\nlow = 2.0\nhigh = 1.0', "low (2.0) must be below high"),
        ('[levers."imf.stance"]\nvalues = [0.5, 3.0]', "imf.stance"),
        ('replicatons = 2\n[levers."imf.stance"]\nvalues = [0.5]', "did you mean replications"),
        ('[levers."imf.stance"]\nvalues = [0.5]\n[outcomes]\nx = "fnal(adoption_share)"', "final"),
        ("[design]\nkind = ", "not valid TOML"),
    ],
)
def test_bad_experiment_files_give_one_line_errors_and_write_nothing(
    tmp_path, capsys, text, needle
):
    path = write(tmp_path, text)
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--backend", "serial", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("adoption-model: error:") and "\n" not in err and needle in err
    assert not out.exists()


# -- recorded seeds reproduce their runs -------------------------------------------------
REPRO_BASE = {"steps": 12, "network.kind": "erdos_renyi", "network.n": 50,
              "initial.seed_count": 2}  # fmt: skip
REPRO_FACTORS = {
    "uncertainties": {
        "rule.coef.a_peer": {"low": 0.5, "high": 4.0},
        "imf.stance": {"low": 0.0, "high": 1.0},
    },
    "levers": {"initial.seed_count": {"low": 1, "high": 4, "integer": True}},
}


@pytest.mark.parametrize(
    "design",
    [
        {"kind": "full_factorial"},
        {"kind": "sobol", "samples": 2},
        {"kind": "morris", "samples": 2, "levels": 4},
        {"kind": "latin_hypercube", "samples": 4},
        {"kind": "points", "points": [{"imf.stance": 0.5, "initial.seed_count": 3}]},
    ],
    ids=lambda d: d["kind"],
)
def test_recorded_seed_and_overrides_reproduce_the_run_exactly(tmp_path, design):
    """runs.parquet is a recipe: run(base + the row's factors, the row's seed) gives its row.

    Before the fix the seed went through a float64 pandas row (53 bits) and the run used
    another seed than the one recorded whenever a factor was a float.
    """
    from adoption_model.runner import run

    factors = {} if design["kind"] == "points" else REPRO_FACTORS
    if design["kind"] == "full_factorial":
        factors = {"uncertainties": {"imf.stance": {"low": 0.0, "high": 1.0, "levels": 2}},
                   "levers": {"rule.coef.a_peer": {"values": [0.5, 3.0]}}}  # fmt: skip
    exp = load_experiment(
        {"seed": 20250601, "replications": 2, "set": REPRO_BASE, "design": design, **factors}
    )
    runs = run_experiment(exp, tmp_path / "o", progress=False)
    assert (runs["status"] == "ok").all()
    assert runs["seed"].dtype == np.int64 and (runs["seed"] >= 2**53).any()
    names = list(exp.factors) or ["imf.stance", "initial.seed_count"]
    sample = runs.sample(n=min(3, len(runs)), random_state=0)
    for rid in sample["run_id"].tolist():
        row = runs[runs["run_id"] == rid]
        seed = int(row["seed"].iloc[0])  # one int64 column: exact
        overrides = {**REPRO_BASE, **{f: row[f].tolist()[0] for f in names}}
        frame = run(exp.base_scenario(), seed=seed, overrides=overrides).model_frame
        again = evaluate_outcomes(dict(exp.outcomes), frame)
        for name, value in again.items():
            recorded = float(row[name].iloc[0])
            assert (math.isnan(value) and math.isnan(recorded)) or value == recorded, (rid, name)


# -- store, failures, refusal ----------------------------------------------------------
def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    exp = load_experiment(
        {
            "seed": 1,
            "set": {"steps": 6, "network.kind": "erdos_renyi", "network.n": 40},
            "design": {
                "kind": "points",
                "points": [{"initial.seed_count": c} for c in (2, 400, 3)],
            },
            "store": {"chunk_runs": 2},
        }
    )
    runs = run_experiment(exp, tmp_path / "out", progress=False)
    assert runs["status"].tolist() == ["ok", "failed", "ok"]
    # every Parquet file says where it came from (pyarrow schema metadata)
    from adoption_model import __version__
    from adoption_model.experiments.store import read_provenance

    files = sorted((tmp_path / "out").rglob("*.parquet"))
    assert len(files) == 1 + 2 + 2  # runs.parquet, two runs parts, two steps parts
    for f in files:
        meta = read_provenance(f)
        assert meta["version"] == __version__ and meta["seed"] == 1
        assert meta["experiment_digest"] == exp.digest()
        assert meta["scenario_digests"] == [exp.base_scenario().digest()]
    import pyarrow.parquet as pq

    raw = pq.read_schema(tmp_path / "out" / "runs.parquet").metadata
    assert b"adoption_model.provenance" in raw
    assert "seed_count" in runs.loc[1, "error"] and runs.loc[0, "error"] == ""
    assert math.isnan(runs.loc[1, "final_adoption_share"])
    steps = read_steps(tmp_path / "out")
    assert set(steps["run_id"]) == {0, 2}
    assert (tmp_path / "out" / "runs.parquet").exists()


def test_other_experiment_against_existing_directory_is_refused(tmp_path, capsys):
    first = write(tmp_path, SMALL.format(kind="latin_hypercube", samples=2, chunk=2))
    assert main(["sweep", str(first), "--out", str(tmp_path / "o"), "--backend", "serial",
                 "--quiet"]) == 0  # fmt: skip
    before = sorted(p.name for p in (tmp_path / "o").rglob("*"))
    second = write(tmp_path, SMALL.format(kind="latin_hypercube", samples=3, chunk=2), "b.toml")
    code = main(["sweep", str(second), "--out", str(tmp_path / "o"), "--backend", "serial"])
    err = capsys.readouterr().err
    assert code == 2 and "different experiment" in err
    assert sorted(p.name for p in (tmp_path / "o").rglob("*")) == before
    # the stored, resolved experiment file is the same experiment: it resumes (nothing to do)
    stored = tmp_path / "o" / "experiment.toml"
    assert load_experiment(stored).digest() == load_experiment(first).digest()


# -- backends --------------------------------------------------------------------------
@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_results(tmp_path):
    path = write(tmp_path, SMALL.format(kind="sobol", samples=2, chunk=3))
    outs = {}
    for backend in ("serial", "processes", "dask"):
        out = tmp_path / backend
        runs = run_experiment(path, out, backend=backend, workers=2, progress=False)
        assert len(runs) == 2 * (2 + 2) * 2 and (runs["status"] == "ok").all()
        outs[backend] = out
    ref_runs, ref_steps = stable(read_runs(outs["serial"])), read_steps(outs["serial"])
    for backend in ("processes", "dask"):
        pd.testing.assert_frame_equal(stable(read_runs(outs[backend])), ref_runs)
        pd.testing.assert_frame_equal(read_steps(outs[backend]), ref_steps)


@pytest.mark.slow
def test_sigkill_and_resume_gives_the_uninterrupted_dataset(tmp_path):
    path = write(tmp_path, SMALL.format(kind="latin_hypercube", samples=12, chunk=2))
    reference = tmp_path / "reference"
    run_experiment(path, reference, backend="serial", progress=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "adoption_model", "sweep", str(path), "--out", str(out),
           "--backend", "serial", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "runs").glob("part-*.parquet"))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    parts = len(list((out / "runs").glob("part-*.parquet")))
    assert 3 <= parts < 12 and not (out / "runs.parquet").exists()
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(stable(read_runs(out)), stable(read_runs(reference)))
    pd.testing.assert_frame_equal(read_steps(out), read_steps(reference))
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert names == sorted(
        p.relative_to(reference).as_posix() for p in reference.rglob("*.parquet")
    )


@pytest.mark.slow
def test_killed_dask_worker_loses_no_runs(tmp_path):
    from distributed import Client, LocalCluster

    path = write(tmp_path, SMALL.format(kind="latin_hypercube", samples=24, chunk=4))
    reference = tmp_path / "reference"
    run_experiment(path, reference, backend="serial", progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        out = tmp_path / "dask"
        killed: list[int] = []

        def kill_one() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if len(list((out / "runs").glob("part-*.parquet"))) >= 2:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_one)
        killer.start()
        runs = run_experiment(
            path, out, backend="dask", scheduler=cluster.scheduler_address, progress=False
        )
        killer.join()
    assert killed, "no worker was killed"
    assert len(runs) == 48 and (runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(stable(runs), stable(read_runs(reference)))


# -- analysis --------------------------------------------------------------------------
def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Analytic first-order and total indices (Ishigami and Homma 1990)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def test_sobol_indices_of_ishigami_match_analytic_values():
    factors = {f"x{i}": Factor(low=-math.pi, high=math.pi) for i in (1, 2, 3)}
    design = DesignConfig(kind="sobol", samples=1024)
    pts = design_points(factors, design, seed=5)
    table = sobol_indices(factors, design, ishigami(pts.to_numpy(dtype=float)), seed=5)
    s1, st = ishigami_indices()
    assert np.all(np.abs(table["S1"] - s1) <= table["S1_conf"])
    assert np.all(np.abs(table["ST"] - st) <= table["ST_conf"])
    assert table["S1_conf"].max() < 0.1


def test_analyze_writes_sobol_csv_charts_and_warns_on_non_power_of_two(tmp_path, capsys):
    path = write(tmp_path, SMALL.format(kind="sobol", samples=3, chunk=50))
    out = tmp_path / "o"
    with pytest.warns(UserWarning, match="power of two"):
        run_experiment(path, out, backend="serial", progress=False)
    assert main(["analyze", str(out)]) == 0
    captured = capsys.readouterr()
    assert "power of two" in captured.err
    sobol = pd.read_csv(out / "analysis" / "sobol.csv")
    assert {"outcome", "factor", "S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns)
    assert set(sobol["factor"]) == {"rule.coef.a_peer", "rule.coef.a0"}
    means = pd.read_csv(out / "analysis" / "point_means.csv")
    assert len(means) == 3 * 4 * len(load_experiment(path).outcomes)
    assert (means["ci_low"] <= means["mean"]).all() or means["ci_low"].isna().any()
    # bounded outcomes get bootstrap intervals inside their range, peak_change a t-interval
    methods = means.groupby("outcome")["interval"].agg(set).to_dict()
    assert methods["peak_adoption_rate"] == {"t"}
    assert methods["final_adoption_share"] == {"bootstrap"}
    share = means[means["outcome"] == "final_adoption_share"].dropna(subset=["ci_low"])
    assert len(share) and share["ci_low"].ge(0).all() and share["ci_high"].le(1).all()
    for f in ("sobol.png", "point_means.png", "report.html"):
        assert (out / "analysis" / f).stat().st_size > 1000
    assert "<svg" in (out / "analysis" / "report.html").read_text()


def test_analyze_refuses_a_directory_that_is_not_a_results_store(tmp_path):
    with pytest.raises(InputError, match="not an experiment results directory"):
        analyze(tmp_path)
