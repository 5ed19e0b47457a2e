"""Optional faces of the package and the extra that installs each.

The core (``pip install adoption-model``) runs ``run``, ``explain``, ``data``,
``scenarios``, ``compare`` and serial/processes sweeps. The classroom view, Dask and SLURM
need an extra; :func:`require` turns a missing one into a one-line
:class:`~adoption_model.errors.InputError` (exit code 2) that says what to install.
"""

from __future__ import annotations

import importlib

from adoption_model.errors import InputError

#: extra -> (what it is for, modules it must provide)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "viz": ("the classroom view", ("solara", "ipyvuetify", "ipyvue", "altair")),
    "dask": ("--backend dask", ("distributed",)),
    "cluster": ("--backend slurm", ("distributed", "dask_jobqueue")),
}


def require(extra: str) -> None:
    """Raise a one-line InputError if a module of ``extra`` cannot be imported."""
    what, modules = EXTRAS[extra]
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            raise InputError(
                f"{what} needs the [{extra}] extra ({name} is not installed): "
                f"pip install 'adoption-model[{extra}]'"
            ) from None
