"""One exception type for bad user input.

Every error a user can cause (a mistyped ISO3 code, a damaged data file, an invalid
scenario key) is raised as :class:`InputError` with a single line that names the field or
file and the fix. The CLI prints that line and exits with code 2, never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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


class RunsFailed(Exception):
    """Some runs of a sweep or comparison raised: the CLI prints the count and exits 1."""

    exit_code = 1

    def __init__(self, failed: int, total: int, first: str) -> None:
        self.failed, self.total, self.first = failed, total, first
        super().__init__(f"{failed} of {total} runs failed (first: {first})")
