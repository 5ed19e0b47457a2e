"""A results store that verifies: every damage of issue 15 on a real sweep, repaired or refused.

Each test copies a real sweep's store, damages it as the issue did (an extra chunk, a chunk
replaced by another's file, a deleted steps part, a corrupt chunk, failed runs, garbage
provenance), resumes it with the real CLI and checks that the rejected file is named on
one line and that the data are those of the undamaged sweep. Two real processes contend for
one directory's lock; damaged package data make real runs fail and ``--retry-failed``
reruns them once the data are whole again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from adoption_model.cli import main
from adoption_model.errors import InputError
from adoption_model.experiments import (
    VOLATILE_COLUMNS,
    analyze,
    load_experiment,
    read_runs,
    read_steps,
    run_experiment,
    run_table,
)
from adoption_model.experiments.analyze import check_runs

ROOT = Path(__file__).resolve().parents[1]

TINY = """
name = "tiny"
seed = 5
replications = 2

[set]
steps = 10
"network.kind" = "erdos_renyi"
"network.n" = 40
"initial.seed_count" = 2

[design]
kind = "latin_hypercube"
samples = {samples}

[uncertainties."rule.coef.a_peer"]
low = 0.5
high = 4.0

[store]
chunk_runs = 2
"""


def stable(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=list(VOLATILE_COLUMNS))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """The experiment file and an undamaged store of it (4 points x 2 = 8 runs, 4 chunks)."""
    d = tmp_path_factory.mktemp("reference")
    path = d / "tiny.toml"
    path.write_text(TINY.format(samples=4), encoding="utf-8")
    run_experiment(path, d / "store", backend="serial", progress=False)
    return path, d / "store"


def copy_store(reference: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    path, store = reference
    out = tmp_path / "store"
    shutil.copytree(store, out)
    return path, out


def sweep(path: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(path), "--out", str(out), "--backend", "serial", "--quiet", *extra])


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("adoption-model: warning")]


def same_data(out: Path, reference: tuple[Path, Path]) -> None:
    ref = reference[1]
    pd.testing.assert_frame_equal(stable(read_runs(out)), stable(read_runs(ref)))
    pd.testing.assert_frame_equal(read_steps(out), read_steps(ref))


def test_an_extra_chunk_is_named_and_never_read(reference, tmp_path, capsys):
    path, out = copy_store(reference, tmp_path)
    shutil.copy(out / "runs" / "part-00000.parquet", out / "runs" / "part-00099.parquet")
    # the issue: analyze counted n = 4 replicates instead of 2 from the duplicated rows
    (out / "runs.parquet").unlink()
    means = analyze(out, tmp_path / "a")["point_means"]
    assert means["n"].max() == 2
    pd.testing.assert_frame_equal(means, analyze(reference[1], tmp_path / "b")["point_means"])
    assert sweep(path, out) == 0
    lines = warnings_of(capsys.readouterr().err)
    assert len(lines) == 1 and "runs/part-00099.parquet: not part of the design" in lines[0]
    same_data(out, reference)
    assert len(read_runs(out)) == 8 and read_runs(out)["run_id"].is_unique


def test_an_extra_chunk_with_a_forged_manifest_is_refused_by_analyze(reference, tmp_path, capsys):
    """A chunk 99 whose manifest checks out (it lists chunk 0's runs): analyze counts them."""
    path, out = copy_store(reference, tmp_path)
    for folder, ext in (("runs", "parquet"), ("steps", "parquet"), ("manifests", "json")):
        shutil.copy(out / folder / f"part-00000.{ext}", out / folder / f"part-00099.{ext}")
    manifest = json.loads((out / "manifests" / "part-00099.json").read_text())
    manifest["chunk"] = 99
    (out / "manifests" / "part-00099.json").write_text(json.dumps(manifest))
    (out / "runs.parquet").unlink()
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "2 duplicated of the design's 8 runs (10 rows" in err
    assert not (out / "analysis").exists()


def test_a_chunk_replaced_by_another_chunks_file_is_rerun(reference, tmp_path, capsys):
    path, out = copy_store(reference, tmp_path)
    shutil.copy(out / "runs" / "part-00000.parquet", out / "runs" / "part-00001.parquet")
    (out / "runs.parquet").unlink()
    assert main(["analyze", str(out)]) == 2  # refused, naming the file, before any repair
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "runs/part-00001.parquet: damaged or replaced" in err
    assert sweep(path, out) == 0
    lines = warnings_of(capsys.readouterr().err)
    assert len(lines) == 1 and "runs/part-00001.parquet" in lines[0] and "chunk 1 runs" in lines[0]
    same_data(out, reference)


def test_a_deleted_steps_part_is_rerun(reference, tmp_path, capsys):
    path, out = copy_store(reference, tmp_path)
    (out / "steps" / "part-00002.parquet").unlink()
    with pytest.raises(InputError, match="steps/part-00002.parquet: unreadable"):
        read_steps(out)
    assert sweep(path, out) == 0
    lines = warnings_of(capsys.readouterr().err)
    assert len(lines) == 1 and "steps/part-00002.parquet: missing" in lines[0]
    same_data(out, reference)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_corrupt_chunk_is_rerun_not_an_arrow_error(reference, tmp_path, capsys, damage):
    path, out = copy_store(reference, tmp_path)
    part = out / "runs" / "part-00003.parquet"
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2] if damage == "truncate" else os.urandom(len(data)))
    (out / "runs.parquet").unlink()
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "runs/part-00003.parquet" in err and "Arrow" not in err
    assert sweep(path, out) == 0
    lines = warnings_of(capsys.readouterr().err)
    assert len(lines) == 1 and "runs/part-00003.parquet" in lines[0]
    same_data(out, reference)


