"""One exception type for bad user input, and the checks that raise it.

Every error a user can cause (a mistyped ISO3 code, a damaged data file, an invalid
scenario key) is raised as :class:`InputError` with a single line that names the field or
file and the fix. The CLI prints that line and exits with code 2, never a traceback.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy stays out of the CLI's --help (tests/test_cli.py)
    import numpy as np


class InputError(ValueError):
    """Bad input from the user: the message is one line naming the field or file and the fix."""

    exit_code = 2


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``"; did you mean X?"`` for the closest matches of ``word``, or ``""``."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.5)
    if not matches:
        return ""
    names = [lowered[m] for m in matches]
    if len(names) == 1:
        return f"; did you mean {names[0]}?"
    return "; did you mean " + ", ".join(names[:-1]) + f" or {names[-1]}?"


def shown(value: Any) -> str:
    """A value as an error message shows it: strings quoted, everything else as ``str``."""
    return repr(value) if isinstance(value, str) else str(value)


def check_int(key: str, value: Any, low: int, high: int | None = None, what: str = "") -> int:
    """``value`` as an int in ``[low, high]`` (a whole float is accepted), else InputError.

    ``key`` is the dotted name the message starts with (``network.n``); ``what`` is
    appended to the range (``" (1 to n - 1)"``).
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        ok, value = True, int(value)
    if not ok:
        raise InputError(f"{key}: must be a whole number, got {shown(value)}")
    value = int(value)
    if value < low or (high is not None and value > high):
        rng_text = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InputError(f"{key}: must be {rng_text}{what}, got {value}")
    return value


def check_float(key: str, value: Any, low: float, high: float, what: str = "") -> float:
    """``value`` as a float in ``[low, high]``, else a one-line InputError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{key}: must be a number, got {shown(value)}")
    value = float(value)
    if not (low <= value <= high):
        raise InputError(f"{key}: must be in [{low:g}, {high:g}]{what}, got {value:g}")
    return value


def check_rng(rng: Any, key: str = "network.rng") -> np.random.Generator:
    """``rng`` if it is a :class:`numpy.random.Generator`, else a one-line InputError."""
    import numpy as np

    if not isinstance(rng, np.random.Generator):
        raise InputError(
            f"{key}: expected a numpy.random.Generator (numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


class RunsFailed(Exception):
    """Some runs of a sweep or comparison raised: the CLI prints the count and exits 1."""

    exit_code = 1

    def __init__(self, failed: int, total: int, first: str) -> None:
        self.failed, self.total, self.first = failed, total, first
        super().__init__(f"{failed} of {total} runs failed (first: {first})")
