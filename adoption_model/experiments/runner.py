"""Running an experiment: the same runs on one core, local processes or a Dask cluster.

:func:`run_experiment` draws the run table (:func:`~adoption_model.experiments.design.
run_table`), skips chunks the store already holds, sends the remaining runs to a backend
and writes each chunk as soon as all its runs are back. A run that raises is recorded with
``status = "failed"`` and its error; the sweep goes on. A worker that dies is replaced and
its runs are sent again (up to ``MAX_ATTEMPTS`` times, then recorded as failed).

Backends
--------
``serial``     in this process.
``processes``  :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start
               method (safe with threads, the same on Linux, macOS and Windows). A user's
               script that calls :func:`run_experiment` with this backend must guard its
               entry point with ``if __name__ == "__main__":`` because spawned workers
               import the main module.
``dask``       :mod:`dask.distributed`: the scheduler at ``scheduler`` if given, otherwise a
               :class:`~distributed.LocalCluster` of ``workers`` single-threaded worker
               processes on 127.0.0.1. Dead workers are restarted by their nanny and their
               tasks rescheduled by Dask.
``slurm``      the ``dask`` backend on a :class:`dask_jobqueue.SLURMCluster`: ``jobs`` batch
               jobs of ``cores`` single-threaded workers each, submitted with ``sbatch``
               (options in ``slurm``: queue, cores, memory, walltime, jobs and any other
               SLURMCluster keyword; dask's ``jobqueue.slurm`` configuration gives defaults).
               A cancelled job's runs are rescheduled on the other jobs.

``shard=(i, n)`` runs only the chunks ``k`` with ``k % n == i`` and does not finish the
dataset, so ``n`` independent processes (an ``sbatch --array``) can fill one store; a final
run without ``shard`` runs whatever chunks are missing and writes ``runs.parquet``.

Every run's result depends only on its scenario, overrides and seed, so every backend
gives the same ``runs.parquet`` (apart from the ``duration_s`` and ``host`` columns).

Batches
-------
Runs are sent to workers in batches: consecutive runs that share their structure (network
kind and size, rule kind, engine, nation frames: :func:`adoption_model.ensemble.
structure_key`) go as one unit, and the worker runs the unit as one ensemble
(:func:`run_tasks`, :mod:`adoption_model.ensemble`), bit for bit the runs it replaces.
The batch size is chosen from the scenario's size and memory
(:func:`~adoption_model.ensemble.auto_batch_size`), at most enough for every worker to
get two batches; ``batch_size`` overrides it (``1`` runs every run alone, as before).
"""

from __future__ import annotations

import functools
import math
import os
import platform
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.errors import InputError
from adoption_model.experiments.batches import batches, run_tasks
from adoption_model.experiments.design import run_table
from adoption_model.experiments.outcomes import evaluate_outcomes
from adoption_model.experiments.spec import Experiment, load_experiment
from adoption_model.experiments.store import ResultStore
from adoption_model.guards import check_batch_size, die_with_parent

