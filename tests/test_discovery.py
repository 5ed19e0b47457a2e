"""Scenario discovery: PRIM against EMA Workbench, a planted box, a real sweep, the CLI."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption_model.cli import main
from adoption_model.discovery import discover, parse_condition, prim
from adoption_model.errors import InputError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "reference"))
from make_prim_reference import reference_case  # noqa: E402

REFERENCE = json.loads((HERE / "reference" / "prim_ema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", ["planted", "mixed"])
def test_prim_reproduces_ema_workbench(case):
    """Trajectory, every box's limits and quasi p-values equal EMA Workbench 2.5.3's."""
    ref = REFERENCE["cases"][case]
    x, y = reference_case(case)
    r = prim(x, y)
    t = r.trajectory
    assert len(t) == len(ref["trajectory"]["coverage"])
    for col in ("coverage", "density", "mass", "res_dim", "n", "k"):
        np.testing.assert_allclose(t[col].to_numpy(dtype=float), ref["trajectory"][col])
    for i, box in enumerate(ref["boxes"]):
        lim = r.limits(i).set_index("factor")
        for factor, entry in box.items():
            if "values" in entry:
                assert lim.loc[factor, "values"] == ", ".join(entry["values"])
            else:
                got = lim.loc[factor, ["lower", "upper"]].to_numpy(dtype=float)
                np.testing.assert_allclose(got, entry["limits"])
            want = [math.nan if q is None else q for q in entry.get("qp", [None, None])]
            got = lim.loc[factor, ["qp_lower", "qp_upper"]].to_numpy(dtype=float)
            np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)


def planted_runs(n: int = 1000, seed: int = 3) -> pd.DataFrame:
    """Six uniform factors; the outcome is high exactly inside 0.2<=u0<=0.6, u1>=0.5."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 6)), columns=[f"u{i}" for i in range(6)])
    inside = x["u0"].between(0.2, 0.6) & (x["u1"] >= 0.5)
    x["outcome"] = np.where(inside, 0.6, 0.1) + rng.normal(0, 0.02, n)
    return x


def test_planted_box_found_within_sampling_error():
    runs = planted_runs()
    d = discover(runs, "outcome", threshold=0.35, factors=[f"u{i}" for i in range(6)])
    box = d.box.set_index("factor")
    assert box.index[box["restricted"]].tolist() == ["u0", "u1"]
    # one peel removes 5% of the box's runs: on u0 (box width 0.4, about 200 runs) that is
    # about 0.02 of the range, so the found limits sit within 0.03 of the true ones
    assert box.loc["u0", "lower"] == pytest.approx(0.2, abs=0.03)
    assert box.loc["u0", "upper"] == pytest.approx(0.6, abs=0.03)
    assert box.loc["u1", "lower"] == pytest.approx(0.5, abs=0.03)
    assert box.loc["u1", "upper"] == pytest.approx(1.0, abs=0.01)
    assert box.loc[["u0", "u1"], "significant"].all()
    c = d.trajectory.loc[d.chosen]
    assert c["coverage"] >= 0.95 and c["density"] >= 0.8
    # CART's densest leaf is the same box; the two planted factors score highest
    leaf = d.cart.iloc[0]
    assert leaf["of_interest"] and leaf["density"] > 0.95 and "u0" in leaf["rule"]
    assert set(d.scores["factor"].head(2)) == {"u0", "u1"}
    assert d.scores["score"].sum() == pytest.approx(1.0)


def test_discovery_tables_agree_with_the_data():
    runs = planted_runs(600, seed=5)
    d = discover(runs, "outcome > 0.35", factors=[f"u{i}" for i in range(6)], min_density=0.95)
    box = d.box.set_index("factor")
    inside = np.ones(len(runs), dtype=bool)
    for f in box.index:
        inside &= runs[f].between(box.loc[f, "lower"], box.loc[f, "upper"]).to_numpy()
    interest = runs["outcome"].to_numpy() > 0.35
    c = d.trajectory.loc[d.chosen]
    assert c["n"] == inside.sum() and c["k"] == (inside & interest).sum()
    assert c["coverage"] == pytest.approx((inside & interest).sum() / interest.sum())
    assert c["density"] >= 0.95


def test_condition_parsing_refuses_anything_else():
    outs = ["final_share", "t50"]
    assert parse_condition("t50 <= final_share", outs) == ("t50", "<=", "final_share")
    for bad in ("final_share >= 0.2 and t50 < 3", "__import__('os')", "final_share >= x",
                "final_share >= 0.2", "share > 1"):  # fmt: skip
        with pytest.raises(InputError):
            parse_condition(bad, outs, threshold=0.5 if bad == "final_share >= 0.2" else None)
    with pytest.raises(InputError, match="--threshold"):
        parse_condition("final_share", outs)


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory) -> Path:
    """A small real sweep of the model (48 runs, two years) through the real runner."""
    from adoption_model.experiments import run_experiment

    out = tmp_path_factory.mktemp("sweep") / "results"
    exp = {
        "name": "discover_small", "seed": 11, "replications": 2, "set": {"steps": 24},
        "design": {"kind": "latin_hypercube", "samples": 24},
        "uncertainties": {"rule.coef.a_peer": {"low": 0.5, "high": 4.0},
                          "rule.coef.a0": {"low": -6.0, "high": -3.5}},
        "levers": {"imf.stance": {"values": [0.0, 1.0]}},
        "outcomes": {"final_adoption_share": "final(adoption_share)",
                     "gdp_weighted_share": "final(gdp_weighted_share)"},
    }  # fmt: skip
    run_experiment(exp, out, backend="serial", progress=False)
    return out


@pytest.mark.slow
def test_discover_cli_on_a_real_sweep(real_sweep, capsys):
    runs = pd.read_parquet(real_sweep / "runs.parquet")
    level = float(runs["final_adoption_share"].median())
    out = real_sweep / "disc"
    code = main(["discover", str(real_sweep), "--outcome", "final_adoption_share",
                 "--threshold", str(level), "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "coverage" in printed and "report:" in printed
    for name in ("prim_trajectory", "prim_box", "cart_leaves", "feature_scores"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists()
    box = pd.read_parquet(out / "prim_box.parquet")
    assert set(box["factor"]) == {"rule.coef.a_peer", "rule.coef.a0", "imf.stance"}
    assert dict(zip(box["factor"], box["role"], strict=True))["imf.stance"] == "lever"
    scores = pd.read_csv(out / "feature_scores.csv")
    assert scores["score"].sum() == pytest.approx(1.0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3
    assert not re.search(r"<script|<link|(src|href)=\"(https?:)?//", html)
    for chart in ("tradeoff", "box_limits", "feature_scores"):
        assert (out / "charts" / f"{chart}.svg").exists()
        assert (out / "charts" / f"{chart}.png").stat().st_size > 1000


@pytest.mark.slow
def test_discover_cli_errors_are_one_line(real_sweep, tmp_path, capsys):
    cases = [
        ([str(real_sweep), "--outcome", "final_adoptoin_share >= 0.1"], "did you mean"),
        ([str(real_sweep), "--outcome", "final_adoption_share >= 2"], "none of the"),
        ([str(real_sweep), "--outcome", "os.system('x')"], "one comparison"),
        ([str(tmp_path), "--outcome", "x >= 1"], "not an experiment results directory"),
    ]
    for args, msg in cases:
        assert main(["discover", *args, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1, err
