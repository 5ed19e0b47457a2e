"""``adoption-model calibrate``: the whole estimation, its files and its report.

1. the decision rule from the panel (months up to ``until``): MLE with standard errors,
   posterior mode, and the posterior by emcee with its diagnostics (acceptance fraction,
   integrated autocorrelation time, effective sample size; a warning when the kept chain is
   shorter than 50 autocorrelation times);
2. the flows by simulated method of moments (:mod:`~adoption_model.calibration.smm`) and the
   price impact by regression;
3. posterior-predictive checks (policy starts per year), the fitted holdings paths and the
   market model's fit;
4. files: ``estimates.csv``/``.parquet``/``.toml``, ``posterior.parquet`` (the sample, with
   provenance in its schema metadata), ``diagnostics.json``, ``smm.csv``, ``ppc.csv``,
   ``config.toml`` (everything needed to reproduce the run) and ``report.html``.

With ``ship=True`` (``--ship``) the posterior sample (thinned) and its means also replace
``adoption_model/data/posterior.parquet`` and ``[estimate]`` in
``adoption_model/data/logit_fit.toml``: the baseline's coefficients.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.calibration import likelihood as lk
from adoption_model.calibration import smm
from adoption_model.calibration.panel import load_panel
from adoption_model.data import DATA_DIR
from adoption_model.errors import InputError

#: emcee's authors advise a chain of at least this many autocorrelation times.
MIN_TAU_MULTIPLE = 50
#: Draws kept in the shipped sample (thinned evenly from the chain).
SHIPPED_DRAWS = 2000


@dataclass(frozen=True)
class CalibrationConfig:
    """Everything a calibration run depends on (recorded in ``config.toml``)."""

    until: str = "2025-06"
    seed: int = 1
    walkers: int = 40
    steps: int = 2000
    burn: int = 500
    smm_replications: int = 1
    smm_maxiter: int = 60
    ppc_draws: int = 400
    quick: bool = False

    @classmethod
    def make(cls, quick: bool = False, **given: Any) -> CalibrationConfig:
        """Defaults, or the quick ones (short chain, few SMM iterations) for tests."""
        base = (
            dict(walkers=40, steps=120, burn=40, smm_maxiter=6, ppc_draws=50, quick=True)
            if quick
            else {}
        )
        base.update({k: v for k, v in given.items() if v is not None})
        return cls(**base)

    def command(self) -> str:
        q = " --quick" if self.quick else ""
        return (
            f"adoption-model calibrate --until {self.until} --seed {self.seed} "
            f"--walkers {self.walkers} --steps {self.steps} --burn {self.burn}{q}"
        )


def diagnostics(post: lk.Posterior) -> tuple[dict[str, Any], list[str]]:
    """Convergence summary and warnings (chain shorter than 50 tau, low acceptance)."""
    kept = post.steps - post.burn
    tau_max = float(np.max(post.tau))
    warn = []
    if kept < MIN_TAU_MULTIPLE * tau_max:
        warn.append(
            f"the kept chain ({kept} steps) is {kept / tau_max:.1f} autocorrelation times "
            f"long (max tau {tau_max:.0f}); emcee's authors advise at least "
            f"{MIN_TAU_MULTIPLE}: run with --steps {int(MIN_TAU_MULTIPLE * tau_max + post.burn)}"
            " or more before publishing tails"
        )
    if not 0.15 <= post.acceptance <= 0.6:
        warn.append(f"mean acceptance fraction {post.acceptance:.2f} is outside 0.15-0.6")
    return (
        {
            "walkers": post.walkers,
            "steps": post.steps,
            "burn": post.burn,
            "acceptance_fraction": post.acceptance,
            "tau": dict(zip(lk.NAMES, map(float, post.tau), strict=True)),
            "tau_max": tau_max,
            "kept_over_tau": kept / tau_max,
            "ess": dict(zip(lk.NAMES, map(float, post.ess), strict=True)),
            "ess_min": float(np.min(post.ess)),
            "seconds": post.seconds,
        },
        warn,
    )


def predictive_starts(
    design: lk.Design, sample: np.ndarray, review: float, draws: int, seed: int
) -> pd.DataFrame:
    """Posterior-predictive starts per year and kind, with the observed counts.

    For each of ``draws`` posterior draws, every nation-month's action is drawn from the
    likelihood's probabilities given the observed states; the starts are counted by year.
    """
    rng = np.random.default_rng(seed)
    years = np.array([int(str(m)[:4]) for m in design.month])
    uniq = np.unique(years)
    pick = sample[rng.integers(len(sample), size=draws)]
    counts = np.zeros((draws, 3, len(uniq)))
    blocks = lk._option_blocks(design)
    for d, beta in enumerate(pick):
        exps, total = lk._exp_utilities(design, beta)
        den = 1.0 + total
        u = rng.random(design.n)
        cum = np.zeros(design.n)
        for o, ((rows, _cols, _xo), e) in enumerate(zip(blocks, exps, strict=True)):
            p = np.zeros(design.n)
            p[rows] = review * e / den[rows]
            hit = (u >= cum) & (u < cum + p)
            cum += p
            counts[d, o] = np.bincount(np.searchsorted(uniq, years[hit]), minlength=len(uniq))
    rows = []
    for o, kind in enumerate(("adopt", "mine", "sell")):
        for j, y in enumerate(uniq):
            c = counts[:, o, j]
            rows.append(
                {
                    "kind": kind,
                    "year": int(y),
                    "observed": int(((design.y == o + 1) & (years == y)).sum()),
                    "median": float(np.median(c)),
                    "q05": float(np.quantile(c, 0.05)),
                    "q95": float(np.quantile(c, 0.95)),
                    "mean": float(c.mean()),
                }
            )
    return pd.DataFrame(rows)


def _market_context() -> tuple[str, pd.DataFrame, np.ndarray, float, float]:
    fit = tomllib.loads((DATA_DIR / "market_fit.toml").read_text(encoding="utf-8"))
    g = fit["price"]["gbm"]
    rows = [
        ("price", "selected process", fit["price"]["selected"]),
        ("price", "monthly mean log return", g["monthly_mean"]),
        ("price", "annual volatility", g["annual_volatility"]),
        ("price", "annual volatility se", g["annual_volatility_se"]),
        ("price", "annual drift (re-centred)", g["annual_drift"]),
    ]
    for k, v in fit.get("mining", {}).items():
        if isinstance(v, int | float | str) and not isinstance(v, bool):
            rows.append(("mining", k, v))
    table = pd.DataFrame(rows, columns=["part", "quantity", "value"])
    table["value"] = table["value"].astype(str)
    mk = smm.market_by_month()["btc_price_usd"].to_numpy()
    returns = np.log(mk[1:] / mk[:-1])
    line = (
        f"{fit['price']['selection']} Sample {fit['price']['sample'][0]} to "
        f"{fit['price']['sample'][1]}; details in docs/market.md."
    )
    return line, table, returns, float(g["monthly_mean"]), float(np.sqrt(g["monthly_variance"]))


def estimates_table(mle: lk.Fit, mode: lk.Fit, post: lk.Posterior) -> pd.DataFrame:
    """One row per coefficient: prior, MLE (se, separated), posterior mode and summary."""
    t = post.table(mle)
    t.insert(6, "mle_separated", mle.at_bound)
    t.insert(7, "map", mode.beta)
    t.insert(8, "map_se", mode.se)
    t["tau"] = post.tau
    return t


def _write_toml(path: Path, table: pd.DataFrame, header: str, extra: dict[str, Any]) -> None:
    import tomli_w

    from adoption_model.fileio import atomic_text

    doc = {
        "provenance": extra,
        "estimate": {r.coefficient: round(float(r.post_mean), 6) for r in table.itertuples()},
        "posterior_sd": {r.coefficient: round(float(r.post_sd), 6) for r in table.itertuples()},
    }
    atomic_text(path, header + tomli_w.dumps(doc))


def ship(table: pd.DataFrame, sample: np.ndarray, meta: dict[str, Any]) -> list[Path]:
    """Replace the shipped posterior sample and the baseline's coefficients."""
    import tomli_w

    from adoption_model.data import LOGIT_FIT
    from adoption_model.experiments.store import write_parquet
    from adoption_model.fileio import atomic_text

    keep = np.linspace(0, len(sample) - 1, min(SHIPPED_DRAWS, len(sample))).astype(int)
    frame = pd.DataFrame(sample[keep], columns=list(lk.NAMES))
    post_path = DATA_DIR / "posterior.parquet"
    write_parquet(post_path, frame, {**meta, "thinned_to": len(keep)})
    current = tomllib.loads(LOGIT_FIT.read_text(encoding="utf-8"))
    doc = {
        "handset": current["handset"],
        "estimate": {r.coefficient: round(float(r.post_mean), 4) for r in table.itertuples()},
        "provenance": {
            "statistic": "posterior mean",
            "written_by": meta["command"],
            "panel_until": meta["until"],
            "seed": meta["seed"],
            "walkers": meta["walkers"],
            "steps": meta["steps"],
            "burn": meta["burn"],
            "sample": "adoption_model/data/posterior.parquet",
            "method_doc": "docs/calibration.md",
        },
    }
    text = LOGIT_FIT.read_text(encoding="utf-8")
    head = "".join(line for line in text.splitlines(True) if line.startswith("#"))
    atomic_text(LOGIT_FIT, head + tomli_w.dumps(doc))
    from adoption_model.data import update_checksums

    update_checksums(DATA_DIR, [post_path.name, LOGIT_FIT.name])  # package data, checked on load
    baseline = sync_baseline(doc["estimate"])
    return [post_path, LOGIT_FIT, *([baseline] if baseline else [])]


