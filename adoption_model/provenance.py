"""Provenance of a result: the package and library versions, the git commit, the host.

Every saved result (a run's ``provenance.json``, an experiment store, a comparison report)
records :func:`provenance_record`, so a number can be traced back to the code and the
environment that produced it.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model import __version__

__all__ = ["git_commit", "provenance_record"]


def provenance_record(**extra: Any) -> dict[str, Any]:
    """Package and library versions, git commit (if any), host and Python, plus ``extra``."""
    import mesa
    import networkx
    import pyarrow
    import scipy

    return {
        "package": "adoption-model",
        "version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
        "libraries": {
            "mesa": mesa.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "networkx": networkx.__version__,
            "pyarrow": pyarrow.__version__,
        },
        **extra,
    }


def git_commit() -> str | None:
    """The commit of the source tree this package runs from, if it is a git checkout."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        return out + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