@pytest.mark.parametrize("damage", ["garbage", "missing", "both missing"])
def test_missing_or_garbage_provenance_is_rebuilt(reference, tmp_path, capsys, damage):
    path, out = copy_store(reference, tmp_path)
    prov = out / "provenance.json"
    if damage == "garbage":
        prov.write_bytes(b"\x00not json{")
    else:
        prov.unlink()
    if damage == "both missing":
        (out / "experiment.toml").unlink()  # the chunk manifests still name the experiment
    assert sweep(path, out) == 0
    lines = warnings_of(capsys.readouterr().err)
    assert any("provenance.json: missing or unreadable; rebuilt" in line for line in lines)
    record = json.loads(prov.read_text())
    assert record["experiment_hash"] == load_experiment(path).digest()
    assert load_experiment(out / "experiment.toml").digest() == record["experiment_hash"]
    same_data(out, reference)


def test_garbage_provenance_of_another_experiment_is_still_refused(reference, tmp_path, capsys):
    _, out = copy_store(reference, tmp_path)
    (out / "provenance.json").write_text("{")
    other = tmp_path / "other.toml"
    other.write_text(TINY.format(samples=5), encoding="utf-8")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert sweep(other, out) == 2
    assert "different experiment" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_analyze_refuses_missing_runs_and_bad_columns_with_one_line(reference, tmp_path, capsys):
    path, out = copy_store(reference, tmp_path)
    (out / "runs.parquet").unlink()
    (out / "manifests" / "part-00001.json").unlink()  # chunk 1 no longer committed
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "2 missing of the design's 8 runs (6 rows stored)" in err
    exp = load_experiment(path)
    runs, design = read_runs(reference[1]), run_table(exp)
    outcomes = list(exp.outcomes)
    with pytest.raises(InputError, match="column\\(s\\) status missing") as missing:
        check_runs(out, runs.drop(columns="status"), design, outcomes, list(exp.factors))
    with pytest.raises(InputError, match="holds object values, not numbers") as text:
        check_runs(out, runs.astype({outcomes[0]: str}), design, outcomes, list(exp.factors))
    for exc in (missing, text):
        assert "\n" not in str(exc.value)
    # an existing file where the analysis directory goes
    (reference_copy := tmp_path / "again").mkdir()
    shutil.copytree(reference[1], reference_copy / "s")
    (reference_copy / "s" / "analysis").write_text("not a directory")
    assert main(["analyze", str(reference_copy / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "analysis: exists and is not a directory" in err


def test_analyze_replaces_a_previous_analysis_only_when_complete(reference, tmp_path):
    _, out = copy_store(reference, tmp_path)
    analyze(out)
    (out / "analysis" / "my-notes.txt").write_text("kept")
    (out / "analysis" / "sobol.csv").write_text("stale: this design has no Sobol' table")
    analyze(out)
    names = sorted(p.name for p in (out / "analysis").iterdir())
    assert names == ["my-notes.txt", "point_means.csv", "point_means.png", "report.html"]
    assert not [p for p in out.iterdir() if p.name.startswith(".analysis")]


# -- two real processes ----------------------------------------------------------------------
def _start(path: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "adoption_model", "sweep", str(path), "--out", str(out),
           "--backend", "serial", "--quiet", *extra]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_second_sweep_on_the_same_directory_refuses_naming_the_pid_or_waits(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(samples=24), encoding="utf-8")
    out = tmp_path / "out"
    first = _start(path, out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "manifests").glob("part-*.json")):
        time.sleep(0.05)
    first.send_signal(signal.SIGSTOP)  # paused mid-sweep, holding its locks and temp files
    try:
        assert first.poll() is None, "the first sweep ended before the second could start"
        second = _start(path, out)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2, err
        assert err.strip().count("\n") == 0 and f"another sweep (PID {first.pid})" in err
        waiting = _start(path, out, "--wait")  # waits for the first, then has nothing to run
        time.sleep(3)
        assert waiting.poll() is None  # still waiting
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=300) == 0, first.stderr.read()  # its files were left alone
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    runs = read_runs(out)
    assert len(runs) == 48 and runs["run_id"].is_unique and (runs["status"] == "ok").all()
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["sessions"]) == 2  # the refused sweep opened no session


