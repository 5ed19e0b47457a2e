"""``adoption-model run``, ``scenarios`` and ``explain``: run the simulation from the shell."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from adoption_model import budget
from adoption_model.commands.common import add_verbosity, verbosity
from adoption_model.errors import InputError
from adoption_model.fileio import check_output_dir
from adoption_model.guards import check_seed

if TYPE_CHECKING:  # imported where used, so that --help stays fast
    from rich.console import Console

YES_HELP = "go ahead although the estimate is over an hour, 4 GB of memory or 10 GB of disk"
SET_HELP = (
    "override a scenario key with a dotted path, e.g. --set rule.kind=threshold "
    "--set network.n=10000 (repeatable; values are parsed as TOML)"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run``, ``scenarios`` and ``explain`` subcommands."""
    p = sub.add_parser(
        "run",
        help="run a scenario and print a summary",
        description=(
            "Run a scenario (a bundled name or a TOML file; default: baseline) and print a "
            "readable summary: adoption over time, who adopted when, sovereign BTC. With "
            "--out, save model.parquet, nations.parquet, scenario.toml and provenance.json."
        ),
    )
    p.add_argument("scenario", nargs="?", default=None, help="bundled scenario name or TOML path")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the run's seed (default: scenario.seed, else drawn and recorded)",
    )
    p.add_argument("--steps", type=int, default=None, help="months to simulate")
    p.add_argument("--engine", choices=("vectorized", "agents"), default=None)
    p.add_argument("--set", dest="overrides", action="append", metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--out", type=Path, default=None, help="directory to save the results in")
    add_verbosity(p)
    p.add_argument("--yes", action="store_true", help=YES_HELP)
    p.set_defaults(func=cmd_run)

    s = sub.add_parser("scenarios", help="list the bundled scenarios")
    s.set_defaults(func=cmd_scenarios)

    e = sub.add_parser(
        "explain",
        help="why did a nation decide what it did?",
        description=(
            "Run a scenario up to a step and print one nation's latest decision term by term: "
            "each utility term, the utilities, the probabilities and the chosen action."
        ),
    )
    e.add_argument("nation", help="ISO3 code (or node id on synthetic graphs)")
    e.add_argument("scenario", nargs="?", default=None)
    e.add_argument(
        "--step", type=int, default=None, help="explain the decision at this step (default: last)"
    )
    e.add_argument("--seed", type=int, default=None)
    e.add_argument("--set", dest="overrides", action="append", metavar="KEY=VALUE", help=SET_HELP)
    e.add_argument("--yes", action="store_true", help=YES_HELP)
    e.set_defaults(func=cmd_explain)


def _scenario(args: argparse.Namespace, extra: dict | None = None):
    from adoption_model.scenario import load_scenario, parse_overrides

    overrides = parse_overrides(args.overrides)
    overrides.update(extra or {})
    return load_scenario(args.scenario, overrides or None)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario and print its summary."""
    from rich.console import Console

    from adoption_model.runner import run

    level = verbosity(args)
    started = time.perf_counter()
    extra = {}
    if args.steps is not None:
        extra["steps"] = args.steps
    if args.engine is not None:
        extra["engine"] = args.engine
    check_seed(args.seed)
    sc = _scenario(args, extra)
    console = Console(width=None if sys.stdout.isatty() else 100)
    if args.out is not None:
        check_output_dir(args.out)  # refuse before running, not after
    budget.check(
        budget.estimate_run(sc, save=args.out is not None), yes=args.yes, what="run",
        fix="lower steps or network.n, or set output.nation_frame = false",
    )  # fmt: skip
    if level < 0:
        result = run(sc, seed=args.seed)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} months"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(f"{sc.name}", total=sc.steps)
            result = run(
                sc, seed=args.seed, progress=lambda k, total: bar.update(task, completed=k)
            )
    if args.out is not None:
        result.save(args.out)
    if level >= 0:
        print_summary(console, result)
        if args.out is not None:
            console.print(f"\nSaved to [bold]{args.out}[/bold]")
    if level > 0:
        prov = result.provenance()
        console.print(
            f"scenario digest {prov['scenario_digest']}, seed {result.seed}, "
            f"{time.perf_counter() - started:.2f} s; versions: "
            + ", ".join(f"{k} {v}" for k, v in prov["libraries"].items())
        )
    return 0


def print_summary(console: Console, result) -> None:
    """A short readable summary of a run."""
    import pandas as pd
    from rich.table import Table

    s, f = result.summary, result.model_frame
    console.print(
        f"[bold]{s['scenario']}[/bold]: {s['nations']} nations, {s['rule']} rule on the "
        f"{s['network']} network, {s['start']} to {s['end']} "
        f"(seed {s['seed']}, {s['engine']} engine)"
        + (" [stopped early: nothing could change any more]" if s["stopped_early"] else "")
    )
    t = Table(title="Adoption over time", show_edge=False, pad_edge=False)
    for col in ("month", "adopters", "share", "GDP", "miners", "MW", "gov BTC", "supply", "price"):
        t.add_column(col, justify="right", no_wrap=True)
    step = max(1, (len(f) - 1) // 10) if len(f) > 12 else 1
    years = f.iloc[::step]
    if years.index[-1] != f.index[-1]:
        years = pd.concat([years, f.iloc[[-1]]])
    for _, r in years.iterrows():
        t.add_row(
            str(r["date"]),
            f"{int(r['n_adopters'])}",
            f"{r['adoption_share']:.1%}",
            f"{r['gdp_weighted_share']:.1%}",
            f"{int(r['n_miners'])}",
            f"{r['mining_mw']:,.0f}",
            _k(r["btc_sovereign"]),
            f"{r['supply_share']:.2%}",
            _k(r["btc_price"]),
        )
    console.print(t)
    fa = result.first_adoptions
    later = fa[fa["step"] > 0]
    start = fa[fa["step"] == 0]
    if len(start) and len(start) <= 20:
        console.print("At the start: " + ", ".join(start["nation"]))
    elif len(start):
        console.print(f"At the start: {len(start)} adopters")
    if len(later):
        shown = later.head(25)
        text = ", ".join(f"{r.nation} {r.date}" for r in shown.itertuples())
        more = f" ... and {len(later) - len(shown)} more" if len(later) > len(shown) else ""
        console.print(f"Who adopted when: {text}{more}")
    else:
        console.print("No new adopters.")
    console.print(
        f"Sovereign BTC: {s['btc_sovereign_start']:,.0f} -> {s['btc_sovereign_end']:,.0f} "
        f"(bought {s['btc_bought_total']:,.0f}, mined {s['btc_mined_total']:,.0f}, "
        f"sold {s['btc_sold_total']:,.0f}); IMF detections: {s['imf_detections_total']}"
    )


def _k(x: float) -> str:
    """Compact number: 1,141,976 -> '1,142k'."""
    return f"{x / 1000:,.0f}k" if abs(x) >= 10_000 else f"{x:,.0f}"


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List bundled scenarios with their descriptions."""
    from rich.console import Console
    from rich.table import Table

    from adoption_model.scenario import bundled_scenarios, load_scenario

    console = Console()
    t = Table(show_edge=False)
    t.add_column("scenario", style="bold")
    t.add_column("description")
    for name in bundled_scenarios():
        t.add_row(name, load_scenario(name).description)
    console.print(t)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print one nation's decision breakdown."""
    from rich.console import Console

    from adoption_model.model import AdoptionModel

    check_seed(args.seed)
    sc = _scenario(args)
    budget.check(
        budget.estimate_run(sc, save=False), yes=args.yes, what="explain",
        fix="lower steps or network.n",
    )  # fmt: skip
    target = sc.steps if args.step is None else args.step
    if target < 0 or target > sc.steps:
        raise InputError(f"--step {target}: must be between 0 and steps ({sc.steps})")
    model = AdoptionModel(sc, seed=args.seed)
    model.resolve_nation(args.nation, "nation")
    while model.running and model.steps < target:
        model.step()
    table = model.explain(args.nation)
    print_explanation(Console(width=None if sys.stdout.isatty() else 110), table)
    return 0


def print_explanation(console: Console, table) -> None:
    """Render :meth:`AdoptionModel.explain` for the terminal."""
    from rich.table import Table

    a = table.attrs
    console.print(
        f"[bold]{a['name']} ({a['nation']})[/bold], step {a['step']} ({a['date']}), "
        f"{a['rule']} rule: state {a['state']}; "
        + (
            f"reviewed its policy and chose to [bold]{a['action']}[/bold]"
            if a["reviewed"]
            else "did not review its policy this month (holds)"
        )
        + f"; neighbours' adoption signal {a['peer']:.2f}"
    )
    t = Table(show_edge=False)
    t.add_column("term")
    t.add_column("meaning")
    for col in ("hold", "adopt", "mine", "sell"):
        t.add_column(col, justify="right")
    for term, row in table.iterrows():
        style = "bold" if term in ("utility", "probability") else None
        fmt = "{:.3f}" if term != "probability" else "{:.1%}"
        t.add_row(
            term,
            row["meaning"],
            *(fmt.format(row[c]) for c in ("hold", "adopt", "mine", "sell")),
            style=style,
        )
    console.print(t)
