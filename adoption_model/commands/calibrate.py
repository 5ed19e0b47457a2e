"""``adoption-model calibrate`` and ``adoption-model backtest``: estimation from the record.

``calibrate [--until YYYY-MM] [--out DIR] [--seed S] [--walkers W] [--steps N] [--burn B]
[--quick] [--ship]`` estimates the decision rule (MLE, posterior by emcee with
diagnostics), calibrates the flows (simulated method of moments) and writes the estimates,
the posterior sample, diagnostics and an offline HTML report; ``--ship`` also makes the
posterior the baseline's coefficients and the shipped sample. ``backtest [--until
2023-12] [--out DIR]`` fits up to ``--until``, forecasts the held-out months and scores
the forecasts against three null models. See docs/calibration.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from adoption_model.commands.common import add_verbosity
from adoption_model.errors import InputError

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(text: str) -> str:
    if not _MONTH.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month; write YYYY-MM, e.g. 2023-12")
    return text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` and ``backtest`` to the CLI's subparsers."""
    c = subparsers.add_parser(
        "calibrate",
        help="estimate the decision rule and the flows from the historical record",
        description="Likelihood estimation of the logit rule (MLE with standard errors, "
        "posterior by emcee with convergence diagnostics), simulated method of moments for "
        "the flows, posterior-predictive checks; writes estimates, the posterior sample, "
        "diagnostics and report.html into --out.",
    )
    c.add_argument("--until", type=_month, default="2025-06", help="last panel month used")
    c.add_argument("--out", type=Path, default=Path("calibration"), help="output directory")
    c.add_argument("--seed", type=int, default=1, help="sampler and SMM seed (default 1)")
    c.add_argument(
        "--walkers",
        type=int,
        default=None,
        help="emcee walkers (default 40; at least twice the coefficients)",
    )
    c.add_argument("--steps", type=int, default=None, help="emcee steps (default 2000)")
    c.add_argument("--burn", type=int, default=None, help="steps discarded (default 500)")
    c.add_argument("--quick", action="store_true", help="short chain and SMM (for tests)")
    c.add_argument(
        "--ship", action="store_true",
        help="also write the posterior into the package (baseline coefficients, sample)",
    )  # fmt: skip
    add_verbosity(c)
    c.set_defaults(func=_calibrate)

    b = subparsers.add_parser(
        "backtest",
        help="fit to a month, forecast the months after it, score against null models",
        description="Fit the decision rule to the panel up to --until, simulate the "
        "held-out months from the observed state with the observed price path, and score "
        "who adopts, mines or sells (log score, Brier, AUC, ranks) against a constant "
        "hazard, the logit without peer terms and the hand-set coefficients.",
    )
    b.add_argument("--until", type=_month, default="2023-12", help="last training month")
    b.add_argument("--out", type=Path, default=Path("backtest"), help="output directory")
    b.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    b.add_argument("--replications", type=int, default=None, help="replicates (default 200)")
    b.add_argument(
        "--sampler", choices=("emcee", "laplace"), default=None,
        help="posterior sampler (default emcee; laplace with --quick)",
    )  # fmt: skip
    b.add_argument("--steps", type=int, default=None, help="emcee steps (default 1000)")
    b.add_argument("--quick", action="store_true", help="20 replicates, Laplace posterior")
    add_verbosity(b)
    b.set_defaults(func=_backtest)


def _calibrate(args: argparse.Namespace) -> int:
    from adoption_model.calibration.pipeline import CalibrationConfig, run_calibration
    from adoption_model.fileio import check_output_dir

    for name in ("walkers", "steps", "burn"):
        v = getattr(args, name)
        if v is not None and v < (2 if name != "burn" else 0):
            raise InputError(f"--{name} {v}: too small")
    cfg = CalibrationConfig.make(
        args.quick, until=args.until, seed=args.seed, walkers=args.walkers,
        steps=args.steps, burn=args.burn,
    )  # fmt: skip
    if cfg.burn >= cfg.steps:
        raise InputError(f"--burn {cfg.burn}: must be below --steps {cfg.steps}")
    from adoption_model.calibration.likelihood import NAMES

    if cfg.walkers < 2 * len(NAMES):
        raise InputError(
            f"--walkers {cfg.walkers}: emcee needs at least {2 * len(NAMES)} for "
            f"{len(NAMES)} coefficients"
        )
    check_output_dir(args.out)
    res = run_calibration(cfg, args.out, progress=not args.quiet and sys.stderr.isatty(),
                          ship_it=args.ship)  # fmt: skip
    for w in res["warnings"]:
        print(f"adoption-model: warning: {w}", file=sys.stderr)
    if args.quiet:
        return 0
    t = res["table"]
    cols = ["coefficient", "prior_mean", "post_mean", "post_sd", "q05", "q95", "ess",
            "prior_driven"]  # fmt: skip
    print(t[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    fit = res["smm"]
    for k, v in fit.estimates.items():
        print(f"{k} = {v:.4g} (se {fit.se[k]:.2g}; simulated method of moments)")
    print(
        f"price.kappa regression: {res['kappa']['kappa']:.2f} (se {res['kappa']['kappa_se']:.2f})"
    )
    for p in res["shipped"]:
        print(f"shipped: {p}")
    print(f"{res['seconds']:.0f} s; report: {res['out'] / 'report.html'}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from adoption_model.calibration.backtest import run_backtest, save_backtest
    from adoption_model.fileio import check_output_dir

    reps = args.replications or (20 if args.quick else 200)
    if reps < 2:
        raise InputError(f"--replications {reps}: need at least 2")
    sampler = args.sampler or ("laplace" if args.quick else "emcee")
    check_output_dir(args.out)
    show = not args.quiet and sys.stderr.isatty()
    if show:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=Console(stderr=True),
        )  # fmt: skip
        with bar:
            bt = run_backtest(
                args.until, replications=reps, seed=args.seed, sampler=sampler,
                steps=args.steps or 1000, progress=bar,
            )  # fmt: skip
    else:
        bt = run_backtest(
            args.until, replications=reps, seed=args.seed, sampler=sampler,
            steps=args.steps or 1000,
        )  # fmt: skip
    d = save_backtest(bt, args.out)
    if args.quiet:
        return 0
    cols = ["model", "kind", "events", "expected_events", "log_score", "brier", "auc", "ranks"]
    print(bt.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"{bt.seconds:.0f} s; scores: {d / 'scores.csv'}; report: {d / 'report.html'}")
    return 0
