"""Run scenarios with common random numbers on the experiments runner, and summarise them.

The pipeline is the package's one: :func:`compare` turns the scenarios into an experiment
with several base scenarios (:attr:`Experiment.scenarios`, one design point each, the same
replicate seeds for all: common random numbers), runs it with
:func:`~adoption_model.experiments.run_experiment` (every backend: serial, processes,
Dask; retries; resume from the store) and derives every table from the stored runs
(:mod:`adoption_model.compare.tables`), so the numbers in the report can be recomputed from
``runs.parquet``.

References
----------
Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., McGraw-Hill, section 11.2
(common random numbers and paired differences).
"""

from __future__ import annotations

import datetime as _dt
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from adoption_model.compare.assumptions import assumptions_table
from adoption_model.compare.tables import (
    OUTCOMES,
    TRAJECTORY_COLUMNS,
    convergence_tables,
    fan_table,
    nation_tables,
    outcome_table,
    paired_differences,
    trajectories,
)
from adoption_model.errors import InputError
from adoption_model.scenario import Scenario, load_scenario
from adoption_model.seeds import replicate_seeds

__all__ = ["OUTCOMES", "TRAJECTORY_COLUMNS", "Comparison", "compare", "resolve_scenarios"]

#: The experiment outcomes compare records per run (reducers of the model frame); the
#: ``reached_*`` outcomes are derived from the times (1 if the level is reached, else 0).
EXPRESSIONS: dict[str, str] = {
    "adoption_share": "final(adoption_share)",
    "gdp_share": "final(gdp_weighted_share)",
    "btc_sovereign": "final(btc_sovereign)",
    "n_miners": "final(n_miners)",
    "mining_mw": "final(mining_mw)",
    "time_to_25pct": "time_to(adoption_share, 0.25)",
    "time_to_50pct": "time_to(adoption_share, 0.5)",
}

BACKENDS = ("serial", "processes", "dask")


