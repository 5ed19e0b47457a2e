"""Scenario comparison: common random numbers, paired differences, stored runs, the CLI."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import adoption_model
from adoption_model.compare import OUTCOMES, compare
from adoption_model.errors import InputError
from adoption_model.experiments.stats import interval, row_rng
from adoption_model.experiments.store import read_provenance
from adoption_model.seeds import replicate_seeds


@pytest.fixture(scope="module")
def small() -> adoption_model.compare.Comparison:
    return compare(["baseline", "contagion_off", "baseline"], replications=4, seed=9, steps=24)


def test_common_random_numbers_same_seeds_for_every_scenario(small) -> None:
    expected = replicate_seeds(9, 4)
    for label in small.labels:
        runs = small.runs[small.runs["scenario"] == label].sort_values("replicate")
        assert runs["seed"].tolist() == expected
    assert small.seeds == expected
    assert small.labels == ["baseline", "contagion_off", "baseline#2"]


def test_self_difference_is_exactly_zero(small) -> None:
    d = small.differences
    for label in ("baseline", "baseline#2"):
        sub = d[d["scenario"] == label]
        finite = sub[sub["n_pairs"] > 0]
        assert len(finite) >= 5
        for col in ("mean_difference", "sd", "ci_low", "ci_high"):
            assert (finite[col] == 0.0).all(), (label, col)
    # same seeds and same scenario: identical trajectories, replicate by replicate
    t = small.trajectories
    a = t[t["scenario"] == "baseline"].reset_index(drop=True)
    b = t[t["scenario"] == "baseline#2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="scenario"), b.drop(columns="scenario"))


def test_contagion_changes_outcomes(small) -> None:
    d = small.differences.set_index(["scenario", "outcome"])
    # switching contagion off cannot raise adoption in any replicate here and lowers it on
    # average: the comparison sees a real difference
    assert d.loc[("contagion_off", "adoption_share"), "mean_difference"] < 0


def test_numbers_equal_those_recomputed_from_stored_runs(small, tmp_path: Path) -> None:
    small.save(tmp_path)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    outcomes = pd.read_parquet(tmp_path / "outcomes.parquet").set_index(["scenario", "outcome"])
    diffs = pd.read_parquet(tmp_path / "differences.parquet").set_index(["scenario", "outcome"])
    ref = runs[runs["scenario"] == "baseline"].sort_values("replicate")
    for label in small.labels:
        sub = runs[runs["scenario"] == label].sort_values("replicate")
        for key in OUTCOMES:
            x = sub[key].to_numpy(dtype=float)
            x = x[~np.isnan(x)]
            row = outcomes.loc[(label, key)]
            assert row["n"] == len(x)
            # each row's interval, recomputed from runs.parquet by the method it names
            method = "wilson" if key.startswith("reached") else "bootstrap"
            assert row["interval"] == method
            again = interval(x, method, rng=row_rng(9, "level", key))
            if len(x) >= 2:
                assert row["mean"] == pytest.approx(x.mean(), rel=1e-12, abs=1e-12)
                assert (row["ci_low"], row["ci_high"]) == (again.low, again.high)
                assert x.min() <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= x.max() or (
                    method == "wilson" and 0 <= row["ci_low"] <= row["ci_high"] <= 1
                )
            d = sub[key].to_numpy(dtype=float) - ref[key].to_numpy(dtype=float)
            d = d[~np.isnan(d)]
            if len(d):
                drow = diffs.loc[(label, key)]
                assert drow["mean_difference"] == pytest.approx(d.mean(), abs=1e-9)
                assert drow["interval"] == "bootstrap"
                if len(d) >= 2:
                    assert d.min() <= drow["ci_low"] <= drow["ci_high"] <= d.max()
    # the printed report shows these numbers
    md = (tmp_path / "report.md").read_text()
    share = outcomes.loc[("contagion_off", "adoption_share"), "mean"]
    assert f"{share * 100:.1f}%" in md
    # trajectories end where the runs end
    traj = pd.read_parquet(tmp_path / "trajectories.parquet")
    last = traj[traj["step"] == traj["step"].max()].sort_values(["scenario", "replicate"])
    merged = last.merge(runs, on=["scenario", "replicate"], suffixes=("_t", ""))
    np.testing.assert_array_equal(merged["adoption_share_t"], merged["adoption_share"])
    # adoption probabilities agree with the final adoption shares
    probs = pd.read_parquet(tmp_path / "adoption_probability.parquet")
    for label in small.labels:
        held = probs.loc[probs["scenario"] == label, "p_holding"].sum() / 197
        mean_share = runs.loc[runs["scenario"] == label, "adoption_share"].mean()
        assert held == pytest.approx(mean_share, abs=1e-12)
    # every Parquet table carries the comparison's provenance in its schema metadata
    for name in ("runs", *small.TABLES):
        meta = read_provenance(tmp_path / f"{name}.parquet")
        assert meta["version"] == adoption_model.__version__ and meta["table"] == name
        assert meta["seed"] == 9 and meta["replicate_seeds"] == replicate_seeds(9, 4)
        assert [s["digest"] for s in meta["scenarios"]] == [s.digest() for s in small.scenarios]
        assert pd.read_parquet(tmp_path / f"{name}.parquet").attrs["provenance"] == meta
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["replicate_seeds"] == replicate_seeds(9, 4)
    assert [s["digest"] for s in prov["scenarios"]] == [s.digest() for s in small.scenarios]


def test_same_command_gives_identical_numbers(tmp_path: Path) -> None:
    args = (["baseline", "price_crash"],)
    kw = {"replications": 3, "seed": 1, "steps": 18}
    compare(*args, **kw).save(tmp_path / "a")
    compare(*args, **kw).save(tmp_path / "b")
    for f in sorted((tmp_path / "a").glob("*.csv")):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


@pytest.mark.slow
def test_every_backend_gives_the_same_numbers() -> None:
    kw = {"replications": 3, "seed": 2, "steps": 12}
    serial = compare(["baseline", "imf_hard_line"], workers=1, **kw)
    assert serial.backend == "serial"
    for backend in ("processes", "dask"):
        other = compare(["baseline", "imf_hard_line"], workers=2, backend=backend, **kw)
        pd.testing.assert_frame_equal(serial.runs, other.runs)
        pd.testing.assert_frame_equal(serial.trajectories, other.trajectories)
        pd.testing.assert_frame_equal(serial.outcomes, other.outcomes)
        pd.testing.assert_frame_equal(serial.adoption_probability, other.adoption_probability)


def test_store_resumes_and_reports_shares_inside_0_and_100(tmp_path: Path) -> None:
    """The comparison runs into an experiments store; a second call finds every run there.

    Shares of 0% and 100% of runs (no baseline run reaches 50% adoption in 100 months, every
    bass_complete run does: with the annual p = 0.03, q = 0.38 the Bass curve passes 50%
    after about six years) print Wilson intervals inside [0%, 100%], and no printed
    interval leaves its outcome's range.
    """
    from adoption_model.compare.report import outcome_matrix
    from adoption_model.experiments import read_runs

    store = tmp_path / "store"
    args = (["baseline", "bass_complete"],)
    kw = {"replications": 3, "seed": 3, "steps": 100, "store": store}
    first = compare(*args, **kw)
    stored = read_runs(store)
    assert len(stored) == 6 and (stored["status"] == "ok").all()
    mtimes = {p: p.stat().st_mtime_ns for p in (store / "runs").glob("part-*.parquet")}
    again = compare(*args, **kw)  # resumes: nothing left to run, same numbers
    assert {p: p.stat().st_mtime_ns for p in (store / "runs").glob("part-*.parquet")} == mtimes
    pd.testing.assert_frame_equal(first.outcomes, again.outcomes)
    o = first.outcomes.set_index(["scenario", "outcome"])
    assert o.loc[("baseline", "reached_50pct"), "mean"] == 0.0
    assert o.loc[("bass_complete", "reached_50pct"), "mean"] == 1.0
    lo, hi = o.loc[("baseline", "reached_50pct"), ["ci_low", "ci_high"]]
    assert lo == 0.0 and 0.0 < hi < 1.0  # Wilson: 0 of 3 is [0%, 56.1%], not [0%, 0%]
    assert hi == pytest.approx(1.959964**2 / (3 + 1.959964**2), rel=1e-6)
    bounded = first.outcomes[first.outcomes["kind"].isin(["share", "count", "mw", "btc"])]
    finite = bounded.dropna(subset=["ci_low"])
    assert (finite["ci_low"] >= 0).all()
    assert (finite.loc[finite["kind"] == "share", "ci_high"] <= 1).all()
    for cell in outcome_matrix(first).drop(columns=["outcome", "interval"]).to_numpy().ravel():
        for number in re.findall(r"(-?[\d.]+)%", cell):
            assert 0.0 <= float(number) <= 100.0, cell
    assert set(outcome_matrix(first)["interval"]) == {"bootstrap", "Wilson"}


def test_callable_package_and_assumptions_side_by_side() -> None:
    c = adoption_model.compare(["baseline", "imf_hard_line"], replications=2, steps=2)
    table = c.assumptions.set_index("parameter")
    assert table.loc["imf.suspend_after_failures", "imf_hard_line"] == "1"
    assert table.loc["imf.suspend_after_failures", "baseline"] == "2"
    assert "imf_stance" in table.loc["events", "imf_hard_line"]
    assert "El Salvador" in table.loc["events", "notes"]
    assert "network.kind" not in table.index  # equal everywhere, so not listed


def test_convergence_suggests_more_replications_when_wide() -> None:
    c = compare(
        ["baseline", "imf_accommodation"], replications=3, seed=4, steps=120
    )  # at the calibrated start rates shorter horizons can give identical pairs
    cv = c.convergence.set_index("outcome")
    row = cv.loc["adoption_share"]
    if row["wide"]:
        assert row["suggested_replications"] > 3
    else:
        assert row["suggested_replications"] <= 3
    half, target = row["difference_ci_halfwidth"], row["target_halfwidth"]
    assert row["suggested_replications"] == max(2, math.ceil(3 * (half / target) ** 2))
    curve = c.convergence_curve
    lev = curve[(curve["scenario"] == "baseline") & (curve["outcome"] == "adoption_share")]
    assert lev["replications"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((["baseline"], 5), "at least two scenarios"),
        ((["baseline", "price_crash"], 1), "--replications 1"),
        ((["baseline", "prise_crash"], 5), "did you mean price_crash"),
    ],
)
def test_bad_input_raises_one_line(args, message: str) -> None:
    with pytest.raises(InputError) as info:
        compare(*args, steps=2)
    assert message in str(info.value) and "\n" not in str(info.value)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adoption_model", "compare", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["baselin", "price_crash"], "did you mean baseline"),
        (["baseline"], "at least two scenarios"),
        (["baseline", "price_crash", "--replications", "1"], "--replications 1"),
        (["baseline", "missing.toml"], "missing.toml: no such scenario file"),
    ],
)
def test_cli_bad_input_one_line_exit_2_nothing_written(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = cli(*args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("adoption-model: error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = cli(
        "baseline",
        "price_crash",
        "--replications",
        "2",
        "--steps",
        "12",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Adoption share at horizon" in result.stdout
    assert str(out / "report.html") in result.stdout
    for name in ("report.html", "report.md", "runs.parquet", "provenance.json", "outcomes.csv"):
        assert (out / name).stat().st_size > 0, name


def test_saved_iamc_export_holds_the_fan_and_the_probabilities(small, tmp_path: Path) -> None:
    """iamc.csv (IAMC template): each scenario's World median and percentiles at the last
    month of each year, and each nation's adoption probability at the horizon."""
    small.save(tmp_path)
    iamc = pd.read_csv(tmp_path / "iamc.csv")
    assert list(iamc.columns[:5]) == ["Model", "Scenario", "Region", "Variable", "Unit"]
    world = iamc[iamc["Region"] == "World"].set_index(["Scenario", "Variable"])
    fan = small.fan[small.fan["variable"] == "adoption_share"]
    for label in ("baseline", "contagion_off"):
        rows = fan[(fan["scenario"] == label) & (fan["date"] == "2026-12")].iloc[0]
        share = "Sovereign Bitcoin|Adopters|Share of Nations"
        assert world.loc[(label, share), "2026"] == pytest.approx(rows["q50"], rel=1e-12)
        high = world.loc[(label, share + "|95.0th Percentile"), "2026"]
        assert high == pytest.approx(rows["q95"], rel=1e-12)
    regional = iamc[iamc["Region"] != "World"]
    probs = small.adoption_probability
    assert len(regional) == len(probs)  # one row per scenario and nation
    got = regional.set_index(["Scenario", "Region"])["2027"]
    want = probs.set_index(["scenario", "nation"])["p_adopted"]
    assert got.sort_index().to_numpy() == pytest.approx(want.sort_index().to_numpy(), rel=1e-12)