# -- failed runs, retried on request -----------------------------------------------------------
POINTS = """
name = "mixed"
seed = 3
replications = 2

[set]
steps = 6
"network.n" = 40

[design]
kind = "points"
points = [{"network.kind" = "erdos_renyi"}, {"network.kind" = "real"}]

[store]
chunk_runs = 3
"""


def _package_copy(tmp_path: Path) -> Path:
    """A copy of the package (symlinks followed) that a subprocess imports instead."""
    root = tmp_path / "pkg"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "adoption_model", root / "adoption_model", symlinks=False, ignore=ignore)
    return root


@pytest.mark.slow
def test_failed_runs_are_retried_on_request_keeping_the_others(tmp_path):
    path = tmp_path / "mixed.toml"
    path.write_text(POINTS, encoding="utf-8")
    reference = tmp_path / "reference"
    assert sweep(path, reference) == 0
    pkg = _package_copy(tmp_path)
    borders = pkg / "adoption_model" / "data" / "land_borders.csv"
    whole = borders.read_bytes()
    borders.write_bytes(whole[:700])  # the real-graph runs fail; the synthetic ones do not
    env = {**os.environ, "PYTHONPATH": str(pkg)}  # run from tmp_path: -m puts the cwd first
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "adoption_model", "sweep", str(path), "--out", str(out),
           "--backend", "serial", "--quiet"]  # fmt: skip
    kw = {"env": env, "capture_output": True, "text": True, "timeout": 300, "cwd": tmp_path}
    done = subprocess.run(cmd, **kw)
    assert done.returncode in (0, 1), done.stderr
    runs = read_runs(out)
    assert runs["status"].tolist() == ["ok", "ok", "failed", "failed"]
    assert "land_borders.csv: damaged" in runs.loc[2, "error"]
    again = subprocess.run(cmd, **kw)
    assert read_runs(out)["status"].tolist() == ["ok", "ok", "failed", "failed"], again.stderr
    before = read_runs(out)["duration_s"].iloc[:2].tolist()
    borders.write_bytes(whole)  # the data whole again: failed runs rerun only on request
    retry = subprocess.run([*cmd, "--retry-failed"], **kw)
    assert retry.returncode == 0, retry.stderr
    pd.testing.assert_frame_equal(stable(read_runs(out)), stable(read_runs(reference)))
    pd.testing.assert_frame_equal(read_steps(out), read_steps(reference))
    assert read_runs(out)["duration_s"].iloc[:2].tolist() == before  # kept, not rerun
    first = json.loads((out / "manifests" / "part-00000.json").read_text())
    assert first["failed"] == [] and first["run_ids"] == [0, 1, 2]


