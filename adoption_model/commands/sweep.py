"""``adoption-model sweep`` and ``adoption-model analyze``: experiments at scale.

``sweep EXPERIMENT [--backend serial|processes|dask|slurm] [--workers N] [--scheduler ADDR]
[--shard I/N] [--out DIR]`` runs (or resumes) an experiment (a TOML file or the name of a
bundled example) into a results directory with a progress bar; ``analyze DIR`` writes
Sobol'/Morris indices and per-point means as CSV, PNG and HTML. See ``docs/experiments.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from adoption_model import budget
from adoption_model.commands.common import add_batch_size, add_posterior, add_verbosity, verbosity
from adoption_model.errors import InputError, RunsFailed
from adoption_model.fileio import check_inside, check_output_dir, check_path
from adoption_model.guards import check_batch_size, check_seed


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sweep`` and ``analyze`` to the CLI's subparsers."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run (or resume) an experiment: designs, replications, Parquet results",
        description="Run an experiment file into a results directory. Running the same "
        "command again resumes: chunks of runs that check against their manifests are "
        "skipped, missing or damaged ones are run again (each rejected file is named). One "
        "sweep at a time per directory (or per --shard).",
    )
    sweep.add_argument(
        "experiment",
        help="experiment file (TOML) or a bundled example (lever_factorial, sobol_peer_effects, "
        "watts_threshold); see docs/experiments.md",
    )
    sweep.add_argument(
        "--backend", choices=("serial", "processes", "dask", "slurm"), default="processes",
        help="where runs execute (default: processes); slurm: dask-jobqueue batch jobs",
    )  # fmt: skip
    sweep.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: cores)"
    )
    sweep.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler (dask backend)"
    )
    sweep.add_argument(
        "--out", default=None, help="results directory (default: results/<experiment name>)"
    )
    sweep.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="run only chunks k with k %% N == I (0 <= I < N) and leave the dataset unfinished, "
        "for sbatch --array; 'slurm' reads I and N from SLURM_ARRAY_TASK_ID/_MIN/_COUNT. A final "
        "sweep without --shard runs any missing chunk and writes runs.parquet",
    )
    add_batch_size(sweep, "[run] batch_size, else from the scenario's size and memory")
    add_verbosity(sweep)
    sweep.add_argument(
        "--retry-failed", action="store_true",
        help="run again the runs a previous session recorded as failed",
    )  # fmt: skip
    sweep.add_argument(
        "--wait", action="store_true",
        help="wait for another sweep writing the same --out instead of refusing",
    )  # fmt: skip
    add_posterior(sweep, "run")
    sweep.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and print the design size and the time, memory and disk estimate; "
        "run nothing",
    )
    slurm = sweep.add_argument_group(
        "slurm backend", "batch jobs through dask-jobqueue (defaults: dask's jobqueue.slurm config)"
    )
    slurm.add_argument(
        "--cluster-config",
        type=Path,
        default=None,
        metavar="TOML",
        help="a TOML file whose [slurm] table holds SLURMCluster options "
        "(queue, account, cores, memory, walltime, jobs, interface, ...)",
    )
    slurm.add_argument("--jobs", type=int, default=None, help="batch jobs to start (default 2)")
    slurm.add_argument("--queue", default=None, help="partition (sbatch -p)")
    slurm.add_argument("--cores", type=int, default=None, help="cores (workers) per job")
    slurm.add_argument("--memory", default=None, help="memory per job, e.g. 4GiB")
    slurm.add_argument("--walltime", default=None, help="time limit per job, e.g. 02:00:00")
    sweep.add_argument(
        "--yes", action="store_true",
        help="go ahead although the estimate is over an hour, 4 GB of memory or 10 GB of disk",
    )  # fmt: skip
    sweep.set_defaults(func=_sweep)

    an = subparsers.add_parser(
        "analyze",
        help="Sobol'/Morris indices and per-point means of an experiment's results",
        description="Analyse a results directory written by sweep: per-point means with 95%% "
        "intervals; Sobol' S1/ST with intervals or Morris mu*/sigma for those designs. Writes "
        "CSV, PNG and an HTML report into DIR/analysis.",
    )
    an.add_argument("directory", help="results directory of adoption-model sweep")
    an.add_argument("--out", default=None, help="where to write (default: DIR/analysis)")
    add_verbosity(an)
    an.set_defaults(func=_analyze)


def _warn_line(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"adoption-model: warning: {message}", file=sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    from adoption_model.experiments import load_experiment, run_experiment, run_table

    warnings.showwarning = _warn_line
    exp = load_experiment(args.experiment)
    if args.posterior:
        from adoption_model.experiments.posterior import load_sample, posterior_path

        load_sample(str(posterior_path(args.posterior)))
        exp = exp.model_copy(update={"posterior": str(posterior_path(args.posterior))})
    check_seed(exp.seed, "seed")
    if args.out:
        out = check_path(args.out)
    else:
        out = check_inside(Path("results") / exp.name, "results", "name")
    check_output_dir(out)
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise InputError(f"--workers {args.workers}: give between 1 and {MAX_WORKERS}")
    if args.scheduler is not None:
        check_scheduler(args.scheduler, args.backend)
    workers = args.workers or os.cpu_count() or 1
    estimate = sweep_estimate(exp)
    check_batch_size(args.batch_size)
    if args.dry_run:
        print(
            f"{exp.name}: {exp.design.kind} design, {exp.design_size():,} points x "
            f"{exp.replications:,} replicates = {estimate.runs:,} runs -> {out}; needs "
            f"{estimate.describe(workers)}"
        )
        return 0
    budget.check(
        estimate, yes=args.yes, what="sweep", workers=workers,
        fix="lower replications, design.samples or levels, or steps",
    )  # fmt: skip
    shard = parse_shard(args.shard)
    slurm = slurm_options(args)
    if slurm and args.backend != "slurm":
        raise InputError("--cluster-config, --jobs, --queue, --cores, --memory and --walltime "
                         "need --backend slurm")  # fmt: skip
    level = verbosity(args)
    if level > 0:
        table = run_table(exp)
        print(f"{exp.name}: {len(table)} runs, backend {args.backend}"
              + (f", shard {shard[0]}/{shard[1]}" if shard else "")
              + (f", slurm {slurm}" if slurm else "") + f" -> {out}", file=sys.stderr)  # fmt: skip
    started = time.perf_counter()
    runs = run_experiment(
        exp, out, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
        progress=level >= 0, slurm=slurm, shard=shard, retry_failed=args.retry_failed,
        wait=args.wait,
        batch_size=args.batch_size,
    )  # fmt: skip
    failed = runs[runs["status"] != "ok"] if len(runs) else runs
    where = f"{out}/runs.parquet" if shard is None else f"{out}/runs/ (shard {args.shard})"
    if level >= 0:
        print(f"{len(runs)} runs ({len(failed)} failed) in {where}")
    if level > 0:
        print(f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        for row in failed.itertuples():
            print(f"run {row.run_id} (seed {row.seed}): {row.error}", file=sys.stderr)
    if level >= 0:
        print(
            "spread across runs: stochastic noise and parameter uncertainty (coefficients "
            f"drawn from {exp.posterior})"
            if exp.posterior
            else "spread across runs: stochastic noise and the design's factors (no --posterior)"
        )
    if len(failed):
        raise RunsFailed(len(failed), len(runs), f"run {failed['run_id'].iloc[0]}: "
                         f"{failed['error'].iloc[0]}")  # fmt: skip
    return 0


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/8"`` -> ``(2, 8)``; ``"slurm"`` reads the job array's task id and count."""
    if text is None:
        return None
    if text == "slurm":
        env = os.environ
        try:
            i = int(env["SLURM_ARRAY_TASK_ID"]) - int(env.get("SLURM_ARRAY_TASK_MIN", 0))
            n = int(env["SLURM_ARRAY_TASK_COUNT"])
        except (KeyError, ValueError):
            raise InputError(
                "--shard slurm: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT are not set; "
                "use it inside sbatch --array jobs, or give --shard I/N"
            ) from None
        return i, n
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise InputError(f"--shard {text!r}: give I/N, e.g. --shard 0/4, or 'slurm'") from None
    if not 0 <= i < n:
        raise InputError(f"--shard {text}: need 0 <= I < N, e.g. --shard 0/{max(n, 1)}")
    return i, n


