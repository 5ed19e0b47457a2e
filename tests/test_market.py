"""The fitted price process and mining market (adoption_model/market.py, world.py).

The shipped fit is tested on its own (CI has no ``../shared``); the fit is re-run from the
staged series when it is available (``ADOPTION_SHARED_DATA`` or a ``shared/data`` folder
above the repository) and skipped, with the reason, otherwise.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from adoption_model.market import load_fit
from adoption_model.runner import run
from adoption_model.scenario import load_scenario
from adoption_model.world import World

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("fit_market", ROOT / "tools" / "fit_market.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fit_market"] = mod
    spec.loader.exec_module(mod)
    return mod


def _simulate(overrides: dict, months: int, seed: int = 7) -> World:
    w = World.start(load_scenario(None, {"price.kappa": 0.0, **overrides}))
    rng = np.random.default_rng(seed)
    for _ in range(months):
        w.advance(rng, 0.0)
    return w


def test_shipped_fit_is_finite_in_range_and_attributed() -> None:
    fit = load_fit()
    prov, price, mining = fit["provenance"], fit["price"], fit["mining"]
    assert prov["licence"] == "CC BY-NC 4.0" and "Coin Metrics" in prov["attribution"]
    gbm, reg = price["gbm"], price["regime"]
    assert 0.3 < gbm["annual_volatility"] < 1.5 and gbm["annual_volatility_se"] < 0.1
    assert all(0.3 < v < 1.5 for v in reg["annual_volatility"])
    assert all(0 < p < 1 for p in reg["leave_probability"])
    # the selection rule: GBM is the default because it has the lower AIC
    assert price["selected"] == "gbm" and gbm["aic"] < reg["aic"]
    assert price["sample"] == ["2014-01", "2025-06"]
    # re-centring: every fitted process grows by the assumed long-run rate on average
    pi = reg["ergodic_probability"]
    mean_log = sum(
        p * (d - v * v / 2)
        for p, d, v in zip(pi, reg["annual_drift"], reg["annual_volatility"], strict=True)
    )
    assert mean_log == pytest.approx(price["assumed_long_run_log_growth"], abs=1e-4)
    g_med = gbm["annual_drift"] - gbm["annual_volatility"] ** 2 / 2
    assert g_med == pytest.approx(price["assumed_long_run_log_growth"], abs=1e-5)
    # mining: hashrate responds to the hashprice, significantly, with persistence below 1
    assert mining["response"] / mining["response_se"] > 3
    assert 0 <= mining["persistence"] < 1 and mining["lag_months"] >= 1
    assert 20 < mining["breakeven_usd_per_mwh"] < 200
    # in-sample fit: growth R^2 and the dynamic (free-running) fit in levels
    assert mining["r2"] > 0.7 and mining["dynamic_rmse_log"] < 0.5
    for section in (gbm, reg, mining):
        for v in section.values():
            for x in v if isinstance(v, list) else [v]:
                if isinstance(x, float):
                    assert math.isfinite(x)


def test_simulated_returns_match_the_historical_moments() -> None:
    fit = load_fit()["price"]
    hist = fit["moments"]
    w = _simulate({}, 2400)
    r = np.diff(w.log_prices)
    assert np.std(r, ddof=1) == pytest.approx(hist["sd"], abs=0.01)
    assert abs(stats.kurtosis(r) - hist["excess_kurtosis"]) < 0.5
    assert abs(stats.skew(r) - hist["skewness"]) < 0.3
    # mean: the assumed long-run growth, not the historical mean (within 4 s.e.)
    se = hist["sd"] / math.sqrt(len(r))
    assert abs(r.mean() - fit["assumed_long_run_log_growth"] / 12) < 4 * se
    wr = _simulate({"price.process": "regime"}, 2400)
    rr = np.diff(wr.log_prices)
    assert np.std(rr, ddof=1) == pytest.approx(hist["sd"], abs=0.02)


def test_price_shock_moves_hashrate_the_same_way_after_the_lag() -> None:
    sc = load_scenario(None, {"price.kappa": 0.0})
    lag = sc.mining.hashrate_lag_months
    paths = {}
    for change in (0.0, 0.5, -0.5):
        w = World.start(sc.model_copy(deep=True))
        rng = np.random.default_rng(11)
        h = []
        for t in range(1, 25):
            w.advance(rng, 0.0)
            if t == 6 and change:
                w.shock(change)
            h.append(w.network_hashrate_th)
        paths[change] = np.array(h)
    base, up, down = paths[0.0], paths[0.5], paths[-0.5]
    shocked = 6 - 1  # index of step 6
    # nothing moves before the lag has passed, then a rally adds hashrate and a crash removes it
    assert np.array_equal(base[: shocked + lag], up[: shocked + lag])
    assert np.array_equal(base[: shocked + lag], down[: shocked + lag])
    assert (up[shocked + lag :] > base[shocked + lag :]).all()
    assert (down[shocked + lag :] < base[shocked + lag :]).all()


def test_free_entry_keeps_mining_alive_where_exogenous_growth_kills_it() -> None:
    flat = {"price.volatility": 0.0, "price.drift": 0.0, "steps": 120}
    market = _simulate(flat, 120)
    exo = _simulate({**flat, "mining.hashrate_model": "exogenous"}, 120)
    # two halvings and a flat price: free entry brings the hashprice back to break-even ...
    assert abs(market.log_hashprice_gap()) < 0.25
    # ... while 20%/yr exogenous growth drives it far below (margins collapse by construction)
    assert exo.log_hashprice_gap() < -1.5
    assert market.network_hashrate_th < exo.network_hashrate_th


def test_model_runs_reproduce_from_one_seed_and_exogenous_keeps_the_old_rule() -> None:
    a = run(None, seed=5, overrides={"steps": 24, "output.nation_frame": False})
    b = run(None, seed=5, overrides={"steps": 24, "output.nation_frame": False})
    assert a.model_frame.equals(b.model_frame)
    exo = run(
        None,
        seed=5,
        overrides={"steps": 24, "output.nation_frame": False, "mining.hashrate_model": "exogenous"},
    )
    h = exo.model_frame["network_hashrate_ehs"].to_numpy()
    assert h[-1] == pytest.approx(900.0 * 1.2**2, rel=1e-9)
    # the hashrate model draws no random numbers: the price path is the same under both
    assert np.array_equal(a.model_frame["btc_price"][:2], exo.model_frame["btc_price"][:2])


@pytest.mark.slow
def test_fit_reproduces_from_the_staged_series(tmp_path: Path) -> None:
    pytest.importorskip("statsmodels", reason="the fit needs statsmodels (extra 'fit')")
    tool = _tool()
    source = tool.find_shared_data(ROOT)
    if source is None:
        pytest.skip(
            "staged series not found (set ADOPTION_SHARED_DATA to ../shared/data); CI has no "
            "../shared, so there only the shipped fit is tested"
        )
    assert tool.main(["--source", str(source), "--out", str(tmp_path), "--figure", ""]) == 0
    import tomllib

    new = tomllib.loads((tmp_path / "market_fit.toml").read_text())
    old = load_fit()

    def close(a, b, path: str) -> None:
        if isinstance(a, dict):
            for k in a:
                if k != "fit_date":
                    close(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list):
            assert len(a) == len(b), path
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                close(x, y, f"{path}[{i}]")
        elif isinstance(a, float):
            assert a == pytest.approx(b, rel=1e-4, abs=1e-9), path
        else:
            assert a == b, path

    close(old, new, "market_fit")