BACKENDS = ("serial", "processes", "dask", "slurm")
MAX_ATTEMPTS = 3
#: Columns that legitimately differ between backends and sessions.
VOLATILE_COLUMNS = ("duration_s", "host")


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one simulation and reduce it; never raises for a model error.

    ``task`` holds ``run_id``, ``seed`` (a Python int, used as is), ``base`` (scenario
    dict), ``overrides``, ``outcomes``, ``keep_steps``, ``keep_nations`` and optionally
    ``keep_adoptions``. Returns ``run_id``, ``status``, ``error``, ``outcomes``,
    ``steps_run``, ``duration_s``, ``host`` and the ``steps``, ``nations`` and ``adoptions``
    frames (or None). With ``posterior`` (a sample path) the run draws its ``rule.coef.*``
    from it by its seed (:mod:`adoption_model.experiments.posterior`).
    """
    from adoption_model.runner import run

    started = time.perf_counter()
    out: dict[str, Any] = {
        "run_id": task["run_id"],
        "status": "ok",
        "error": "",
        "outcomes": {k: math.nan for k in task["outcomes"]},
        "steps_run": -1,
        "steps": None,
        "nations": None,
        "adoptions": None,
        "host": platform.node(),
    }
    adoptions = bool(task.get("keep_adoptions", False))
    try:
        keep = bool(task["keep_nations"]) or adoptions
        overrides = {**task["overrides"], "output.nation_frame": keep}
        if task.get("posterior"):  # parameter uncertainty: this run's coefficient draw
            from adoption_model.experiments.posterior import posterior_overrides

            overrides = {
                **posterior_overrides(task["posterior"], task["seed"], task["base"]),
                **overrides,
            }
        result = run(task["base"], seed=task["seed"], overrides=overrides)
        frame = result.model_frame
        out["outcomes"] = evaluate_outcomes(task["outcomes"], frame)
        out["steps_run"] = int(frame["step"].iloc[-1])
        if task["keep_steps"]:
            out["steps"] = frame.assign(date=frame["date"].astype(str)).assign(
                run_id=np.int64(task["run_id"])
            )[["run_id", *frame.columns]]
        if task["keep_nations"] and result.nation_frame is not None:
            nf = result.nation_frame
            out["nations"] = nf.assign(run_id=np.int64(task["run_id"]))[["run_id", *nf.columns]]
        if adoptions:
            out["adoptions"] = adoption_frame(task["run_id"], result)
    except Exception as exc:  # a failing run is data, not a crash of the sweep
        out["status"] = "failed"
        out["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:2000]
        if os.environ.get("ADOPTION_MODEL_DEBUG"):
            traceback.print_exc()
    out["duration_s"] = time.perf_counter() - started
    return out


#: States in which a nation counts as an adopter (holds a reserve, mines, or both).
ADOPTED_STATES = ("reserve", "mining", "both")


def adoption_frame(run_id: int, result: Any) -> pd.DataFrame:
    """Per nation that ever adopted: first adoption step and whether it holds at the horizon.

    Columns ``run_id``, ``nation``, ``first_step`` (0: a starting adopter) and ``held``
    (reserve or mining at the last step of the nation frame).
    """
    first = result.first_adoptions
    nf = result.nation_frame
    final = nf[nf["step"] == nf["step"].max()]
    held = set(final.loc[final["state"].astype(str).isin(ADOPTED_STATES), "nation"].astype(str))
    nations = first["nation"].astype(str).tolist()
    steps = first["step"].astype(np.int64).tolist()
    return pd.DataFrame(
        {
            "run_id": np.full(len(nations), run_id, dtype=np.int64),
            "nation": nations,
            "first_step": np.asarray(steps, dtype=np.int64),
            "held": np.asarray([n in held for n in nations], dtype=bool),
        }
    )


def _lost(task: dict[str, Any], why: str) -> dict[str, Any]:
    return {
        "run_id": task["run_id"], "status": "failed", "error": why,
        "outcomes": {k: math.nan for k in task["outcomes"]}, "steps_run": -1,
        "steps": None, "nations": None, "adoptions": None, "host": "", "duration_s": math.nan,
    }  # fmt: skip


# -- backends --------------------------------------------------------------------------
def _units(tasks: Iterable[Any]) -> Iterator[list[dict[str, Any]]]:
    """Backends take batches (lists of tasks); a task given alone is a batch of one."""
    for unit in tasks:
        yield unit if isinstance(unit, list) else [unit]


def _serial(tasks: Iterable[list[dict[str, Any]]], workers: int, scheduler: str | None):
    for batch in _units(tasks):
        yield from run_tasks(batch)


def _processes(tasks: Iterable[list[dict[str, Any]]], workers: int, scheduler: str | None):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    source = _units(tasks)
    retry: deque[list[dict[str, Any]]] = deque()
    attempts: dict[int, int] = {}
    window = max(2, 4 * workers)
    ctx = mp.get_context("spawn")
    exhausted = False
    while True:
        pool = ProcessPoolExecutor(  # workers die with this process, even after kill -9
            max_workers=workers,
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )
        inflight: dict[Any, list[dict[str, Any]]] = {}
        broken = False
        try:
            while True:
                while len(inflight) < window and not broken:
                    task = retry.popleft() if retry else next(source, None)
                    if task is None:
                        exhausted = True
                        break
                    try:
                        inflight[pool.submit(run_tasks, task)] = task
                    except BrokenProcessPool:
                        retry.appendleft(task)
                        broken = True
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    first = task[0]["run_id"]
                    try:
                        yield from fut.result()
                    except BrokenProcessPool:
                        broken = True
                        attempts[first] = attempts.get(first, 0) + 1
                        if attempts[first] >= MAX_ATTEMPTS:
                            why = f"worker died {MAX_ATTEMPTS} times running it"
                            yield from (_lost(t, why) for t in task)
                        else:
                            retry.append(task)
                if broken:
                    for task in inflight.values():  # the pool is gone: resend them all
                        retry.append(task)
                    inflight.clear()
                    break
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        if not broken and exhausted and not retry:
            return
        retry = deque(sorted(retry, key=lambda t: t[0]["run_id"]))


def _dask(tasks: Iterable[list[dict[str, Any]]], workers: int, scheduler: str | None):
    from adoption_model.extras import require

    require("dask")
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
        )  # fmt: skip
        client = Client(cluster)
    try:
        source = _units(tasks)
        window = max(2, 4 * max(workers, len(client.scheduler_info().get("workers", {}))))
        pending = as_completed()
        meta: dict[str, list[dict[str, Any]]] = {}

        attempts: dict[int, int] = {}

        def submit(task: list[dict[str, Any]] | None = None) -> bool:
            task = task if task is not None else next(source, None)
            if task is None:
                return False
            first, last = task[0]["run_id"], task[-1]["run_id"]
            n = attempts.get(first, 0)
            key = f"run-{task[0]['key']}-{first}-{last}" + (f"-retry{n}" if n else "")
            fut = client.submit(run_tasks, task, key=key)
            meta[fut.key] = task
            pending.add(fut)
            return True

        for _ in range(window):
            if not submit():
                break
        for fut in pending:
            task = meta.pop(fut.key)
            first = task[0]["run_id"]
            try:
                result = fut.result()
            except Exception as exc:  # KilledWorker after repeated worker deaths, lost comms
                fut.release()
                attempts[first] = attempts.get(first, 0) + 1
                if attempts[first] < MAX_ATTEMPTS:
                    submit(task)
                    continue
                why = f"{type(exc).__name__}: {exc}".replace("\n", " ")
                result = [_lost(t, why) for t in task]
            fut.release()
            yield from result
            submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


#: SLURMCluster settings when neither the options nor dask's configuration give them.
SLURM_DEFAULTS: dict[str, Any] = {"jobs": 2, "cores": 1, "memory": "2GiB", "walltime": "01:00:00"}


def _slurm(
    tasks: Iterable[list[dict[str, Any]]],
    workers: int,
    scheduler: str | None,
    options: dict[str, Any],
):
    """Start a SLURMCluster of ``jobs`` batch jobs and run the tasks on it (dask backend)."""
    from adoption_model.extras import require

    require("cluster")
    import dask
    from dask_jobqueue import SLURMCluster

    opts = dict(options)
    configured = dask.config.get("jobqueue.slurm", {}) or {}
    for key, value in SLURM_DEFAULTS.items():
        if opts.get(key) is None and (key == "jobs" or configured.get(key) is None):
            opts[key] = value
    opts = {k: v for k, v in opts.items() if v is not None}
    jobs = int(opts.pop("jobs"))
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: give at least 1")
    cores = int(opts.get("cores") or configured.get("cores") or 1)
    opts.setdefault("processes", cores)  # single-threaded workers: the runs hold the GIL
    opts.setdefault("scheduler_options", {}).setdefault("dashboard_address", None)
    try:
        cluster = SLURMCluster(**opts)
    except (TypeError, ValueError) as exc:
        raise InputError(f"slurm options: {exc}") from None
    try:
        cluster.scale(jobs=jobs)
        yield from _dask(tasks, jobs * int(opts["processes"]), cluster.scheduler_address)
    finally:
        cluster.close()


_BACKENDS: dict[str, Callable[..., Iterator[dict[str, Any]]]] = {
    "serial": _serial,
    "processes": _processes,
    "dask": _dask,
    "slurm": _slurm,
}


# -- the sweep -------------------------------------------------------------------------
def _chunk_frames(
    table: pd.DataFrame, results: dict[int, dict[str, Any]], outcomes: list[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame | None]]:
    ids = sorted(results)
    runs = table.loc[ids].reset_index(drop=True)
    res = [results[i] for i in ids]
    for name in outcomes:
        runs[name] = np.array([r["outcomes"][name] for r in res], dtype=float)
    runs["status"] = [r["status"] for r in res]
    runs["error"] = [r["error"] for r in res]
    runs["steps_run"] = np.array([r["steps_run"] for r in res], dtype=np.int64)
    runs["duration_s"] = np.array([r["duration_s"] for r in res], dtype=float)
    runs["host"] = [r["host"] for r in res]
    parts: dict[str, pd.DataFrame | None] = {}
    for part in ("steps", "nations", "adoptions"):
        frames = [r[part] for r in res if r.get(part) is not None]
        parts[part] = pd.concat(frames, ignore_index=True) if frames else None
    return runs, parts


def run_experiment(
    experiment: Experiment | str | Path | dict[str, Any],
    out: str | Path,
    *,
    backend: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    limit: int | None = None,
    slurm: dict[str, Any] | None = None,
    shard: tuple[int, int] | None = None,
    batch_size: int | None = None,
    retry_failed: bool = False,
    wait: bool = False,
) -> pd.DataFrame:
    """Run (or resume) an experiment into the results directory ``out``.

    Parameters
    ----------
    experiment : Experiment, path or dict
        As :func:`~adoption_model.experiments.spec.load_experiment` takes it.
    out : path
        Results directory; completed chunks found there are skipped.
    backend : {"serial", "processes", "dask"}
    workers : int, optional
        Worker processes (default: the number of cores).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); dask backend only.
    progress : bool
        Show a progress bar (runs done, failed, rate, ETA) on stderr.
    limit : int, optional
        Stop after this many new runs (for benchmarks; the sweep stays resumable).
    slurm : dict, optional
        SLURMCluster options for ``backend="slurm"``: ``jobs``, ``queue``, ``cores``,
        ``memory``, ``walltime``, ``account``, ``interface``, ``job_extra_directives``...
        Job logs go to ``out/slurm-logs`` unless ``log_directory`` is given.
    shard : (i, n), optional
        Run only chunks ``k`` with ``k % n == i``; leave ``runs.parquet`` to a final run
        without ``shard``.
    batch_size : int, optional
        Runs per ensemble batch (default: ``[run] batch_size`` of the experiment file, else
        chosen from the scenario's size and memory); 1 runs every run alone. The results
        do not depend on it.
    retry_failed : bool
        Run the runs recorded as failed again (their chunks' other runs are kept).
    wait : bool
        Wait for another sweep writing the same directory instead of refusing.

    Returns
    -------
    pandas.DataFrame
        ``runs.parquet``: one row per run, sorted by ``run_id``.
    """
    exp = load_experiment(experiment)
    check_batch_size(batch_size)  # before anything is written
    if backend not in BACKENDS:
        raise InputError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if scheduler and backend != "dask":
        raise InputError("--scheduler needs --backend dask")
    if shard is not None and not (0 <= shard[0] < shard[1]):
        raise InputError(f"--shard {shard[0]}/{shard[1]}: give I/N with 0 <= I < N")
    workers = int(workers or os.cpu_count() or 1)
    if workers < 1:
        raise InputError(f"--workers {workers}: give at least 1")
    store = ResultStore(out, exp, retry_failed=retry_failed, wait=wait)
    table = run_table(exp)
    size = store.chunk_runs
    n_chunks = math.ceil(len(table) / size)
    mine = None if shard is None else [k for k in range(n_chunks) if k % shard[1] == shard[0]]
    session: dict[str, Any] = {"backend": backend, "workers": workers}
    if shard is not None:
        session["shard"] = f"{shard[0]}/{shard[1]}"
    done_chunks = store.open(session, chunks=mine, n_runs=len(table))
    try:
        return _sweep(
            exp, store, table, done_chunks, mine, backend, workers, scheduler, progress, limit,
            slurm, shard, batch_size,
        )  # fmt: skip
    finally:
        store.close()


def _sweep(
    exp: Experiment,
    store: ResultStore,
    table: pd.DataFrame,
    done_chunks: set[int],
    mine: list[int] | None,
    backend: str,
    workers: int,
    scheduler: str | None,
    progress: bool,
    limit: int | None,
    slurm: dict[str, Any] | None,
    shard: tuple[int, int] | None,
    batch_size: int | None,
) -> pd.DataFrame:
    """Run the runs the store has pending, chunk by chunk, holding the store's locks."""
    out = store.dir
    size = store.chunk_runs
    n_chunks = math.ceil(len(table) / size)
    todo_chunks = [k for k in (mine or range(n_chunks)) if k not in done_chunks]
    pending = store.pending
    total_todo = sum(len(pending[k]) for k in todo_chunks)
    if limit is not None:
        total_todo = min(total_todo, limit)
    bases = [sc.to_dict() for sc in exp.base_scenarios()]
    factors = list(exp.factors) or sorted({k for p in exp.design.points or [] for k in p})
    outcomes = dict(exp.outcomes)
    key = exp.digest()

    # Column by column, never a row: a row of a frame with float columns is a float64
    # Series, which would round a 63-bit seed to 53 bits (and integer factors to floats).
    # ``tolist`` gives Python ints, floats and strings exactly as the table holds them.
    seeds: list[int] = table["seed"].tolist()
    which: list[int] = table["scenario"].tolist() if "scenario" in table else [0] * len(table)
    values = {f: table[f].tolist() for f in factors}

    def tasks() -> Iterator[dict[str, Any]]:
        sent = 0
        for k in todo_chunks:
            for rid in pending[k]:
                if limit is not None and sent >= limit:
                    return
                yield {
                    "run_id": int(rid), "seed": seeds[rid], "base": bases[which[rid]], "key": key,
                    "overrides": {f: values[f][rid] for f in factors},
                    "outcomes": outcomes, "keep_steps": exp.store.steps,
                    "keep_nations": exp.store.nations, "keep_adoptions": exp.store.adoptions,
                    "posterior": exp.posterior,
                }  # fmt: skip
                sent += 1

    if batch_size is None:
        batch_size = exp.run.batch_size
    spread = total_todo if backend == "serial" else math.ceil(total_todo / (2 * workers))
    units = batches(tasks(), batch_size, max(1, spread))

    buffers: dict[int, dict[int, dict[str, Any]]] = {}
    failed = 0
    bar = _Progress(total_todo, len(table) - total_todo, enabled=progress, label=exp.name)
    with bar:
        execute = _BACKENDS[backend]
        if backend == "slurm":
            opts = {"log_directory": str(Path(out) / "slurm-logs"), **(slurm or {})}
            execute = functools.partial(_slurm, options=opts)
        for result in execute(units, workers, scheduler):
            rid = result["run_id"]
            k = rid // size
            buffers.setdefault(k, {})[rid] = result
            failed += result["status"] != "ok"
            bar.advance(failed)
            if len(buffers[k]) == len(pending[k]):
                runs, parts = _chunk_frames(table, buffers.pop(k), list(outcomes))
                store.write_chunk(k, runs, **parts)
    if shard is None and store.completed_chunks() >= set(range(n_chunks)):
        return store.finish({"backend": backend, "workers": workers})
    from adoption_model.experiments.store import read_runs

    return read_runs(store.dir)


class _Progress:
    """A rich progress bar: runs done of total, failed, rate and ETA."""

    def __init__(self, total: int, already: int, *, enabled: bool, label: str) -> None:
        self.enabled = enabled
        self.total, self.already, self.label = total, already, label
        self.done = 0

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("failed {task.fields[failed]}"),
                TextColumn("{task.fields[rate]:.1f} runs/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.progress.start()
            note = f" (resuming: {self.already} done)" if self.already else ""
            self.task = self.progress.add_task(
                f"{self.label}{note}", total=self.total, failed=0, rate=0.0
            )
            self.t0 = time.perf_counter()
        return self

    def advance(self, failed: int) -> None:
        self.done += 1
        if self.enabled:
            rate = self.done / max(time.perf_counter() - self.t0, 1e-9)
            self.progress.update(self.task, advance=1, failed=failed, rate=rate)

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.progress.stop()