def slurm_options(args: argparse.Namespace) -> dict[str, Any]:
    """SLURMCluster options: the --cluster-config file's [slurm] table, then the flags."""
    opts: dict[str, Any] = {}
    if args.cluster_config is not None:
        from adoption_model.scenario import read_toml

        data = read_toml(args.cluster_config)
        table = data.get("slurm")
        if not isinstance(table, dict):
            raise InputError(
                f"{args.cluster_config}: needs a [slurm] table of SLURMCluster options"
            )
        opts.update(table)
    for key in ("jobs", "queue", "cores", "memory", "walltime"):
        if getattr(args, key) is not None:
            opts[key] = getattr(args, key)
    return opts


MAX_WORKERS = 1024


def sweep_estimate(exp) -> budget.Estimate:  # noqa: ANN001 - an Experiment
    """Time, memory and disk of a whole experiment (from its size, nothing is drawn)."""
    sc = exp.base_scenario()
    runs = exp.run_count()
    one = budget.estimate_run(sc, keep_nations=exp.store.nations)
    steps_bytes = (sc.steps + 1) * 120 if exp.store.steps else 0.0
    table = runs * (len(exp.factors) + len(exp.outcomes) + 8) * 8.0  # the run table
    return budget.times(one, runs, steps_bytes=steps_bytes, memory=2 * table)


_ADDRESS = re.compile(r"(?:(tcp|tls)://)?([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})")


def check_scheduler(address: str, backend: str, timeout: float = 5.0) -> str:
    """Refuse a Dask scheduler address that is malformed or does not answer, before writing.

    ``tcp://host:port`` (or ``host:port``); a TCP connection is tried for ``timeout`` s.
    """
    if backend != "dask":
        raise InputError("--scheduler needs --backend dask")
    m = _ADDRESS.fullmatch(address)
    if not m or not 0 < int(m.group(3)) < 65536:
        raise InputError(
            f"--scheduler {address[:80]!r}: not a scheduler address; write it as tcp://host:8786"
        )
    host, port = m.group(2).strip("[]"), int(m.group(3))
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise InputError(
            f"--scheduler {address}: cannot connect ({exc.strerror or exc}); start the "
            "scheduler or check the address"
        ) from None
    return address


def _analyze(args: argparse.Namespace) -> int:
    from adoption_model.experiments import analyze

    warnings.showwarning = _warn_line
    level = verbosity(args)
    d = Path(args.directory)
    results = analyze(d, args.out)
    target = Path(args.out) if args.out else d / "analysis"
    if level < 0:
        return 0
    if level > 0:
        for name, frame in results.items():
            print(f"{name}:\n{frame.to_string(index=False)}")
    for name, frame in results.items():
        print(f"{name}: {len(frame)} rows -> {target / (name + '.csv')}")
    for kind in ("sobol", "morris"):
        if kind in results:
            print(results[kind].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"report: {target / 'report.html'}")
    return 0
