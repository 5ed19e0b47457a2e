"""``adoption-model sweep`` and ``adoption-model analyze``: experiments at scale.

``sweep EXPERIMENT.toml [--backend serial|processes|dask] [--workers N] [--scheduler ADDR]
[--out DIR]`` runs (or resumes) an experiment into a results directory with a progress bar;
``analyze DIR`` writes Sobol'/Morris indices and per-point means as CSV, PNG and HTML.
See ``docs/experiments.md``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from adoption_model.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sweep`` and ``analyze`` to the CLI's subparsers."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run (or resume) an experiment: designs, replications, Parquet results",
        description="Run an experiment file into a results directory. Running the same "
        "command again resumes: completed chunks of runs are skipped.",
    )
    sweep.add_argument("experiment", help="experiment file (TOML), see docs/experiments.md")
    sweep.add_argument(
        "--backend", choices=("serial", "processes", "dask"), default="processes",
        help="where runs execute (default: processes)",
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
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--dry-run", action="store_true", help="validate and print the design size; run nothing"
    )
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
    an.set_defaults(func=_analyze)


def _warn_line(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"adoption-model: warning: {message}", file=sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    from adoption_model.experiments import load_experiment, run_experiment, run_table

    warnings.showwarning = _warn_line
    exp = load_experiment(args.experiment)
    out = Path(args.out) if args.out else Path("results") / exp.name
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: give at least 1")
    if args.dry_run:
        table = run_table(exp)
        print(
            f"{exp.name}: {exp.design.kind} design, {table['point'].nunique()} points x "
            f"{exp.replications} replicates = {len(table)} runs -> {out}"
        )
        return 0
    runs = run_experiment(
        exp, out, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
        progress=not args.quiet,
    )  # fmt: skip
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    print(f"{len(runs)} runs ({failed} failed) in {out}/runs.parquet")
    if failed:
        first = runs.loc[runs["status"] != "ok", "error"].iloc[0]
        print(f"first failure: {first}", file=sys.stderr)
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from adoption_model.experiments import analyze

    warnings.showwarning = _warn_line
    d = Path(args.directory)
    results = analyze(d, args.out)
    target = Path(args.out) if args.out else d / "analysis"
    for name, frame in results.items():
        print(f"{name}: {len(frame)} rows -> {target / (name + '.csv')}")
    for kind in ("sobol", "morris"):
        if kind in results:
            print(results[kind].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"report: {target / 'report.html'}")
    return 0
