"""Out-of-sample back-test: fit to the record up to a month, forecast who acts afterwards.

The decision rule is estimated on the panel's months up to ``until`` only (the posterior of
:mod:`adoption_model.calibration.likelihood`); the model is then simulated from the observed
state at the end of ``until`` (``initial.from_panel``) with the observed price path
(:func:`~adoption_model.calibration.history.history_overrides`) for the held-out months,
many replicates, each with its own seed and its own coefficient draw. A nation's forecast
probability of an event kind (adopt, mine, sell) is the share of replicates in which it
takes that action at least once in the window. Compared with three null models:

``constant hazard``   one monthly rate per kind (training events / nation-months at risk);
                      a nation at risk at the start acts in the window with probability
                      ``1 - (1 - h)^months``; one not at risk, 0;
``logit, no peers``   the same likelihood and simulation with the three peer coefficients
                      fixed at 0 (prior sd 1e-6 around 0);
``hand-set``          the simulation with the hand-set coefficients of earlier versions.

Scores (:mod:`adoption_model.calibration.scores`): mean log score and Brier score over the
197 nations per kind, AUC per kind, and the rank of each nation that acted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.calibration import likelihood as lk
from adoption_model.calibration import scores
from adoption_model.calibration.history import history_overrides
from adoption_model.errors import InputError
from adoption_model.scenario import Scenario, load_scenario
from adoption_model.seeds import replicate_seeds
from adoption_model.world import month_index, month_name

KINDS = ("adopt", "mine", "sell")
PEER_TERMS = ("a_peer", "c_peer", "s_peer")
MODELS = ("model (posterior)", "logit, no peers", "hand-set", "constant hazard")


def window_months(until: str, end: str) -> list[str]:
    """The held-out months ``until + 1 .. end``."""
    a, b = month_index(until), month_index(end)
    if b <= a:
        raise InputError(f"--until {until}: must be before the end of the record {end}")
    return [month_name(m) for m in range(a + 1, b + 1)]


def observed_events(panel: pd.DataFrame, months: list[str], ids: list[str]) -> pd.DataFrame:
    """1 if the nation took each action at least once in ``months`` (rows: ``ids``)."""
    rows = panel[panel["month"].isin(months)]
    out = pd.DataFrame(0, index=pd.Index(ids, name="iso3"), columns=list(KINDS))
    for kind in KINDS:
        hit = set(rows.loc[rows["action"] == kind, "iso3"].astype(str))
        out[kind] = [int(i in hit) for i in ids]
    return out


def no_peer_prior() -> lk.Prior:
    """The default prior with the peer coefficients pinned at 0 (sd 1e-6)."""
    p = lk.Prior.default()
    mean, sd = p.mean.copy(), p.sd.copy()
    for name in PEER_TERMS:
        j = lk.NAMES.index(name)
        mean[j], sd[j] = 0.0, 1e-6
    return lk.Prior(mean, sd)


def laplace_sample(
    design: lk.Design, fit: lk.Fit, prior: lk.Prior, n: int, seed: int
) -> np.ndarray:
    """``n`` draws from the normal approximation at the posterior mode (quick runs)."""
    h = lk.hessian(design, fit.beta, fit.review, prior)
    cov = np.linalg.inv(-h)
    cov = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(cov)
    root = v @ np.diag(np.sqrt(np.maximum(w, 0.0)))
    z = np.random.default_rng(seed).standard_normal((n, len(fit.beta)))
    return fit.beta + z @ root.T


def posterior_sample(
    design: lk.Design,
    prior: lk.Prior,
    *,
    sampler: str,
    walkers: int,
    steps: int,
    burn: int,
    seed: int,
    draws: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A posterior sample (emcee, or the Laplace approximation) and its diagnostics."""
    mode = lk.fit_map(design, prior)
    if sampler == "laplace":
        return laplace_sample(design, mode, prior, draws, seed), {"sampler": "laplace"}
    post = lk.sample_posterior(
        design, prior, walkers=walkers, steps=steps, burn=burn, seed=seed, start=mode
    )
    info = {
        "sampler": "emcee",
        "acceptance": post.acceptance,
        "tau_max": float(np.max(post.tau)),
        "ess_min": float(np.min(post.ess)),
    }
    return post.sample, info


