"""A full disk: run, compare, analyze and sweep end with one line, never half a result.

For real on a 2 MiB tmpfs (mounted by the test; root can, others skip saying why, and CI
fails instead of skipping), plus a write that fails on purpose (ENOSPC raised by the
writer) where a tmpfs cannot be mounted. The previous result, if any, is left as it was;
a sweep stopped by a full disk resumes to the undamaged dataset once there is space.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from adoption_model.cli import main
from adoption_model.experiments import VOLATILE_COLUMNS, read_runs, read_steps, run_experiment

TINY = """
name = "tiny"
seed = 5
replications = 2

[set]
steps = 24
"network.kind" = "erdos_renyi"
"network.n" = 60
"initial.seed_count" = 2

[design]
kind = "latin_hypercube"
samples = 12

[uncertainties."rule.coef.a_peer"]
low = 0.5
high = 4.0

[store]
chunk_runs = 2
"""


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A 2 MiB tmpfs at tmp_path/disk, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave: int) -> Path:
    """Fill the file system at ``mount`` until about ``leave`` bytes are free."""
    stat = os.statvfs(mount)
    free = stat.f_bavail * stat.f_frsize
    filler = mount / "filler"
    with open(filler, "ab") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert "No space left on device" in err
    return err


def hidden(d: Path) -> list[str]:
    return [p.name for p in d.iterdir() if p.name.startswith(".")]


def test_run_on_a_full_disk_leaves_the_previous_result(tmpfs, capsys):
    out = tmpfs / "run"
    assert main(["run", "baseline", "--steps", "3", "--seed", "1", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fill(tmpfs, leave=8_000)
    capsys.readouterr()
    assert main(["run", "baseline", "--steps", "6", "--seed", "2", "--out", str(out)]) == 2
    assert "run: cannot write the results" in one_line_error(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert hidden(tmpfs) == []


def test_run_on_a_full_disk_without_a_previous_result_leaves_nothing(tmpfs, capsys):
    fill(tmpfs, leave=8_000)
    assert main(["run", "baseline", "--steps", "3", "--out", str(tmpfs / "run")]) == 2
    one_line_error(capsys)
    assert sorted(p.name for p in tmpfs.iterdir()) == ["filler"]


def test_compare_on_a_full_disk_writes_no_half_report(tmpfs, capsys):
    out = tmpfs / "cmp"
    fill(tmpfs, leave=150_000)  # the runs' store may fit, the report does not
    code = main(["compare", "baseline", "contagion_off", "--replications", "2", "--steps", "3",
                 "--out", str(out)])  # fmt: skip
    assert code == 2
    one_line_error(capsys)
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert left in ([], ["store"])  # at most the resumable runs store, never tables alone


def test_analyze_on_a_full_disk_leaves_the_previous_analysis(tmp_path, tmpfs, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY, encoding="utf-8")
    run_experiment(exp, tmp_path / "store", backend="serial", progress=False)
    store = tmpfs / "store"
    shutil.copytree(tmp_path / "store", store)
    assert main(["analyze", str(store)]) == 0
    before = {p.name: p.read_bytes() for p in (store / "analysis").iterdir()}
    fill(tmpfs, leave=4_000)
    capsys.readouterr()
    assert main(["analyze", str(store)]) == 2
    assert "analysis: cannot write the results" in one_line_error(capsys)
    assert {p.name: p.read_bytes() for p in (store / "analysis").iterdir()} == before
    assert not [n for n in hidden(store) if n.startswith(".analysis")]


@pytest.mark.slow
def test_a_sweep_stopped_by_a_full_disk_resumes_to_the_whole_dataset(tmp_path, tmpfs, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY, encoding="utf-8")
    reference = tmp_path / "reference"
    run_experiment(exp, reference, backend="serial", progress=False)
    out = tmpfs / "sweep"
    filler = fill(tmpfs, leave=60_000)  # room for a few chunks of twelve
    args = ["sweep", str(exp), "--out", str(out), "--backend", "serial", "--quiet"]
    assert main(args) == 2
    err = one_line_error(capsys)
    assert "run the same sweep again to resume" in err
    filler.unlink()
    assert main(args) == 0
    stable = [c for c in read_runs(reference).columns if c not in VOLATILE_COLUMNS]
    pd.testing.assert_frame_equal(read_runs(out)[stable], read_runs(reference)[stable])
    pd.testing.assert_frame_equal(read_steps(out), read_steps(reference))


@pytest.mark.slow
def test_a_sweep_with_almost_no_space_resumes(tmp_path, tmpfs, capsys):
    """The issue: empty directories left behind, then a refusal to resume."""
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY.replace("samples = 12", "samples = 2"), encoding="utf-8")
    out = tmpfs / "sweep"
    filler = fill(tmpfs, leave=0)
    args = ["sweep", str(exp), "--out", str(out), "--backend", "serial", "--quiet"]
    assert main(args) == 2
    one_line_error(capsys)
    filler.unlink()
    assert main(args) == 0
    assert len(read_runs(out)) == 4


# -- a write that fails on purpose (no mount needed) -------------------------------------------
def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "report.md")


def test_run_save_that_fails_midway_keeps_the_previous_result(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert main(["run", "baseline", "--steps", "3", "--seed", "1", "--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(pd.DataFrame, "to_csv", _enospc)  # after model.parquet is written
    capsys.readouterr()
    assert main(["run", "baseline", "--steps", "4", "--seed", "2", "--out", str(out)]) == 2
    one_line_error(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert hidden(tmp_path) == []
    monkeypatch.undo()
    assert main(["run", "baseline", "--steps", "4", "--seed", "2", "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text() == "mine"  # not this writer's: kept
    assert (out / "summary.json").read_bytes() != before["summary.json"]


def test_compare_save_that_fails_keeps_the_store_and_the_previous_report(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "cmp"
    args = ["compare", "baseline", "contagion_off", "--replications", "2", "--steps", "3",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    from pathlib import Path as _Path

    real = _Path.write_text

    def failing(self, text, *a, **k):
        if self.name == "report.md":
            _enospc()
        return real(self, text, *a, **k)

    monkeypatch.setattr(_Path, "write_text", failing)
    capsys.readouterr()
    assert main(args) == 2
    one_line_error(capsys)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert (out / "store" / "runs.parquet").exists()
