"""The ``adoption-model`` command line.

Each group of subcommands lives in its own module under :mod:`adoption_model.commands` and
exposes ``register(subparsers)``; this module only wires them together and turns
:class:`~adoption_model.errors.InputError` into a one-line message and exit code 2 (and
:class:`~adoption_model.errors.RunsFailed` into the count of failed runs and exit code 1).

Building the parser imports only argparse and the command modules, which import their
implementations (pandas, the model, rich) inside the functions that run a command, so
``--help`` and ``--version`` answer fast (``tests/test_cli.py`` checks pandas stays out).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from adoption_model import __version__
from adoption_model.errors import InputError, RunsFailed

#: Command modules, in the order their subcommands appear in ``--help``.
COMMAND_MODULES = (
    "adoption_model.commands.data",
    "adoption_model.commands.simulate",
    "adoption_model.commands.view",
    "adoption_model.commands.sweep",
    "adoption_model.commands.compare",
    "adoption_model.commands.discover",
    "adoption_model.commands.calibrate",
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit code 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        line = f"{self.prog}: error: {message}; see {self.prog} --help".replace("\n", " ")
        self.exit(2, line + "\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = _Parser(
        prog="adoption-model",
        description=(
            "Agent-based model of sovereign Bitcoin adoption: 197 real nations adopt a "
            "reserve, mine with surplus energy or sell, under contagion through an "
            "influence graph."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command group not present in this build
                continue
            raise
        module.register(sub)
    comp = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh)",
        description="Print a completion script, e.g. `adoption-model completion bash > "
        "~/.local/share/bash-completion/completions/adoption-model`.",
    )
    comp.add_argument("shell", choices=("bash", "zsh", "tcsh"))
    comp.set_defaults(func=lambda args: _completion(parser, args.shell))
    return parser


def _completion(parser: argparse.ArgumentParser, shell: str) -> int:
    try:
        import shtab
    except ImportError:
        raise InputError("completion needs shtab: pip install shtab") from None
    print(shtab.complete(parser, shell=shell))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"adoption-model: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except RunsFailed as exc:
        print(f"adoption-model: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("adoption-model: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
