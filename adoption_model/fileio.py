"""Atomic file writes: a crash never leaves a half-written file under its final name.

Every results file (runs, experiments, comparison reports) is written to a temporary file
in the target directory and renamed into place with :func:`os.replace`, which is atomic on
POSIX file systems. Files get the usual permissions for the user's umask (``mkstemp``
would leave them private to the owner).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from adoption_model.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output_dir(path: str | Path) -> Path:
    """Refuse an output path that exists and is not a directory (one-line InputError)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory; choose another path")
    return out


def make_output_dir(path: str | Path) -> Path:
    """Create an output directory (and its parents); failures are one-line InputErrors."""
    out = check_output_dir(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    return out


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