def sync_baseline(estimate: dict[str, float]) -> Path | None:
    """Write ``estimate`` into the commented ``[rule.coef]`` table of the bundled
    ``baseline.toml`` (keeping its comments), so the file still repeats the defaults."""
    import re

    from adoption_model.fileio import atomic_text
    from adoption_model.scenario import SCENARIO_DIR

    path = SCENARIO_DIR / "baseline.toml"
    if not path.is_file():
        return None
    out, section = [], ""
    for line in path.read_text(encoding="utf-8").splitlines(True):
        head = re.match(r"^\[([^\]]+)\]", line)
        if head:
            section = head.group(1)
        m = re.match(r"^(\w+)( *= *)([^#\n]*?)(\s*)(#.*)?(\n?)$", line)
        if section == "rule.coef" and m and m.group(1) in estimate:
            value = f"{estimate[m.group(1)]:g}"
            pad = " " * max(1, len(m.group(3)) + len(m.group(4)) - len(value))
            line = f"{m.group(1)}{m.group(2)}{value}{pad if m.group(5) else ''}"
            line += f"{m.group(5) or ''}{m.group(6)}"
        out.append(line)
    atomic_text(path, "".join(out))
    return path


def run_calibration(
    config: CalibrationConfig, out: str | Path, *, progress: bool = True, ship_it: bool = False
) -> dict[str, Any]:
    """Run the calibration of ``config`` into ``out``; return a summary (see module doc)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from adoption_model.calibration.report import (
        calibration_html,
        svg_bands,
        svg_path,
        svg_prior_posterior,
        svg_returns,
    )
    from adoption_model.experiments.store import write_parquet
    from adoption_model.fileio import atomic_text, atomic_write, make_output_dir
    from adoption_model.provenance import provenance_record

    t0 = time.perf_counter()
    panel = load_panel()
    train = panel[panel["month"] <= config.until]
    if train.empty:
        raise InputError(f"--until {config.until}: no panel months up to it (starts 2015-01)")
    d = make_output_dir(out)
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
        disable=not progress,
    )  # fmt: skip
    with bar:
        task = bar.add_task("design and point estimates", total=3)
        design = lk.design_from_panel(train)
        bar.advance(task)
        prior = lk.Prior.default()
        mle = lk.fit_mle(design)
        bar.advance(task)
        mode = lk.fit_map(design, prior)
        bar.advance(task)
        task = bar.add_task("posterior (emcee)", total=config.steps)
        post = lk.sample_posterior(
            design, prior, walkers=config.walkers, steps=config.steps, burn=config.burn,
            seed=config.seed, start=mode,
            progress=lambda i: bar.update(task, completed=i),
        )  # fmt: skip
        task = bar.add_task("simulated method of moments", total=None)
        fit = smm.fit_smm(
            replications=config.smm_replications, seed=config.seed,
            maxiter=config.smm_maxiter, progress=lambda i: bar.update(task, completed=i),
        )  # fmt: skip
        bar.update(task, total=fit.evaluations, completed=fit.evaluations)
        task = bar.add_task("posterior-predictive checks", total=1)
        review = mode.review
        ppc = predictive_starts(design, post.sample, review, config.ppc_draws, config.seed)
        replay = _replay_paths(fit.estimates)
        bar.advance(task)
    diag, warnings = diagnostics(post)
    kappa = smm.price_impact()
    table = estimates_table(mle, mode, post)
    ident = lk.identification(design)
    meta = {
        "kind": "posterior",
        "until": config.until,
        "seed": config.seed,
        "walkers": config.walkers,
        "steps": config.steps,
        "burn": config.burn,
        "prior": "independent normals centred on the hand-set values; sd 2.5 slopes, 3 intercepts",
        "review_probability": review,
        "command": config.command(),
        "panel_rows": int(design.n),
    }
    # files
    write_parquet(d / "posterior.parquet", pd.DataFrame(post.sample, columns=list(lk.NAMES)), meta)
    write_parquet(d / "estimates.parquet", table, meta)
    atomic_write(d / "estimates.csv", lambda p: table.to_csv(p, index=False))
    _write_toml(
        d / "estimates.toml", table,
        "# adoption-model calibrate: posterior summary of the logit coefficients\n", meta,
    )  # fmt: skip
    smm_table = fit.table()
    atomic_write(d / "smm.csv", lambda p: smm_table.to_csv(p, index=False))
    atomic_write(d / "smm_moments.csv", lambda p: fit.moments.to_csv(p, index=False))
    atomic_write(d / "ppc.csv", lambda p: ppc.to_csv(p, index=False))
    atomic_write(d / "identification.csv", lambda p: ident.to_csv(p, index=False))
    seconds = time.perf_counter() - t0
    record = provenance_record(
        kind="calibration", seed=config.seed, config=config.__dict__, diagnostics=diag,
        warnings=warnings, mle_loglik=mle.loglik, map_loglik=mode.loglik,
        smm={"estimates": fit.estimates, "se": fit.se, "objective": fit.objective,
             "evaluations": fit.evaluations, "seconds": fit.seconds},
        price_impact=kappa, seconds=seconds,
    )  # fmt: skip
    atomic_text(d / "diagnostics.json", json.dumps(record, indent=2, default=float))
    import tomli_w

    atomic_text(d / "config.toml", tomli_w.dumps({"calibrate": dict(config.__dict__)}))
    # report
    handset = lk.handset()
    svg_priors = [
        svg_prior_posterior(n, float(prior.mean[j]), float(prior.sd[j]), post.sample[:, j])
        for j, n in enumerate(lk.NAMES)
    ]
    svg_ppc = []
    for kind in ("adopt", "mine", "sell"):
        g = ppc[ppc.kind == kind]
        svg_ppc.append(
            svg_bands(
                f"{kind} starts per year",
                [str(y)[2:] for y in g.year],
                g.observed.tolist(),
                g["median"].tolist(),
                g.q05.tolist(),
                g.q95.tolist(),
            )  # fmt: skip
        )
    svg_paths = [svg_path(f"{iso} holdings (SMM fit)", *replay[iso]) for iso in ("SLV", "BTN")]
    market_line, market, returns, mu, sd = _market_context()
    counts = design.counts()
    ll_hand = float(lk.loglik(design, np.array([handset[n] for n in lk.NAMES]), review))
    ctx = dict(
        until=config.until, first_month=str(train["month"].min()), n_rows=f"{design.n:,}",
        counts=", ".join(f"{k} {v}" for k, v in counts.items() if k != "hold"),
        seed=config.seed, seconds=f"{seconds:.0f}", warnings=warnings,
        config_line=f"{config.walkers} walkers, {config.steps} steps, {config.burn} burn-in",
        ll_handset=f"{ll_hand:.1f}", ll_mle=f"{mle.loglik:.1f}", ll_map=f"{mode.loglik:.1f}",
        diag_line=(
            f"acceptance {diag['acceptance_fraction']:.2f}, max integrated autocorrelation "
            f"time {diag['tau_max']:.0f} steps (kept chain = {diag['kept_over_tau']:.1f} tau), "
            f"minimum ESS {diag['ess_min']:.0f}"
        ),
        estimates=table.drop(columns=["option"]).round(3),
        svg_priors=svg_priors, svg_ppc=svg_ppc, ppc=ppc,
        replay_start=smm.REPLAY_START,
        smm_line=f"{fit.evaluations} evaluations, objective {fit.objective:.3f}, "
        f"{fit.seconds:.0f} s",
        smm_table=smm_table, smm_moments=fit.moments, svg_paths=svg_paths, kappa=kappa,
        market_line=market_line, market=market, svg_market=svg_returns(returns, mu, sd),
        identification=identification_lines(table, kappa),
        command=config.command(), provenance_line=_prov_line(record),
    )  # fmt: skip
    atomic_text(d / "report.html", calibration_html(ctx))
    shipped = ship(table, post.sample, meta) if ship_it else []
    return {
        "out": d,
        "table": table,
        "diagnostics": diag,
        "warnings": warnings,
        "smm": fit,
        "kappa": kappa,
        "ppc": ppc,
        "seconds": seconds,
        "shipped": shipped,
    }


def _prov_line(record: dict[str, Any]) -> str:
    return (
        f"adoption-model {record.get('version', '')}, git commit "
        f"{record.get('git_commit') or 'unknown'}."
    )


def identification_lines(table: pd.DataFrame, kappa: dict[str, float]) -> list[str]:
    """Plain statements of what the record identifies (sd ratio) and what stays assumed."""
    driven = table.loc[table.prior_driven, "coefficient"].tolist()
    moved = table.loc[~table.prior_driven, "coefficient"].tolist()
    return [
        "Moved by the data (posterior sd at most 0.8 of the prior's): " + ", ".join(moved) + ".",
        "Prior-driven (posterior sd above 0.8 of the prior's; the documented judgement with "
        "its uncertainty): " + (", ".join(driven) or "none") + ".",
        "Flows: the target share rests on El Salvador alone and the mining allocation on "
        "Bhutan alone (one nation each).",
        f"Price impact kappa: {kappa['kappa']:.1f} (se {kappa['kappa_se']:.1f}), not "
        "identified; the model keeps its assumed value.",
        "Not calibrated (no moment moves them): IMF detection probability, sale tranches.",
    ]


def _replay_paths(theta: dict[str, float]) -> dict[str, tuple[list[str], list[float], Any]]:
    """The replay's holdings paths of El Salvador and Bhutan at the SMM estimates."""
    from adoption_model.runner import run

    sc = smm.replay_scenario()
    events = [dict(e) for e in smm.REPLAY_EVENTS]
    for e in events:
        if e["kind"] == "mine":
            e["mw"] = theta["mining.allocation_share"] * smm._surplus_at("BTN", "2019-04")
    nf = run(sc.with_overrides({**theta, "events": events}), seed=0).nation_frame
    rows = pd.DataFrame(smm.load_provenance()["holdings_rows"])
    out = {}
    for iso in ("SLV", "BTN"):
        g = nf[nf["nation"] == iso]
        pts = rows[(rows.iso3 == iso) & rows.used][["date", "btc"]].rename(
            columns={"date": "month"}
        )
        out[iso] = (g["date"].astype(str).tolist(), g["holdings"].tolist(), pts)
    return out