# ---------------------------------------------------------------------------- the result
@dataclass
class Comparison:
    """A finished comparison: the stored runs and every table derived from them.

    Attributes
    ----------
    scenarios : list of Scenario
        The resolved scenarios (after any ``steps`` override), in the order given; the first
        is the reference of the paired differences.
    labels : list of str
        Unique display names (a scenario given twice gets ``#2``).
    seed, replications : int
        The comparison seed and the number of replicates.
    seeds : list of int
        The replicate seeds (``replicate_seeds(seed, replications)``), the same for every
        scenario (common random numbers).
    runs : DataFrame
        One row per scenario and replicate: seed, scenario digest and every outcome.
    trajectories : DataFrame
        One row per scenario, replicate and step (forward-filled to the horizon).
    outcomes, differences, fan, adoption_probability, first_adoption, assumptions,
    convergence, convergence_curve : DataFrame
        The report's tables (see the functions of this module).
    """

    scenarios: list[Scenario]
    labels: list[str]
    seed: int
    replications: int
    seeds: list[int]
    runs: pd.DataFrame
    trajectories: pd.DataFrame
    outcomes: pd.DataFrame
    differences: pd.DataFrame
    fan: pd.DataFrame
    adoption_probability: pd.DataFrame
    first_adoption: pd.DataFrame
    assumptions: pd.DataFrame
    convergence: pd.DataFrame
    convergence_curve: pd.DataFrame
    workers: int = 1
    backend: str = "serial"
    started: str = ""
    finished: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    #: the posterior sample each replicate drew its coefficients from ("" if none)
    posterior: str = ""

    #: Tables written by :meth:`save`, as ``name.csv`` and ``name.parquet``.
    TABLES = (
        "outcomes",
        "differences",
        "trajectories",
        "fan",
        "adoption_probability",
        "first_adoption",
        "assumptions",
        "convergence",
        "convergence_curve",
    )

    def provenance(self) -> dict[str, Any]:
        """Versions, git commit, seeds, scenario digests and timestamps of the comparison."""
        from adoption_model.provenance import provenance_record

        return provenance_record(
            kind="comparison",
            seed=self.seed,
            replications=self.replications,
            replicate_seeds=list(self.seeds),
            backend=self.backend,
            workers=self.workers,
            uncertainty="stochastic noise and parameter uncertainty (coefficients drawn from "
            f"{self.posterior} by replicate seed)"
            if self.posterior
            else "stochastic noise only",
            intervals="95%: Wilson for shares of runs, percentile bootstrap (seeded from the "
            "comparison seed) for bounded outcomes and paired differences",
            scenarios=[
                {"label": lab, "name": sc.name, "digest": sc.digest(), "steps": sc.steps}
                for lab, sc in zip(self.labels, self.scenarios, strict=True)
            ],
            started=self.started,
            finished=self.finished,
        )

    def parquet_provenance(self) -> dict[str, Any]:
        """What every Parquet table of the comparison carries in its schema metadata."""
        return {
            "kind": "comparison",
            "seed": self.seed,
            "replications": self.replications,
            "replicate_seeds": list(self.seeds),
            "scenarios": [
                {"label": lab, "name": sc.name, "digest": sc.digest()}
                for lab, sc in zip(self.labels, self.scenarios, strict=True)
            ],
        }

    def to_html(self, path: str | Path | None = None) -> str:
        """The self-contained HTML report (inline CSS and PNG charts); written if ``path``."""
        from adoption_model.compare.report import render_html

        text = render_html(self)
        if path is not None:
            _write_text(Path(path), text)
        return text

    def to_markdown(self, path: str | Path | None = None) -> str:
        """The report as Markdown (tables only, charts in the HTML); written if ``path``."""
        from adoption_model.compare.report import render_markdown

        text = render_markdown(self)
        if path is not None:
            _write_text(Path(path), text)
        return text

    def to_iamc(self) -> pd.DataFrame:
        """The results as an IAMC long frame (``model, scenario, region, variable, unit,
        year, value``; pyam reads it): each scenario's World trajectories (median, 5th and
        95th percentiles) and each nation's adoption probability by the horizon
        (:func:`adoption_model.discovery.iamc.comparison_to_iamc`)."""
        from adoption_model.discovery.iamc import comparison_to_iamc

        return comparison_to_iamc(self.fan, self.adoption_probability)

    def save(self, directory: str | Path) -> Path:
        """Write every table (CSV and Parquet), ``runs.parquet``/``runs.csv``,
        ``provenance.json``, ``report.html``, ``report.md`` and ``iamc.csv`` (the results
        in the IAMC template, :meth:`to_iamc`) into ``directory``.

        The files are written into a temporary directory beside ``directory`` that then
        takes its place (:func:`~adoption_model.fileio.atomic_dir`): a failure, a full disk
        included, leaves the previous report (or nothing) and is a one-line InputError.
        Other entries of a previous ``directory`` (the runs ``store``) are kept.
        """
        from adoption_model.experiments.store import write_parquet
        from adoption_model.fileio import atomic_dir

        html = self.to_html()
        md = self.to_markdown()
        meta = self.parquet_provenance()
        names = ("runs", *self.TABLES)
        owned = [f"{n}.{e}" for n in names for e in ("parquet", "csv")]
        owned += ["provenance.json", "report.md", "report.html", "iamc.csv"]
        fix = "free some space or choose another --out; the previous report is unchanged"
        with atomic_dir(directory, owned, fix=fix) as out:
            for name in names:
                df = getattr(self, name)
                write_parquet(out / f"{name}.parquet", df, {**meta, "table": name})
                df.to_csv(out / f"{name}.csv", index=False)
            provenance = json.dumps(self.provenance(), indent=2)
            (out / "provenance.json").write_text(provenance, encoding="utf-8")
            (out / "report.md").write_text(md, encoding="utf-8")
            (out / "report.html").write_text(html, encoding="utf-8")
            iamc = self.to_iamc()
            if len(iamc):
                from adoption_model.discovery.iamc import export_iamc

                export_iamc(iamc, out / "iamc.csv")
        return Path(directory)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"Comparison({self.labels}, replications={self.replications}, seed={self.seed})"


def _write_text(path: Path, text: str) -> None:
    from adoption_model.fileio import atomic_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_text(path, text)


