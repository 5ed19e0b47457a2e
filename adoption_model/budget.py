"""Budgets: estimate the time, memory and disk a request needs before anything runs.

``run``, ``compare`` and ``sweep`` call :func:`check` with an :class:`Estimate` built from
the scenario (nodes, edges, steps, what is recorded) and the number of runs. Above a *soft*
bound (an hour of computing, 4 GB of memory, 10 GB of disk) the command stops with one line
giving the estimate and asking for ``--yes``; above a *hard* bound (more memory than the
machine has, more than :data:`~adoption_model.experiments.spec.MAX_RUNS` runs) it stops
whatever the flags.

The costs are coarse constants measured on the reference machine (one core, vectorised
engine: about 3 ms a step for the 197 nations under the logit rule, 2.5 ms a step for
10,000 nodes under the classic rules, 0.3 s of set-up per run); the threshold and cascade
rules are assumed to stop within 50 steps. The estimate tells minutes from months; it is
not meant to be exact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from adoption_model.errors import InputError

#: Seconds per step, fixed and per node, of the logit rule and of the classic rules.
LOGIT_STEP_S, LOGIT_NODE_S, CLASSIC_STEP_S, CLASSIC_NODE_S = 2.5e-3, 2e-6, 3e-4, 2e-7
#: Seconds per step and edge end, per node under the agents engine, and per run (set-up).
EDGE_S, AGENT_NODE_S, RUN_S = 2e-8, 1e-3, 0.3
#: Steps assumed for the rules that stop when nothing changes (threshold, cascade).
EARLY_STOP_STEPS = 50
#: Bytes recorded per node and step in the nation frame (logit rule; classic rules).
NATION_BYTES_LOGIT, NATION_BYTES_CLASSIC = 360, 30
#: Bytes per node of state, per edge end of the sparse matrix, and a process's base.
NODE_BYTES, EDGE_BYTES, BASE_BYTES = 400, 16, 300e6
#: Soft bounds (go past with --yes).
SOFT_SECONDS, SOFT_MEMORY, SOFT_DISK = 3600.0, 4e9, 10e9
#: Most runs a compare may hold (scenarios x replications).
MAX_COMPARE_RUNS = 1_000_000


@dataclass(frozen=True)
class Estimate:
    """What a request needs: runs, seconds of one core, peak bytes per process, bytes on disk."""

    runs: int
    seconds: float
    memory: float
    disk: float

    def describe(self, workers: int = 1) -> str:
        """``"120 runs, about 4 min on 2 workers, 0.4 GB memory per process, 2 MB disk"``."""
        wall = self.seconds / max(1, workers)
        on = f" on {workers} workers" if workers > 1 else ""
        return (
            f"{self.runs:,} run{'s' if self.runs != 1 else ''}, about {_duration(wall)}{on}, "
            f"{_size(self.memory)} memory per process, {_size(self.disk)} disk"
        )


def _duration(seconds: float) -> str:
    for unit, size in (("years", 3.15e7), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} s"


def _size(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:.0f} B"


def machine_memory() -> float:
    """Physical memory in bytes (8 GB if the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8e9


def estimate_run(scenario, *, save: bool = True, keep_nations: bool | None = None) -> Estimate:
    """The cost of one run of ``scenario`` (a :class:`~adoption_model.scenario.Scenario`)."""
    cfg = scenario.network
    real = cfg.kind == "real"
    n = 197 if real else cfg.n
    ends = 197 * 40 if real else cfg.edge_ends()
    steps = scenario.steps
    keep = scenario.output.nation_frame if keep_nations is None else keep_nations
    keep = real if keep is None else keep
    classic = scenario.rule.kind != "logit"
    if classic:
        per_step = CLASSIC_STEP_S + n * CLASSIC_NODE_S + ends * EDGE_S
    else:
        per_step = LOGIT_STEP_S + n * LOGIT_NODE_S + ends * EDGE_S
    if scenario.engine == "agents":
        per_step += n * AGENT_NODE_S
    run_steps = (
        min(steps, EARLY_STOP_STEPS) if scenario.rule.kind in ("threshold", "cascade") else steps
    )
    recorded = (steps + 1) * n * (NATION_BYTES_CLASSIC if classic else NATION_BYTES_LOGIT)
    memory = BASE_BYTES + n * NODE_BYTES + ends * EDGE_BYTES + (recorded if keep else 0)
    disk = (steps + 1) * 200 + (recorded / 3 if keep else 0) if save else 0.0
    return Estimate(1, run_steps * per_step + RUN_S, memory, disk)


def times(one: Estimate, runs: int, *, steps_bytes: float = 0.0, memory: float = 0.0) -> Estimate:
    """``runs`` runs of ``one`` (memory is per process, plus ``memory`` for bookkeeping)."""
    return Estimate(
        runs, one.seconds * runs, one.memory + memory, one.disk * runs + steps_bytes * runs
    )


def check(estimate: Estimate, *, yes: bool, what: str, fix: str, workers: int = 1) -> None:
    """Refuse a request over the hard bounds, or over the soft ones without ``--yes``.

    ``what`` names the request (``"compare"``), ``fix`` says how to shrink it.
    """
    text = estimate.describe(workers)
    ram = machine_memory()
    if estimate.memory > 0.8 * ram:
        raise InputError(f"{what}: needs {text}; this machine has {_size(ram)} of memory: {fix}")
    over = []
    if estimate.seconds / max(1, workers) > SOFT_SECONDS:
        over.append("more than an hour")
    if estimate.memory > SOFT_MEMORY:
        over.append(f"more than {_size(SOFT_MEMORY)} memory")
    if estimate.disk > SOFT_DISK:
        over.append(f"more than {_size(SOFT_DISK)} disk")
    if over and not yes:
        raise InputError(
            f"{what}: needs {text} ({', '.join(over)}); pass --yes to go ahead, or {fix}"
        )