@pytest.mark.parametrize(
    "damage",
    [
        ("land_borders.csv", lambda b: b[:700]),
        ("nations.csv", lambda b: b.replace(b"\nAFG,", b"\nZZZ,", 1)),
        ("nations.csv", lambda b: b.replace(b",17778500000,", b",1e308,", 1)),
        # the fitted files the defaults come from are package data too
        ("logit_fit.toml", lambda b: b.replace(b"a_peer = 1.9425", b"a_peer = 9.9425", 1)),
        ("market_fit.toml", lambda b: b[:-40]),
        ("imf_programmes.toml", lambda b: b + b"\n# edited\n"),
    ],
    ids=["truncated-borders", "code-ZZZ", "value-1e308", "logit-fit", "market-fit", "imf"],
)
def test_damaged_package_data_is_refused_naming_the_file(tmp_path, damage):
    name, edit = damage
    pkg = _package_copy(tmp_path)
    target = pkg / "adoption_model" / "data" / name
    before = target.read_bytes()
    target.write_bytes(edit(before))
    assert target.read_bytes() != before
    env = {**os.environ, "PYTHONPATH": str(pkg)}
    done = subprocess.run(
        [sys.executable, "-m", "adoption_model", "run", "baseline", "--steps", "2"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    err = done.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert f"{target}: damaged" in err and "reinstall adoption-model" in err


def test_the_checksums_match_the_shipped_files_and_the_check_is_cached(tmp_path):
    from adoption_model.data import CHECKSUMS, DATA_DIR, verify

    listed = (DATA_DIR / CHECKSUMS).read_text().splitlines()
    names = {line.split("  ", 1)[1] for line in listed}
    assert {"nations.csv", "land_borders.csv", "blocs.csv", "centroid_distances_km.csv",
            "nation_values.csv", "sources.toml", "imf_programmes.toml", "logit_fit.toml",
            "market_fit.toml", "posterior.parquet", "panel.parquet",
            "panel_provenance.json"} <= names  # fmt: skip
    shipped = {p.name for p in DATA_DIR.iterdir() if p.suffix in (".csv", ".toml", ".parquet",
                                                                   ".json", ".md")}  # fmt: skip
    assert shipped - {"README.md"} == names  # every data file is listed
    for name in names:
        verify(DATA_DIR / name)
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    verify(copy / "blocs.csv")
    with open(copy / "blocs.csv", "ab") as handle:  # grows: size and mtime change the key
        handle.write(b"XXX,EU,x\n")
    with pytest.raises(InputError, match="blocs.csv: damaged"):
        verify(copy / "blocs.csv")
    other = tmp_path / "other"
    shutil.copytree(copy, other)
    (other / CHECKSUMS).unlink()
    with pytest.raises(InputError, match="SHA256SUMS: unreadable"):
        verify(other / "nations.csv")


def test_update_checksums_sets_the_named_entries_and_keeps_the_others(tmp_path):
    """Each tool that writes package data lists what it wrote, keeping the others' lines."""
    from adoption_model.data import CHECKSUMS, DATA_DIR, update_checksums, verify

    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = (copy / CHECKSUMS).read_text().splitlines()
    (copy / "market_fit.toml").write_text("# refitted\n", encoding="utf-8")
    with pytest.raises(InputError, match="market_fit.toml: damaged"):
        verify(copy / "market_fit.toml")
    update_checksums(copy, ["market_fit.toml"])
    verify(copy / "market_fit.toml")
    after = (copy / CHECKSUMS).read_text().splitlines()
    changed = [b for b, a in zip(before, after, strict=True) if a != b]
    assert len(after) == len(before) and [c.split("  ")[1] for c in changed] == ["market_fit.toml"]
    assert after == sorted(after, key=lambda line: line.split("  ")[1])
