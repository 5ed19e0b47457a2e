"""Experiment throughput and scaling, each against a reference measured in the same run.

1. Runs per second per core for the 197-nation, 120-month baseline with aggregate outputs
   (our serial runner, per-step model frame stored in Parquet) against ``mesa.batch_run`` of
   ``AdoptionModel(engine="agents")`` on the same seeds (the model exposes its per-step
   aggregates as ``datacollector`` for ``batch_run``). ``batch_run`` steps while
   ``model.steps <= max_steps``, i.e. max_steps + 1 steps, so it is given
   ``max_steps = 119`` for 120 months. Floor: ours >= 10x.
2. Scaling with 1 and 2 workers for the processes and Dask backends, and each backend's
   fixed start-up cost (wall time of an experiment of ``workers`` zero-step runs).

Usage: ``python benchmarks/bench_experiments.py [--runs 40] [--batch-runs 4]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from adoption_model.experiments import run_experiment
from adoption_model.seeds import replicate_seeds


def experiment(runs: int, steps: int = 120, seed: int = 1) -> dict:
    return {
        "name": "bench",
        "seed": seed,
        "replications": runs,
        "set": {"steps": steps},
        "design": {"kind": "points", "points": [{"imf.stance": 0.5}]},
        "levers": {"imf.stance": {"values": [0.5]}},
        "store": {"chunk_runs": 50},
    }


def timed(exp: dict, backend: str, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        runs = run_experiment(exp, Path(tmp) / "o", backend=backend, workers=workers,
                              progress=False)  # fmt: skip
        wall = time.perf_counter() - t
        assert (runs["status"] == "ok").all()
    return wall


def mesa_batch(n: int, seed: int = 1) -> float:
    import mesa

    from adoption_model.model import AdoptionModel  # exposes .datacollector for batch_run

    seeds = replicate_seeds(seed, n)
    t = time.perf_counter()
    mesa.batch_run(
        AdoptionModel,
        parameters={"engine": "agents", "seed": seeds},
        iterations=1, max_steps=119, number_processes=1, data_collection_period=1,
        display_progress=False,
    )  # fmt: skip
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--batch-runs", type=int, default=4)
    args = ap.parse_args()

    ours = timed(experiment(args.runs), "serial", 1)
    ours_rate = args.runs / ours
    theirs = mesa_batch(args.batch_runs)
    theirs_rate = args.batch_runs / theirs
    print("throughput, baseline 197 nations x 120 months, one core:")
    print(f"  ours (serial, vectorized, Parquet store): {ours_rate:8.2f} runs/s/core")
    print(f"  mesa.batch_run (agents engine)         : {theirs_rate:8.2f} runs/s/core")
    print(f"  ratio: {ours_rate / theirs_rate:.1f}x (floor 10x)")

    print("scaling (same runs; wall s, runs/s, speed-up over 1 worker) and start-up cost:")
    for backend in ("processes", "dask"):
        base = None
        for workers in (1, 2):
            start = timed(experiment(workers, steps=0), backend, workers)
            wall = timed(experiment(args.runs), backend, workers)
            rate = args.runs / wall
            base = base or rate
            print(f"  {backend:9s} workers={workers}: {wall:6.1f} s  {rate:6.2f} runs/s  "
                  f"x{rate / base:.2f}  start-up {start:.1f} s")  # fmt: skip
    print(f"  serial    workers=1: {ours:6.1f} s  {ours_rate:6.2f} runs/s")


if __name__ == "__main__":  # required: the processes backend spawns workers
    main()