# ---------------------------------------------------------------------------- the API
def resolve_scenarios(
    scenarios: Sequence[str | Path | Scenario], steps: int | None = None
) -> tuple[list[Scenario], list[str]]:
    """Load every scenario (InputError on the first bad one) and give them unique labels."""
    overrides = {"steps": steps} if steps is not None else None
    loaded = [load_scenario(s, overrides) for s in scenarios]
    labels: list[str] = []
    for sc in loaded:
        label, k = sc.name, 2
        while label in labels:
            label, k = f"{sc.name}#{k}", k + 1
        labels.append(label)
    return loaded, labels


def comparison_experiment(
    scenarios: Sequence[Scenario],
    labels: Sequence[str],
    replications: int,
    seed: int,
    posterior: str = "",
) -> Any:
    """The experiment a comparison runs: each scenario a base, one point, CRN seeds."""
    from adoption_model.experiments import load_experiment

    return load_experiment(
        {
            "name": "compare-" + "-".join(labels),
            "description": "adoption-model compare " + " ".join(labels),
            "base": scenarios[0].to_dict(),
            "scenarios": [sc.to_dict() for sc in scenarios],
            "seed": int(seed),
            "replications": int(replications),
            "outcomes": dict(EXPRESSIONS),
            "store": {"steps": True, "adoptions": True, "chunk_runs": min(10, replications)},
            "posterior": str(posterior or ""),
        }
    )


def compare(
    scenarios: Sequence[str | Path | Scenario],
    replications: int = 20,
    seed: int = 0,
    *,
    steps: int | None = None,
    workers: int = 1,
    backend: str | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    progress: bool = False,
    batch_size: int | None = None,
    posterior: str | Path | None = None,
) -> Comparison:
    """Run scenarios side by side with common random numbers and summarise them.

    Parameters
    ----------
    scenarios : list of str, Path or Scenario
        Two or more bundled scenario names, TOML paths or scenarios; the first is the
        reference for the paired differences.
    replications : int, default 20
        Replicates per scenario (at least 2).
    seed : int, default 0
        The comparison seed; replicate ``r`` of every scenario runs with
        ``replicate_seeds(seed, replications)[r]``, whatever ``scenario.seed`` says.
    steps : int, optional
        Override every scenario's horizon (months), e.g. for a quick look.
    workers : int, default 1
        Worker processes. The numbers do not depend on it.
    backend : {"serial", "processes", "dask"}, optional
        Where runs execute (the experiments runner's backends); default ``processes`` when
        ``workers > 1`` or ``scheduler`` is given (then ``dask``), else ``serial``.
    scheduler : str, optional
        Address of a running Dask scheduler (dask backend).
    store : path, optional
        The experiments results directory to run into; running again with the same
        arguments resumes from it. Default: a temporary directory, removed afterwards.
    progress : bool
        Show the runner's progress bar on stderr.
    batch_size : int, optional
        Runs per ensemble batch (default: chosen from the scenarios' size and memory; 1
        runs every run alone). The numbers do not depend on it.
    posterior : str or path, optional
        ``"shipped"`` or a posterior Parquet: each replicate draws its ``rule.coef.*`` from
        the sample by its seed (the same draw in every scenario), so the intervals show
        parameter uncertainty as well as noise (:mod:`adoption_model.experiments.posterior`).

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        Fewer than two scenarios, fewer than two replications, an unknown scenario (with
        suggestions), an invalid scenario file or option (raised before anything runs), or
        runs that failed (how many, and the first error).

    Examples
    --------
    >>> c = compare(["baseline", "contagion_off"], replications=2, steps=3)
    >>> float(c.differences.query("scenario == 'baseline'")["mean_difference"].abs().max())
    0.0
    """
    if isinstance(scenarios, str | Path | Scenario):
        scenarios = [scenarios]
    if len(scenarios) < 2:
        raise InputError(
            f"compare needs at least two scenarios (got {len(scenarios)}); the first is the "
            "reference, e.g. adoption-model compare baseline us_reserve_expansion"
        )
    if int(replications) < 2:
        raise InputError(
            f"--replications {replications}: need at least 2 for an interval; 20 is the default"
        )
    if int(workers) < 1:
        raise InputError(f"--workers {workers}: must be at least 1")
    if steps is not None and int(steps) < 0:
        raise InputError(f"--steps {steps}: must be 0 or more months")
    if backend is None:
        backend = "dask" if scheduler else ("processes" if int(workers) > 1 else "serial")
    if backend not in BACKENDS:
        raise InputError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")
    loaded, labels = resolve_scenarios(scenarios, steps)
    exp = comparison_experiment(
        loaded, labels, int(replications), int(seed), str(posterior) if posterior else ""
    )
    started = _now()
    if store is None:
        with tempfile.TemporaryDirectory(prefix="adoption-compare-") as tmp:
            stored = _run(exp, Path(tmp), backend, int(workers), scheduler, progress, batch_size)
    else:
        stored = _run(exp, Path(store), backend, int(workers), scheduler, progress, batch_size)
    result = build_comparison(
        loaded, labels, int(seed), replicate_seeds(int(seed), int(replications)), *stored,
        workers=int(workers), backend=backend, started=started, finished=_now(),
    )  # fmt: skip
    result.posterior = exp.posterior
    return result


