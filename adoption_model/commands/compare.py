"""``adoption-model compare``: run scenarios side by side and write a report.

``adoption-model compare baseline us_reserve_expansion imf_hard_line`` runs each scenario
``--replications`` times with the same replicate seeds (common random numbers) on the
experiments runner (``--backend serial|processes|dask``), prints the outcome table and writes
the tables (CSV and Parquet), ``runs.parquet``, ``provenance.json``, ``report.html``,
``report.md`` and ``iamc.csv`` (IAMC template) into ``--out``; the runner's store is
``--out``/store, so the same command run again after an interruption resumes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from adoption_model import budget
from adoption_model.commands.common import add_batch_size, add_posterior, add_verbosity, verbosity
from adoption_model.errors import InputError
from adoption_model.fileio import check_output_dir
from adoption_model.guards import check_batch_size, check_seed


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command to the CLI's subparsers."""
    p = subparsers.add_parser(
        "compare",
        help="run scenarios side by side (common random numbers) and write a report",
        description="Run two or more scenarios with the same replicate seeds, print the "
        "outcomes with 95%% intervals and write an HTML/Markdown report with every number as "
        "CSV and Parquet. The first scenario is the reference for paired differences.",
    )
    p.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="bundled scenario names or TOML paths"
    )
    p.add_argument("--replications", type=int, default=20, help="replicates per scenario (>= 2)")
    p.add_argument("--seed", type=int, default=0, help="comparison seed (default 0)")
    p.add_argument("--steps", type=int, default=None, help="override every scenario's horizon")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--backend", choices=("serial", "processes", "dask"), default=None,
        help="where runs execute (default: processes with --workers > 1, else serial)",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler (dask backend)"
    )
    add_batch_size(p, "from the scenarios' size and memory")
    add_verbosity(p)
    add_posterior(p, "replicate")
    p.add_argument(
        "--out", type=Path, default=None, help="output directory (default: compare-<names>)"
    )
    p.add_argument(
        "--yes", action="store_true",
        help="go ahead although the estimate is over an hour, 4 GB of memory or 10 GB of disk",
    )  # fmt: skip
    p.set_defaults(func=_compare)


MAX_WORKERS = 1024


def default_out(names: list[str]) -> Path:
    """``compare-<name1>-<name2>...`` from the scenarios' file stems (shortened)."""
    stems = [Path(n).stem for n in names]
    return Path(("compare-" + "-".join(stems))[:120])


def _compare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from adoption_model.compare import compare
    from adoption_model.compare.core import resolve_scenarios

    level = verbosity(args)
    started = time.perf_counter()

    names = list(args.scenarios)
    if len(names) < 2:
        raise InputError(
            f"compare needs at least two scenarios (got {len(names)}); the first is the "
            "reference, e.g. adoption-model compare baseline us_reserve_expansion"
        )
    if args.replications < 2:
        raise InputError(
            f"--replications {args.replications}: need at least 2 for an interval; "
            "20 is the default"
        )
    if args.workers < 1 or args.workers > MAX_WORKERS:
        raise InputError(f"--workers {args.workers}: must be between 1 and {MAX_WORKERS}")
    if args.scheduler and args.backend not in (None, "dask"):
        raise InputError("--scheduler needs --backend dask")
    check_batch_size(args.batch_size)
    if args.scheduler:
        from adoption_model.commands.sweep import check_scheduler

        check_scheduler(args.scheduler, "dask")
    check_seed(args.seed)
    runs = len(names) * args.replications
    if runs > budget.MAX_COMPARE_RUNS:
        raise InputError(
            f"--replications {args.replications}: {runs:,} runs; at most "
            f"{budget.MAX_COMPARE_RUNS:,} in one comparison"
        )
    out = args.out if args.out is not None else default_out(names)
    check_output_dir(out)
    resolved, _ = resolve_scenarios(names, args.steps)  # all validate before anything runs
    if level > 0:
        for sc in resolved:
            print(f"{sc.name}: digest {sc.digest()}, {sc.steps} months", file=sys.stderr)
    ones = [budget.estimate_run(sc, keep_nations=False) for sc in resolved]
    frames = sum((sc.steps + 1) * 200 for sc in resolved) * args.replications  # kept in memory
    total = budget.Estimate(
        runs,
        sum(e.seconds for e in ones) * args.replications,
        max(e.memory for e in ones) + frames,
        sum(e.disk for e in ones) * args.replications,
    )
    budget.check(
        total, yes=args.yes, what="compare", workers=args.workers,
        fix="lower --replications or --steps",
    )  # fmt: skip

    result = compare(
        names, replications=args.replications, seed=args.seed, steps=args.steps,
        workers=args.workers, backend=args.backend, scheduler=args.scheduler,
        store=out / "store", progress=level >= 0 and sys.stderr.isatty(),
        batch_size=args.batch_size,
        posterior=args.posterior,
    )  # fmt: skip
    result.save(out)
    if level < 0:
        return 0

    from adoption_model.compare.report import outcome_matrix

    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    table = Table(
        title=f"Outcomes: mean [95% interval], {args.replications} replications, seed {args.seed}"
    )
    matrix = outcome_matrix(result)
    for col in matrix.columns:
        table.add_column(str(col), justify="left" if col == "outcome" else "right")
    for _, row in matrix.iterrows():
        table.add_row(*[str(v) for v in row])
    console.print(table)
    from adoption_model.compare.report import uncertainty_text

    console.print(uncertainty_text(result))
    console.print(f"Report: {out / 'report.html'} (tables as CSV/Parquet in {out})")
    if level > 0:
        elapsed = time.perf_counter() - started
        console.print(f"{len(names) * args.replications} runs in {elapsed:.1f} s")
    return 0
