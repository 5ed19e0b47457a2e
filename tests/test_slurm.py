"""Sweeps on a real SLURM: dask-jobqueue batch jobs, a job array of shards, cancelled jobs.

Needs a running SLURM whose node is idle (``.ci/slurm-up`` starts a single-node one as
root; ``.ci/run`` does that before the tests). Without it these tests skip with the reason,
except under ``CI=true`` where that is a failure. Every sweep must give the serial
backend's ``runs.parquet`` (apart from ``duration_s`` and ``host``) and per-step data, with
each run exactly once, even when a job is cancelled (``scancel``) part-way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from adoption_model.experiments import (
    VOLATILE_COLUMNS,
    read_runs,
    read_steps,
    run_experiment,
)

pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(600)]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent
ARRAY_SCRIPT = ROOT / "examples" / "slurm" / "sweep-array.sbatch"

#: 24 runs in 12 chunks (heavy enough that a job is still running when it is cancelled).
EXPERIMENT = """
name = "slurm_small"
seed = 5
replications = 2

[set]
steps = 60
"network.kind" = "erdos_renyi"
"network.n" = 3000
"initial.seed_count" = 2

[design]
kind = "latin_hypercube"
samples = 12

[uncertainties."rule.coef.a_peer"]
low = 0.5
high = 4.0

[levers."imf.stance"]
low = 0.0
high = 1.0

[store]
chunk_runs = 2

[run]
# one chunk per ensemble batch: a shard's chunks land one by one, so a task cancelled
# part-way has finished some and not others (in a batch of all its runs it would write
# them all at once)
batch_size = 2
"""


def _slurm_problem() -> str | None:
    for cmd in ("sbatch", "squeue", "scancel", "sinfo"):
        if shutil.which(cmd) is None:
            return f"{cmd} is not installed (run .ci/slurm-up as root)"
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return "sinfo does not answer (run .ci/slurm-up as root)"
    states = out.stdout.split()
    if out.returncode != 0 or not any(s.rstrip("*") in ("idle", "mix", "alloc") for s in states):
        return f"no SLURM node is up (sinfo: {out.stdout.strip() or out.stderr.strip()})"
    try:
        import dask_jobqueue  # noqa: F401
    except ImportError:
        return "dask-jobqueue is not installed (pip install -e '.[cluster]')"
    return None


@pytest.fixture(scope="module")
def slurm() -> None:
    reason = _slurm_problem()
    if reason:
        if IN_CI:
            pytest.fail(f"SLURM tests cannot run under CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The experiment file and its serial-backend results."""
    d = tmp_path_factory.mktemp("slurm-ref")
    exp = d / "exp.toml"
    exp.write_text(EXPERIMENT, encoding="utf-8")
    run_experiment(exp, d / "serial", backend="serial", progress=False)
    return exp, d / "serial"


def _assert_same_dataset(out: Path, ref: Path) -> None:
    runs = read_runs(out)
    assert (out / "runs.parquet").exists()
    assert runs["run_id"].is_unique and len(runs) == len(read_runs(ref))
    assert (runs["status"] == "ok").all(), runs.loc[runs["status"] != "ok", "error"].tolist()
    drop = list(VOLATILE_COLUMNS)
    pd.testing.assert_frame_equal(runs.drop(columns=drop), read_runs(ref).drop(columns=drop))
    steps = read_steps(out)
    assert not steps.duplicated(["run_id", "step"]).any()
    pd.testing.assert_frame_equal(steps, read_steps(ref))


def _jobs(name: str) -> dict[str, str]:
    """Job id -> state of this test's jobs still known to SLURM."""
    out = subprocess.run(
        ["squeue", "-h", "-n", name, "-o", "%i %T"], capture_output=True, text=True, check=True
    )
    return dict(line.split() for line in out.stdout.splitlines() if line.strip())


def _chunks(out: Path) -> set[int]:
    return {int(f.stem.split("-")[1]) for f in (out / "runs").glob("part-*.parquet")}


