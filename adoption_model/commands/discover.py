"""``adoption-model discover`` and ``adoption-model key-players``: tools for policy analysts.

``discover RESULTS_DIR --outcome EXPR [--threshold T]`` runs scenario discovery (PRIM, CART,
feature scores) over a sweep's runs; ``key-players [SCENARIO] [--k K]`` ranks nations by how
many others follow when they adopt at the start, with a greedy top k. Both write tables
(CSV, Parquet), charts (SVG, PNG) and an offline HTML report. See ``docs/scenarios.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``discover`` and ``key-players`` to the CLI's subparsers."""
    d = subparsers.add_parser(
        "discover",
        help="scenario discovery over a sweep: under which conditions does an outcome happen",
        description="PRIM (coverage-density trade-off, box limits with quasi p-values), CART "
        "and extra-trees feature scores over the runs of a results directory written by "
        "adoption-model sweep. Writes CSV/Parquet tables, SVG/PNG charts and report.html.",
    )
    d.add_argument("directory", help="results directory of adoption-model sweep")
    d.add_argument(
        "--outcome", required=True, metavar="EXPR",
        help="an outcome column (with --threshold) or one comparison, e.g. "
        "'final_adoption_share >= 0.25'",
    )  # fmt: skip
    d.add_argument(
        "--threshold", type=float, default=None,
        help="runs with OUTCOME >= THRESHOLD are of interest (with a bare column name)",
    )  # fmt: skip
    d.add_argument("--below", action="store_true", help="of interest when <= THRESHOLD instead")
    d.add_argument(
        "--density", type=float, default=0.8,
        help="choose the PRIM box with the most coverage at least this dense (default 0.8)",
    )  # fmt: skip
    d.add_argument("--peel-alpha", type=float, default=0.05, help="PRIM peel share (0.05)")
    d.add_argument("--paste-alpha", type=float, default=0.05, help="PRIM paste share (0.05)")
    d.add_argument("--mass-min", type=float, default=0.05, help="smallest box mass (0.05)")
    d.add_argument("--seed", type=int, default=0, help="seed of the tree ensembles (0)")
    d.add_argument("--no-cart", action="store_true", help="skip the CART tree")
    d.add_argument("--no-scores", action="store_true", help="skip the feature scores")
    d.add_argument("--out", type=Path, default=None, help="default: DIRECTORY/discovery")
    d.set_defaults(func=_discover)

    k = subparsers.add_parser(
        "key-players",
        help="which nations, if they adopted now, would move the rest most (greedy top k)",
        description="For each candidate nation, the expected extra adopters (count and GDP "
        "share) by the horizon when it adopts at the start, against the scenario as is, "
        "with common random numbers and paired intervals; then a greedy (CELF) selection "
        "of the best k with the marginal gain of each pick. Writes CSV/Parquet, an SVG "
        "world map and report.html.",
    )
    k.add_argument("scenario", nargs="?", default="baseline", help="scenario (default baseline)")
    k.add_argument("--k", type=int, default=3, help="nations to pick greedily (default 3)")
    k.add_argument(
        "--replications", type=int, default=8, help="replicate seeds per evaluation (default 8)"
    )
    k.add_argument("--seed", type=int, default=0, help="seed of the replicate seeds (0)")
    k.add_argument(
        "--steps", type=int, default=None, help="horizon in months (default: the scenario's)"
    )
    k.add_argument(
        "--candidates", default=None,
        help="comma-separated ISO3 codes (default: every nation not adopted at the start)",
    )  # fmt: skip
    k.add_argument(
        "--backend", choices=("serial", "processes", "dask"), default="processes",
        help="where runs execute (default: processes)",
    )  # fmt: skip
    k.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    k.add_argument("--out", type=Path, default=None, help="default: key-players-<scenario>")
    k.add_argument("--quiet", action="store_true", help="no progress line")
    k.set_defaults(func=_key_players)


def _discover(args: argparse.Namespace) -> int:
    from adoption_model.discovery import discover
    from adoption_model.fileio import check_output_dir

    out = args.out if args.out is not None else Path(args.directory) / "discovery"
    check_output_dir(out)
    d = discover(
        args.directory, args.outcome, threshold=args.threshold, below=args.below,
        min_density=args.density, peel_alpha=args.peel_alpha, paste_alpha=args.paste_alpha,
        mass_min=args.mass_min, cart=not args.no_cart, scores=not args.no_scores,
        seed=args.seed,
    )  # fmt: skip
    report = d.save(out)
    s, c = d.summary, d.trajectory.loc[d.chosen]
    print(
        f"{s['condition']}: {s['cases_of_interest']} of {s['runs_used']} runs; box {d.chosen}: "
        f"coverage {c['coverage']:.3f}, density {c['density']:.3f}, mass {c['mass']:.3f}"
    )
    box = d.box[d.box["restricted"]]
    for r in box.itertuples():
        limits = f"{{{r.values}}}" if r.kind == "categorical" else f"[{r.lower:.4g}, {r.upper:.4g}]"
        qps = [q for q in (r.qp_lower, r.qp_upper) if q == q]
        print(f"  {r.factor} ({r.role}) in {limits}  qp {min(qps):.2g}")
    if d.scores is not None:
        top = ", ".join(f"{r.factor} {r.score:.2f}" for r in d.scores.head(3).itertuples())
        print(f"feature scores: {top}")
    print(f"report: {report}")
    return 0


def _key_players(args: argparse.Namespace) -> int:
    from adoption_model.discovery.keyplayers import key_players
    from adoption_model.errors import InputError
    from adoption_model.fileio import check_output_dir

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: give at least 1")
    out = args.out if args.out is not None else Path(f"key-players-{Path(args.scenario).stem}")
    check_output_dir(out)
    cands = (
        [c.strip() for c in args.candidates.split(",") if c.strip()] if args.candidates else None
    )
    kp = key_players(
        args.scenario, k=args.k, replications=args.replications, seed=args.seed,
        steps=args.steps, candidates=cands, backend=args.backend, workers=args.workers,
        progress=not args.quiet,
    )  # fmt: skip
    report = kp.save(out)
    cols = ["rank", "nation", "gain_adopters", "gain_adopters_low", "gain_adopters_high",
            "spillover_adopters", "gain_gdp_pp", "p_adopted_anyway"]  # fmt: skip
    fmt = lambda v: f"{v:.2f}"  # noqa: E731
    print(kp.ranking[cols].head(10).to_string(index=False, float_format=fmt))
    print("greedy picks:")
    cols = ["pick", "nation", "marginal_adopters", "marginal_adopters_low",
            "marginal_adopters_high", "marginal_gdp_pp", "total_extra_adopters",
            "re_evaluations"]  # fmt: skip
    print(kp.greedy[cols].to_string(index=False, float_format=fmt))
    print(f"{kp.summary['runs']} runs in {kp.summary['wall_s']:.0f} s; report: {report}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: adoption-model discover | key-players")
