"""Key players on the real world with the real runner: paired gains, CELF, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adoption_model.cli import main
from adoption_model.discovery.keyplayers import key_players, paired_interval
from adoption_model.runner import run
from adoption_model.seeds import replicate_seeds

CANDIDATES = ["CHN", "DEU", "NGA", "TUV"]


@pytest.fixture(scope="module")
def kp():
    return key_players("baseline", k=2, replications=3, seed=5, steps=24,
                       candidates=CANDIDATES, backend="serial")  # fmt: skip


def test_gains_are_paired_differences_of_real_runs(kp):
    """Each gain is the mean over the same replicate seeds of run(+nation) - run(as is)."""
    seeds = [int(s) for s in replicate_seeds(5, 3)]
    row = kp.ranking.set_index("nation").loc["DEU"]
    diffs = []
    for s in seeds:
        base = run("baseline", seed=s, overrides={"steps": 24}).model_frame
        plus = run("baseline", seed=s, overrides={"steps": 24, "initial.adopters": ["DEU"]})
        diffs.append(plus.model_frame["n_adopters"].iloc[-1] - base["n_adopters"].iloc[-1])
    assert row["gain_adopters"] == pytest.approx(np.mean(diffs))
    assert row["gain_adopters_low"] <= row["gain_adopters"] <= row["gain_adopters_high"]
    assert min(diffs) <= row["gain_adopters_low"] and row["gain_adopters_high"] <= max(diffs)
    assert sorted(kp.ranking["nation"]) == sorted(CANDIDATES)
    assert kp.ranking["gain_adopters"].is_monotonic_decreasing


def test_greedy_picks_and_marginal_gains(kp):
    g = kp.greedy
    assert len(g) == 2 and g["nation"].is_unique
    assert g["nation"].iloc[0] == kp.ranking["nation"].iloc[0]  # first pick: best alone
    first = kp.ranking.set_index("nation").loc[g["nation"].iloc[0]]
    assert g["marginal_adopters"].iloc[0] == pytest.approx(first["gain_adopters"])
    total = g["marginal_adopters"].sum()
    assert g["total_extra_adopters"].iloc[-1] == pytest.approx(total)


def test_paired_interval_stays_inside_the_range():
    rng = np.random.default_rng(1)
    d = np.array([0.0, 1.0, 0.0, 3.0, 0.0])
    m, lo, hi = paired_interval(d, rng)
    assert 0.0 <= lo <= m <= hi <= 3.0


def test_key_players_cli_writes_table_map_and_iamc(tmp_path, capsys):
    out = tmp_path / "kp"
    code = main(["key-players", "baseline", "--k", "1", "--replications", "2", "--steps", "12",
                 "--candidates", "deu,FRA", "--backend", "serial", "--quiet",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    assert "greedy picks" in capsys.readouterr().out
    table = pd.read_csv(out / "key_players.csv")
    assert set(table["nation"]) == {"DEU", "FRA"}
    greedy = pd.read_csv(out / "greedy.csv")
    assert greedy["nation"].iloc[0] == table["nation"].iloc[0]  # ties broken as the ranking
    assert (out / "charts" / "key_players_map.svg").read_text().count("<path") > 150
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and html.count("<svg") == 2
    iamc = pd.read_csv(out / "key_players_iamc.csv")
    assert list(iamc.columns[:5]) == ["Model", "Scenario", "Region", "Variable", "Unit"]
    assert set(iamc["Region"]) == {"DEU", "FRA"} and "2026" in iamc.columns


def test_key_players_errors_are_one_line(tmp_path, capsys):
    for args, msg in (
        (["--candidates", "DEX"], "did you mean"),
        (["--candidates", "SLV"], "adopted at the start"),
        (["--replications", "1"], "at least 2"),
    ):
        assert main(["key-players", *args, "--out", str(tmp_path / "o"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1, err