def simulate_events(
    base: Scenario,
    until: str,
    steps: int,
    replications: int,
    seed: int,
    *,
    sample: np.ndarray | None = None,
    coefficients: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Share of replicates in which each nation takes each action in the window.

    Replicate ``r`` runs with ``replicate_seeds(seed, replications)[r]`` (the same seeds for
    every model compared: common random numbers) and, with ``sample``, the coefficient draw
    :func:`~adoption_model.experiments.posterior.draw_index` picks for that seed.
    """
    from adoption_model.ensemble import run_ensemble
    from adoption_model.experiments.posterior import draw_index

    over = history_overrides(until, steps, base)
    over["output.nation_frame"] = True
    if coefficients:
        over.update({f"rule.coef.{k}": float(v) for k, v in coefficients.items()})
    sc = load_scenario(base, over)
    counts: np.ndarray | None = None
    ids: list[str] = []
    seeds = replicate_seeds(seed, replications)
    scenarios = []
    for s in seeds:
        extra = {}
        if sample is not None:
            row = sample[draw_index(s, len(sample))]
            extra = {f"rule.coef.{n}": float(v) for n, v in zip(lk.NAMES, row, strict=True)}
        scenarios.append(sc if not extra else load_scenario(sc, extra))
    # the replicates run together as ensembles, each bit for bit its single run
    for result in run_ensemble(scenarios, seeds, progress=progress):
        nf = result.nation_frame
        nf = nf[nf["step"] >= 1]
        hit = pd.crosstab(nf["nation"].astype(str), nf["action"].astype(str))
        hit = hit.reindex(columns=list(KINDS), fill_value=0) > 0
        if counts is None:
            ids = sorted(nf["nation"].astype(str).unique())
            counts = np.zeros((len(ids), len(KINDS)))
        counts += hit.reindex(ids, fill_value=False).to_numpy(float)
    assert counts is not None
    return pd.DataFrame(counts / replications, index=pd.Index(ids, name="iso3"), columns=KINDS)


def constant_hazard(design: lk.Design, panel: pd.DataFrame, until: str, steps: int):
    """Forecast of the constant-hazard null: one monthly rate per kind from the training
    rows, applied to the nations at risk at the start (option available at the end of
    ``until``, from the panel's state)."""
    from adoption_model.data import panel_state

    rates = {}
    for o, kind in enumerate(KINDS):
        at_risk = design.avail[:, o].sum()
        rates[kind] = float((design.y == o + 1).sum() / max(at_risk, 1))
    st = panel_state(until)
    ids = sorted(st.index.astype(str))
    st = st.loc[ids]
    surplus = st["energy_surplus_mw"].fillna(0.0).to_numpy(float) > 0
    holdings = st["holdings_btc"].fillna(0.0).to_numpy(float) > 0
    risk = {
        "adopt": ~st["state_reserve"].to_numpy(bool) & ~st["state_selling"].to_numpy(bool),
        "mine": ~st["state_mining"].to_numpy(bool) & surplus,
        "sell": holdings & ~st["no_sell_pledge"].to_numpy(bool),
    }
    out = pd.DataFrame(index=pd.Index(ids, name="iso3"))
    for kind in KINDS:
        out[kind] = np.where(risk[kind], 1.0 - (1.0 - rates[kind]) ** steps, 0.0)
    return out, rates


def score_table(forecasts: dict[str, pd.DataFrame], observed: pd.DataFrame) -> pd.DataFrame:
    """Log score, Brier score, AUC and the ranks of the actual events, per model and kind."""
    rows = []
    for name, p in forecasts.items():
        p = p.reindex(observed.index).fillna(0.0)
        for kind in (*KINDS, "all"):
            if kind == "all":
                pv, yv = p[list(KINDS)].to_numpy().ravel(), observed[list(KINDS)].to_numpy().ravel()
            else:
                pv, yv = p[kind].to_numpy(), observed[kind].to_numpy()
            ranks = scores.event_ranks(pv, yv) if kind != "all" else []
            who = list(observed.index[observed[kind] == 1]) if kind != "all" else []
            rows.append(
                {
                    "model": name,
                    "kind": kind,
                    "events": int(yv.sum()),
                    "nations": len(observed),
                    "expected_events": float(pv.sum()),
                    "log_score": scores.log_score(pv, yv),
                    "brier": scores.brier(pv, yv),
                    "auc": scores.auc(pv, yv),
                    "ranks": "; ".join(f"{w} {r:g}" for w, r in zip(who, ranks, strict=True)),
                }
            )
    return pd.DataFrame(rows)


@dataclass
class Backtest:
    """A finished back-test: the forecasts, the observed events and the score table."""

    until: str
    end: str
    replications: int
    seed: int
    table: pd.DataFrame
    forecasts: dict[str, pd.DataFrame]
    observed: pd.DataFrame
    rates: dict[str, float]
    fit_info: dict[str, dict[str, Any]]
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    def long_forecasts(self) -> pd.DataFrame:
        """One row per model, nation and kind: forecast and outcome."""
        parts = []
        for name, p in self.forecasts.items():
            f = p.reindex(self.observed.index).fillna(0.0).reset_index()
            f = f.melt(id_vars="iso3", var_name="kind", value_name="probability")
            f.insert(0, "model", name)
            parts.append(f)
        out = pd.concat(parts, ignore_index=True)
        obs = self.observed.reset_index().melt(id_vars="iso3", var_name="kind", value_name="y")
        return out.merge(obs, on=["iso3", "kind"], how="left")


def run_backtest(
    until: str = "2023-12",
    *,
    end: str | None = None,
    replications: int = 200,
    seed: int = 0,
    sampler: str = "emcee",
    walkers: int = 40,
    steps: int = 1000,
    burn: int = 300,
    base: Scenario | None = None,
    panel: pd.DataFrame | None = None,
    progress: Any = None,
) -> Backtest:
    """Fit up to ``until``, forecast to ``end`` (default: the panel's last month) and score.

    ``progress`` is an optional :class:`rich.progress.Progress` to report on.
    """
    from adoption_model.calibration.panel import load_panel

    t0 = time.perf_counter()
    panel = load_panel() if panel is None else panel
    end = end or str(panel["month"].max())
    months = window_months(until, end)
    horizon = len(months)
    base = base or Scenario()
    train = panel[panel["month"] <= until]
    if train.empty:
        raise InputError(f"--until {until}: no panel months up to it (the panel starts 2015-01)")
    design = lk.design_from_panel(train, base)
    draws = max(replications, 200)
    fit_info: dict[str, dict[str, Any]] = {}
    samples = {}
    for name, prior in (
        ("model (posterior)", lk.Prior.default()),
        ("logit, no peers", no_peer_prior()),
    ):
        task = progress.add_task(f"posterior ({name})", total=None) if progress else None
        samples[name], fit_info[name] = posterior_sample(
            design, prior, sampler=sampler, walkers=walkers, steps=steps, burn=burn,
            seed=seed, draws=draws,
        )  # fmt: skip
        if progress:
            progress.update(task, total=1, completed=1)
    forecasts: dict[str, pd.DataFrame] = {}
    runs = {
        "model (posterior)": {"sample": samples["model (posterior)"]},
        "logit, no peers": {"sample": samples["logit, no peers"]},
        "hand-set": {"coefficients": lk.handset()},
    }
    for name, kw in runs.items():
        task = progress.add_task(f"simulate {name}", total=replications) if progress else None

        def tick(k: int, task: Any = task) -> None:
            if progress:
                progress.update(task, completed=k)

        forecasts[name] = simulate_events(
            base, until, horizon, replications, seed, progress=tick, **kw
        )
    forecasts["constant hazard"], rates = constant_hazard(design, panel, until, horizon)
    ids = list(forecasts["constant hazard"].index)
    observed = observed_events(panel, months, ids)
    table = score_table(forecasts, observed)
    return Backtest(
        until=until, end=end, replications=replications, seed=seed, table=table,
        forecasts=forecasts, observed=observed, rates=rates, fit_info=fit_info,
        seconds=time.perf_counter() - t0,
        config={
            "until": until, "end": end, "replications": replications, "seed": seed,
            "sampler": sampler, "walkers": walkers, "steps": steps, "burn": burn,
            "scenario_digest": base.digest(), "log_score_floor": scores.EPS,
        },
    )  # fmt: skip


def save_backtest(bt: Backtest, out: str | Path) -> Path:
    """Write ``scores.csv``/``.parquet``, ``forecasts.parquet``, ``backtest.json`` and
    ``report.html`` into ``out`` (each file atomically)."""
    import json

    from adoption_model.calibration.report import backtest_html
    from adoption_model.experiments.store import write_parquet
    from adoption_model.fileio import atomic_text, atomic_write, make_output_dir
    from adoption_model.provenance import provenance_record

    d = make_output_dir(out)
    meta = {"kind": "backtest", **bt.config}
    write_parquet(d / "scores.parquet", bt.table, meta)
    atomic_write(d / "scores.csv", lambda p: bt.table.to_csv(p, index=False))
    write_parquet(d / "forecasts.parquet", bt.long_forecasts(), meta)
    record = provenance_record(
        kind="backtest",
        seed=bt.seed,
        config=bt.config,
        rates=bt.rates,
        fits=bt.fit_info,
        seconds=round(bt.seconds, 1),
    )
    atomic_text(d / "backtest.json", json.dumps(record, indent=2, default=float))
    atomic_text(d / "report.html", backtest_html(bt))
    return d


def policy_start_rate(
    scenario: Any = None,
    months: int = 36,
    replications: int = 40,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
) -> dict[str, float]:
    """New policy starts (adopt and mine decisions) a year in a scenario's first months.

    The record's rate for comparison: 3 adoptions and 2 mining starts in 2019-06 .. 2025-06
    in the panel (about 0.8 a year). Returns the mean over replicates, its 90% range and
    the adopt and mine parts.
    """
    from adoption_model.ensemble import run_ensemble

    sc = load_scenario(
        scenario, {**(overrides or {}), "steps": months, "output.nation_frame": True}
    )
    per_run, adopt, mine = [], [], []
    for result in run_ensemble(sc, replicate_seeds(seed, replications)):
        nf = result.nation_frame
        acts = nf.loc[nf["step"] >= 1, "action"].astype(str)
        a, m = int((acts == "adopt").sum()), int((acts == "mine").sum())
        adopt.append(a * 12 / months)
        mine.append(m * 12 / months)
        per_run.append((a + m) * 12 / months)
    v = np.array(per_run)
    return {
        "starts_per_year": float(v.mean()),
        "q05": float(np.quantile(v, 0.05)),
        "q95": float(np.quantile(v, 0.95)),
        "adopt_per_year": float(np.mean(adopt)),
        "mine_per_year": float(np.mean(mine)),
        "months": months,
        "replications": replications,
    }