def _run(
    exp: Any,
    directory: Path,
    backend: str,
    workers: int,
    scheduler: str | None,
    progress: bool,
    batch_size: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run (or resume) the comparison's experiment; return its runs, steps and adoptions."""
    from adoption_model.experiments import read_adoptions, read_steps, run_experiment

    runs = run_experiment(
        exp, directory, backend=backend, workers=workers, scheduler=scheduler,
        progress=progress, batch_size=batch_size,
    )  # fmt: skip
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise InputError(
            f"{len(failed)} of {len(runs)} runs failed (first: {failed['error'].iloc[0]}); "
            "the comparison needs every run"
        )
    return runs, read_steps(directory), read_adoptions(directory)


def build_comparison(
    scenarios: list[Scenario],
    labels: list[str],
    seed: int,
    seeds: list[int],
    stored_runs: pd.DataFrame,
    steps: pd.DataFrame,
    adoptions: pd.DataFrame,
    *,
    workers: int = 1,
    backend: str = "serial",
    started: str = "",
    finished: str = "",
) -> Comparison:
    """The comparison's own runs table (labels, digests, derived outcomes) and every table."""
    from adoption_model.nations import load_nations

    index = stored_runs["scenario"].to_numpy()
    horizon = [int(sc.steps) for sc in scenarios]
    runs = pd.DataFrame(
        {
            "scenario": [labels[i] for i in index],
            "scenario_name": [scenarios[i].name for i in index],
            "scenario_index": stored_runs["scenario"].astype("int64"),
            "scenario_digest": [scenarios[i].digest() for i in index],
            "replicate": stored_runs["replicate"].astype("int64"),
            "seed": stored_runs["seed"].astype("int64"),
            "run_id": stored_runs["run_id"].astype("int64"),
            "steps": [horizon[i] for i in index],
            "steps_run": stored_runs["steps_run"].astype("int64"),
        }
    )
    runs["stopped_early"] = runs["steps_run"] < runs["steps"]
    for key in EXPRESSIONS:
        runs[key] = stored_runs[key].to_numpy(dtype=float)
    for level in ("25", "50"):
        runs[f"reached_{level}pct"] = runs[f"time_to_{level}pct"].notna().astype(float)
    traj = trajectories(runs, steps, scenarios, labels)
    names = _nation_names(scenarios, load_nations)
    adoption, first = nation_tables(scenarios, labels, runs, adoptions, names)
    outcomes = outcome_table(runs, labels, seed)
    differences = paired_differences(runs, labels, seed)
    curve, advice = convergence_tables(runs, labels, differences, outcomes)
    return Comparison(
        scenarios=list(scenarios), labels=list(labels), seed=seed, replications=len(seeds),
        seeds=list(seeds), runs=runs.drop(columns="run_id"), trajectories=traj,
        outcomes=outcomes, differences=differences, fan=fan_table(traj),
        adoption_probability=adoption, first_adoption=first,
        assumptions=assumptions_table(scenarios, labels), convergence=advice,
        convergence_curve=curve, workers=workers, backend=backend, started=started,
        finished=finished,
    )  # fmt: skip


def _nation_names(scenarios: Sequence[Scenario], load: Any) -> dict[str, str]:
    if not any(sc.network.kind == "real" for sc in scenarios):
        return {}
    table = load()
    return dict(zip(table["iso3"].astype(str), table["name"].astype(str), strict=True))


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
