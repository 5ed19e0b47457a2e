"""Options shared by the long-running commands (kept free of heavy imports)."""

from __future__ import annotations

import argparse


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet`` and ``-v/--verbose`` (mutually exclusive) to ``parser``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary; errors only"
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", help="more detail: settings, timings, every failure"
    )


def add_batch_size(parser: argparse.ArgumentParser, default: str) -> None:
    """Add ``--batch-size N`` (runs per ensemble batch); ``default`` says what it is unset."""
    parser.add_argument(
        "--batch-size", type=int, default=None, metavar="N",
        help=f"runs per ensemble batch (default: {default}; 1: every run alone); the results "
        "do not depend on it",
    )  # fmt: skip


def add_posterior(parser: argparse.ArgumentParser, each: str) -> None:
    """Add ``--posterior [PARQUET]``: each ``each`` draws its coefficients from a sample."""
    parser.add_argument(
        "--posterior", nargs="?", const="shipped", default=None, metavar="PARQUET",
        help=f"draw each {each}'s coefficients from the posterior sample (default: the "
        "shipped one), so intervals show parameter uncertainty as well as noise",
    )  # fmt: skip


def verbosity(args: argparse.Namespace) -> int:
    """-1 quiet, 0 normal, 1 verbose; verbose also shows Dask's scheduler log."""
    level = -1 if getattr(args, "quiet", False) else int(bool(getattr(args, "verbose", False)))
    if level > 0:
        import logging

        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        for name in ("adoption_model", "distributed.scheduler", "dask_jobqueue"):
            logging.getLogger(name).setLevel(logging.INFO)
    return level
