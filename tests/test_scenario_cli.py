"""Scenario validation and the run/explain/scenarios commands, through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mesa
import pandas as pd
import pytest

from adoption_model.errors import InputError
from adoption_model.model import AdoptionModel
from adoption_model.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "adoption_model", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_empty_file_is_the_baseline(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    a, b = load_scenario(empty).to_dict(), load_scenario("baseline").to_dict()
    for d in (a, b):
        d.pop("name")
        d.pop("description")
    assert (
        a
        == b
        == {k: v for k, v in Scenario().to_dict().items() if k not in ("name", "description")}
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"rule.kind": "treshold"},
            "rule.kind: 'treshold' is not one of logit, threshold, bass, cascade "
            "(did you mean 'threshold'?)",
        ),
        ({"rule.coef.a_per": 1}, "rule.coef.a_per: unknown key; did you mean a_peer"),
        ({"steps": -3}, "steps: -3 is out of range; must be >= 0 (range [0, 100000])"),
        ({"start": "June 2025"}, "start: 'June 2025' is not a month; write it as YYYY-MM"),
        ({"network.layers.border": -1}, "network.layers.border"),
        (
            {"events": [{"date": "2020-01", "kind": "adopt", "nation": "PAK"}]},
            "events[0].date 2020-01 is before start 2025-06",
        ),
        ({"events": [{"date": "2026-01", "kind": "price_shock"}]}, "needs 'change'"),
        ({"price.process": "path"}, "needs price.path"),
    ],
)
def test_bad_scenarios_give_one_line_errors(overrides: dict, expected: str) -> None:
    with pytest.raises(InputError) as err:
        load_scenario(overrides=overrides)
    msg = str(err.value)
    assert expected in msg and "\n" not in msg


def test_unknown_nation_in_scenario_is_named() -> None:
    with pytest.raises(InputError, match="initial.adopters\\[0\\]: 'PAKI' is not a nation"):
        AdoptionModel(overrides={"initial.adopters": ["PAKI"]})
    with pytest.raises(InputError, match="did you mean"):
        AdoptionModel(overrides={"events": [{"date": "2026-01", "kind": "adopt", "nation": "GRB"}]})


def test_malformed_toml_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n[rule\n")
    with pytest.raises(InputError, match="not valid TOML") as err:
        load_scenario(bad)
    assert "\n" not in str(err.value)


def test_cli_run_prints_summary_and_saves(tmp_path: Path) -> None:
    out = tmp_path / "res"
    r = cli("run", "--seed", "3", "--steps", "24", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Adoption over time" in r.stdout and "At the start: BTN, PAK, SLV, USA" in r.stdout
    # the estimated baseline starts rarely: either list is a valid summary of 24 months
    assert "Who adopted when" in r.stdout or "No new adopters." in r.stdout
    assert "Sovereign BTC: 529,705" in r.stdout
    assert pd.read_parquet(out / "model.parquet")["step"].max() == 24
    assert "seed = 3" in (out / "scenario.toml").read_text()


def test_cli_bad_input_exit_code_2_nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "never"
    r = cli("run", "--set", "rule.kind=treshold", "--out", str(out))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "did you mean 'threshold'" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    r = cli("run", "baselin")
    assert r.returncode == 2 and "did you mean baseline" in r.stderr
    r = cli("run", "--set", "nokey")
    assert r.returncode == 2 and "expected KEY=VALUE" in r.stderr
    r = cli("explain", "PAKI")
    assert r.returncode == 2 and "'PAKI' is not a nation; did you mean PAK" in r.stderr


def test_cli_explain_and_scenarios() -> None:
    r = cli("explain", "PAK", "--seed", "2", "--step", "6")
    assert r.returncode == 0, r.stderr
    assert "Pakistan (PAK), step 6 (2025-12)" in r.stdout and "IMF pressure" in r.stdout
    r = cli("scenarios")
    assert r.returncode == 0 and "baseline" in r.stdout


def test_cli_synthetic_threshold_run_from_the_issue() -> None:
    r = cli(
        "run",
        "--set",
        "rule.kind=threshold",
        "--set",
        "network.kind=erdos_renyi",
        "--set",
        "network.n=10000",
        "--set",
        "network.mean_degree=3",
        "--set",
        "rule.phi=0.18",
        "--set",
        "initial.seed_count=1",
        "--seed",
        "1",
    )
    assert r.returncode == 0, r.stderr
    assert "10000 nations, threshold rule on the erdos_renyi network" in r.stdout


def test_python_m_and_console_script_agree() -> None:
    r = subprocess.run(
        [Path(sys.executable).parent / "adoption-model", "--version"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and r.stdout.startswith("adoption-model ")
    assert cli("--version").stdout == r.stdout


def test_mesa_batch_run_works() -> None:
    rows = mesa.batch_run(
        AdoptionModel,
        parameters={"seed": [1, 2], "steps": [6], "engine": ["vectorized", "agents"]},
        iterations=1,
        max_steps=6,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df) == 4
    # both engines agree under batch_run too; batch_run reports the row of step max_steps - 1
    for seed in (1, 2):
        sub = df[df["seed"] == seed]
        assert sub["btc_price"].nunique() == 1
    assert set(df["Step"]) == {5}