def _wait(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def test_slurmcluster_sweep_survives_a_cancelled_job(slurm, reference, tmp_path):
    """--backend slurm: two sbatch worker jobs; one is scancelled after the first chunks."""
    exp, ref = reference
    name = f"am-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "cluster.toml"
    config.write_text(
        f'[slurm]\njob_name = "{name}"\ninterface = "lo"\nmemory = "1GiB"\n'
        'walltime = "00:15:00"\ncores = 1\njobs = 2\n',
        encoding="utf-8",
    )
    out = tmp_path / "slurm"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "adoption_model", "sweep", str(exp), "--backend", "slurm",
         "--cluster-config", str(config), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait(lambda: len(_jobs(name)) == 2, 120, "two worker jobs in squeue")
        _wait(lambda: len(_chunks(out)) >= 1 or sweep.poll() is not None, 240, "a first chunk")
        running = sorted(j for j, state in _jobs(name).items() if state == "RUNNING")
        assert sweep.poll() is None and running, "the sweep ended before a job could be cancelled"
        subprocess.run(["scancel", running[0]], check=True)
        assert len(_chunks(out)) < 12, "every chunk was done before the job was cancelled"
        output, _ = sweep.communicate(timeout=400)
    finally:
        if sweep.poll() is None:
            sweep.kill()
        subprocess.run(["scancel", "-n", name], check=False)
    assert sweep.returncode == 0, output
    assert running[0] not in _jobs(name)
    assert (out / "slurm-logs").is_dir()  # the worker jobs' output files land with the results
    _assert_same_dataset(out, ref)


def _array(exp: Path, out: Path, name: str, tasks: int) -> str:
    """Submit the documented job-array script; return the array's job id."""
    env = {**os.environ, "PYTHON": sys.executable}
    res = subprocess.run(
        ["sbatch", "--parsable", f"--array=0-{tasks - 1}", f"--job-name={name}",
         f"--output={out.parent}/{name}-%A_%a.out", str(ARRAY_SCRIPT), str(exp), str(out)],
        capture_output=True, text=True, check=True, env=env, cwd=out.parent,
    )  # fmt: skip
    return res.stdout.strip().split(";")[0]


def test_job_array_of_shards_gives_the_serial_dataset(slurm, reference, tmp_path):
    """sbatch --array of `sweep --shard slurm`, then a final sweep that finishes the dataset."""
    exp, ref = reference
    name = f"am-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "array"
    _array(exp, out, name, tasks=3)
    _wait(lambda: not _jobs(name), 400, "the array's tasks to finish")
    assert len(_chunks(out)) == 12 and not (out / "runs.parquet").exists()
    logs = "".join(p.read_text() for p in tmp_path.glob(f"{name}-*.out"))
    assert "shard" in logs and "Traceback" not in logs, logs
    final = subprocess.run(
        [sys.executable, "-m", "adoption_model", "sweep", str(exp), "--out", str(out),
         "--backend", "serial", "--quiet"], capture_output=True, text=True,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    _assert_same_dataset(out, ref)


def test_cancelled_array_task_is_filled_in_by_the_final_sweep(slurm, reference, tmp_path):
    """scancel one array task part-way: its remaining chunks are run by the final sweep."""
    exp, ref = reference
    name = f"am-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "array"
    job = _array(exp, out, name, tasks=2)
    shard0 = {k for k in range(12) if k % 2 == 0}
    try:
        _wait(lambda: bool(_chunks(out) & shard0) or not _jobs(name), 300, "shard 0's first chunk")
        subprocess.run(["scancel", f"{job}_0"], check=True)
        _wait(lambda: not _jobs(name), 400, "the array's tasks to end")
    finally:
        subprocess.run(["scancel", "-n", name], check=False)
    missing = shard0 - _chunks(out)
    assert missing, "shard 0 finished before it was cancelled; the test needs heavier runs"
    assert _chunks(out) >= shard0 ^ set(range(12))  # the other shard ran to the end
    final = subprocess.run(
        [sys.executable, "-m", "adoption_model", "sweep", str(exp), "--out", str(out),
         "--backend", "serial", "--verbose"], capture_output=True, text=True,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    assert f"resuming: {24 - 2 * len(missing)} done" in final.stderr or "resuming" in final.stderr
    _assert_same_dataset(out, ref)
