"""Side-by-side comparison of scenarios with common random numbers, and its report.

``compare(["baseline", "us_reserve_expansion"], replications=20, seed=0)`` runs every scenario
with the same replicate seeds (:func:`adoption_model.seeds.replicate_seeds`), so that
replicate ``r`` of every scenario sees the same random draws wherever the scenarios do not
differ, and summarises the runs in a :class:`Comparison`: outcome tables with 95% intervals,
paired differences against the first scenario, trajectories, adoption probabilities per
nation, first-adoption dates, the assumptions side by side and convergence advice.
``Comparison.save(dir)`` writes every number as CSV and Parquet plus a self-contained HTML
report and a Markdown report.

``adoption_model.compare`` is both this package and the function: the package is callable
(``adoption_model.compare(...)`` calls :func:`compare`), so that the lazy top-level export
keeps working after the package has been imported.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from adoption_model.compare.core import OUTCOMES, Comparison, compare

__all__ = ["OUTCOMES", "Comparison", "compare"]


class _CallableModule(types.ModuleType):
    """Module type whose instances call :func:`compare` (``adoption_model.compare(...)``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Comparison:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
