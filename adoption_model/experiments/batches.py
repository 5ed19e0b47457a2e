"""Batches of an experiment's runs, and a worker running a batch as ensembles.

:func:`batches` groups consecutive tasks of the runner (:mod:`adoption_model.experiments.
runner`) that share a structure into lists; :func:`run_tasks` runs one list on a worker as
:class:`~adoption_model.ensemble.Ensemble` objects and returns, for every task, exactly
what :func:`~adoption_model.experiments.runner.run_task` returns for it alone.
"""

from __future__ import annotations

import os
import platform
import time
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.experiments.outcomes import evaluate_outcomes

__all__ = ["batches", "run_tasks"]


def _failed(task: dict[str, Any], exc: BaseException, started: float) -> dict[str, Any]:
    from adoption_model.experiments.runner import _lost

    out = _lost(task, f"{type(exc).__name__}: {exc}".replace("\n", " ")[:2000])
    out["host"] = platform.node()
    out["duration_s"] = time.perf_counter() - started
    return out


def run_tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run a batch of tasks as ensembles; the same results as :func:`run_task` on each.

    Tasks with the same structure run as one :class:`~adoption_model.ensemble.Ensemble`
    (bit for bit their single runs); a task whose scenario does not load, or whose
    replicate fails to initialise, fails alone with the error :func:`run_task` would
    record; if the ensemble itself raises, its tasks are run one by one. ``duration_s``
    is the batch's time shared equally among its runs.
    """
    from adoption_model.ensemble import Ensemble, _Replicate, structure_key
    from adoption_model.experiments.runner import run_task
    from adoption_model.scenario import load_scenario

    if len(tasks) == 1:
        return [run_task(tasks[0])]
    started = time.perf_counter()
    out: dict[int, dict[str, Any]] = {}
    groups: dict[tuple, list[tuple[dict[str, Any], Any]]] = {}
    for task in tasks:
        adoptions = bool(task.get("keep_adoptions", False))
        keep = bool(task["keep_nations"])  # adoptions need no nation frame here
        try:
            over = {**task["overrides"], "output.nation_frame": keep}
            if task.get("posterior"):  # this run's coefficient draw, as run_task takes it
                from adoption_model.experiments.posterior import posterior_overrides

                drawn = posterior_overrides(task["posterior"], task["seed"], task["base"])
                over = {**drawn, **over}
            sc = load_scenario(task["base"], over)
        except Exception as exc:  # noqa: BLE001 - a failing run is data
            out[task["run_id"]] = _failed(task, exc, started)
            continue
        if sc.engine != "vectorized":
            out[task["run_id"]] = run_task(task)
            continue
        groups.setdefault((structure_key(sc), adoptions), []).append((task, sc))
    host = platform.node()
    for members in groups.values():
        ok, reps = [], []
        cache: dict = {}
        for task, sc in members:
            try:
                reps.append(_Replicate(sc, task["seed"], cache))
                ok.append(task)
            except Exception as exc:  # noqa: BLE001
                out[task["run_id"]] = _failed(task, exc, started)
        if not ok:
            continue
        try:
            ens = Ensemble._from_replicates(reps)
            while ens.running:
                ens.step()
            ids = [t["run_id"] for t in ok]
            frame, offsets = ens.model_frames(ids)
            results = []
            for r, task in enumerate(ok):
                part = frame.iloc[offsets[r] : offsets[r + 1]]
                res: dict[str, Any] = {
                    "run_id": task["run_id"], "status": "ok", "error": "",
                    "outcomes": evaluate_outcomes(task["outcomes"], part),
                    "steps_run": int(part["step"].iloc[-1]),
                    "steps": part.reset_index(drop=True) if task["keep_steps"] else None,
                    "nations": None, "adoptions": None, "host": host,
                }  # fmt: skip
                if task["keep_nations"]:
                    nf = ens.nation_frame(r)
                    rid = np.int64(task["run_id"])
                    res["nations"] = nf.assign(run_id=rid)[["run_id", *nf.columns]]
                if task.get("keep_adoptions", False):
                    names, steps, held = ens.adoptions(r)
                    res["adoptions"] = pd.DataFrame(
                        {
                            "run_id": np.full(len(names), task["run_id"], dtype=np.int64),
                            "nation": names,
                            "first_step": steps,
                            "held": np.asarray(held, dtype=bool),
                        }
                    )
                results.append(res)
        except Exception:  # noqa: BLE001 - rerun alone: each run's own result or error
            results = _one_by_one(ok)
        for res in results:
            out[res["run_id"]] = res
    share = (time.perf_counter() - started) / len(tasks)
    for res in out.values():
        res.setdefault("duration_s", share)
    return [out[t["run_id"]] for t in tasks]


def _one_by_one(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fallback when an ensemble raises: every task alone (its own result or error)."""
    from adoption_model.experiments.runner import run_task

    if os.environ.get("ADOPTION_MODEL_DEBUG"):
        traceback.print_exc()
    return [run_task(task) for task in tasks]


def _lookup(task: dict[str, Any], dotted: str) -> Any:
    if dotted in task["overrides"]:
        return task["overrides"][dotted]
    node: Any = task["base"]
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def batches(
    tasks: Iterable[dict[str, Any]], batch_size: int | None, most: int
) -> Iterator[list[dict[str, Any]]]:
    """Group consecutive tasks that share a structure into batches (lists of tasks).

    ``batch_size`` None sizes each structure's batches from its scenario
    (:func:`~adoption_model.ensemble.auto_batch_size`), never above ``most`` (so that
    every worker gets work). The structure is read from the task's overrides and base
    scenario without validating them (a task that does not load fails in its batch).
    """
    from adoption_model.ensemble import STRUCTURAL_KEYS, auto_batch_size
    from adoption_model.scenario import load_scenario

    sizes: dict[tuple, int] = {}
    batch: list[dict[str, Any]] = []
    current: tuple | None = None
    for task in tasks:
        key = tuple(repr(_lookup(task, k)) for k in STRUCTURAL_KEYS) + (repr(task["keep_nations"]),)
        if key not in sizes:
            if batch_size is not None:
                sizes[key] = int(batch_size)
            else:
                try:
                    sc = load_scenario(task["base"], task["overrides"])
                    sc = sc.with_overrides({"output.nation_frame": bool(task["keep_nations"])})
                    sizes[key] = auto_batch_size(sc)
                except Exception:  # noqa: BLE001 - the run will fail and say why
                    sizes[key] = 1
            sizes[key] = max(1, min(sizes[key], most))
        if batch and (key != current or len(batch) >= sizes[current]):
            yield batch
            batch = []
        current = key
        batch.append(task)
    if batch:
        yield batch
