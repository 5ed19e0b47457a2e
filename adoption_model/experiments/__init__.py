"""Experiments at scale: a design, a runner, a store and an analysis, each usable alone.

Usage (each line is one stage)::

    from adoption_model import experiments as ex
    exp = ex.load_experiment("sobol_peer_effects")  # bundled example, or a TOML path
    ex.run_table(exp)                  # the design: one row per run (point, replicate, seed)
    ex.run_experiment(exp, "results/sobol", backend="processes", workers=2)
    ex.read_runs("results/sobol")      # one row per run (outcomes, status, error, duration)
    ex.analyze("results/sobol")        # Sobol S1/ST with intervals, per-point means

See ``docs/experiments.md``.
"""

from __future__ import annotations

from adoption_model.experiments.analyze import (
    analyze,
    morris_indices,
    point_means,
    sobol_indices,
)
from adoption_model.experiments.design import design_points, run_table, salib_problem, unit_sample
from adoption_model.experiments.outcomes import DEFAULT_OUTCOMES, evaluate_outcomes, parse_outcome
from adoption_model.experiments.runner import BACKENDS, VOLATILE_COLUMNS, run_experiment, run_task
from adoption_model.experiments.spec import DesignConfig, Experiment, Factor, load_experiment
from adoption_model.experiments.store import (
    ResultStore,
    read_adoptions,
    read_experiment,
    read_nations,
    read_runs,
    read_steps,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_OUTCOMES",
    "VOLATILE_COLUMNS",
    "DesignConfig",
    "Experiment",
    "Factor",
    "ResultStore",
    "analyze",
    "design_points",
    "evaluate_outcomes",
    "load_experiment",
    "morris_indices",
    "parse_outcome",
    "point_means",
    "read_experiment",
    "read_adoptions",
    "read_nations",
    "read_runs",
    "read_steps",
    "run_experiment",
    "run_table",
    "run_task",
    "salib_problem",
    "sobol_indices",
    "unit_sample",
]
