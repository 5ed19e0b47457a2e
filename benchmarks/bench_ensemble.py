"""Ensemble engine vs the single-run loop, measured side by side in one process (one core).

Prints, for the 120-month baseline (197 nations):

- runs per second of the single-run loop (``run(scenario, seed)`` one seed after another)
  and of the ensemble at R = 1, 16, 64, 256, with aggregate outputs (the model frame) and
  with the per-nation frame, and the ratio to the loop measured in the same run;
- the same for a 20,000-node synthetic graph (Erdos-Renyi, mean degree 6, logit rule);
- peak memory per replicate (tracemalloc: every allocation numpy and pandas make while the
  ensemble is built, stepped and its frames are built), and the whole batch at R = 256.

The targets of issue 12: >= 20x the loop's runs per second on one core with aggregate
outputs, and a 256-replicate baseline batch under 1 GB.

With ``--reference-src DIR`` (the root of another checkout, e.g. a ``git worktree`` of the
commit before the ensemble engine) it also times that checkout's single-run loop on the
baseline, in a subprocess, and prints the ensemble's ratio to it as well.

Every rate is the best of ``--repeat`` timings (3), the loop's and the ensemble's alike.

Usage: ``python benchmarks/bench_ensemble.py [--quick] [--repeat K] [--reference-src DIR]``
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from typing import Any

from adoption_model.ensemble import Ensemble
from adoption_model.runner import run
from adoption_model.scenario import load_scenario

#: every rate is the best of this many timings (``--repeat``): the machine's noise is a
#: few percent either way, and the best timing is the one least disturbed by it
REPEAT = 3


def best_of(repeat: int, rate: Any, *args: Any) -> float:
    """The best of ``repeat`` calls of ``rate(*args)`` (runs per second)."""
    return max(rate(*args) for _ in range(max(1, repeat)))


def loop_rate(sc, seeds: list[int]) -> float:
    """Runs per second of single runs, one after another."""
    t = time.perf_counter()
    for s in seeds:
        res = run(sc, seed=s)
        _ = res.model_frame, res.nation_frame
    return len(seeds) / (time.perf_counter() - t)


REFERENCE_LOOP = """
import time
from adoption_model.runner import run
from adoption_model.scenario import load_scenario
sc = load_scenario(None, {"output.nation_frame": False})
run(None, seed=0, overrides={"steps": 2})
t = time.perf_counter()
for s in range(RUNS):
    run(sc, seed=s).model_frame
print(RUNS / (time.perf_counter() - t))
"""


def reference_rate(src: str, runs: int) -> float:
    """Runs per second of the baseline single-run loop of the checkout at ``src``."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": src}
    code = REFERENCE_LOOP.replace("RUNS", str(runs))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def ensemble_rate(sc, seeds: list[int], nations: bool) -> float:
    """Runs per second of one ensemble over ``seeds`` (its outputs built)."""
    t = time.perf_counter()
    ens = Ensemble([sc] * len(seeds), seeds)
    while ens.running:
        ens.step()
    ens.model_frames(seeds)
    if nations:
        for r in range(len(seeds)):
            ens.nation_frame(r)
    return len(seeds) / (time.perf_counter() - t)


def peak_memory(sc, replicates: int, nations: bool) -> float:
    """Peak traced bytes of one ensemble (built, stepped, outputs built)."""
    tracemalloc.start()
    ens = Ensemble([sc] * replicates, list(range(replicates)))
    while ens.running:
        ens.step()
    ens.model_frames(list(range(replicates)))
    if nations:
        for r in range(replicates):
            ens.nation_frame(r)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del ens
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    ap.add_argument("--reference-src", help="another checkout whose single-run loop to time")
    ap.add_argument("--repeat", type=int, default=REPEAT, help="timings per rate (the best)")
    args = ap.parse_args()
    k = args.repeat
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (ratios are measured side by side)")
    run(None, seed=0, overrides={"steps": 2})  # data and real graph loaded once

    sizes = (1, 16, 64) if args.quick else (1, 16, 64, 256)
    best: dict[str, float] = {}
    for nations in (False, True):
        sc = load_scenario(None, {"output.nation_frame": nations})
        what = "nation frame" if nations else "aggregate outputs"
        print(f"\n== baseline, 197 nations, 120 months, {what} ==")
        loop = best_of(k, loop_rate, sc, list(range(4 if args.quick else 12)))
        print(f"single-run loop      {loop:8.1f} runs/s")
        for r in sizes:
            if nations and r > 64:
                continue
            seeds = list(range(100, 100 + r))
            rate = best_of(k, ensemble_rate, sc, seeds, nations)
            print(f"ensemble R = {r:<4}    {rate:8.1f} runs/s   {rate / loop:6.1f}x the loop")
            if not nations:
                best["ratio"] = max(best.get("ratio", 0.0), rate / loop)
                best["rate"] = max(best.get("rate", 0.0), rate)
        if args.reference_src and not nations:
            ref = best_of(k, reference_rate, args.reference_src, 4 if args.quick else 12)
            best["reference"] = ref
            print(f"single-run loop of {args.reference_src}: {ref:.1f} runs/s; the ensemble's "
                  f"best is {best['rate'] / ref:.1f}x it")  # fmt: skip

    print("\n== Erdos-Renyi 20,000 nodes, mean degree 6, logit rule, 24 months, aggregate ==")
    big = load_scenario(
        None,
        {"network.kind": "erdos_renyi", "network.n": 20_000, "network.mean_degree": 6.0,
         "initial.seed_count": 20, "steps": 24, "output.nation_frame": False},
    )  # fmt: skip
    loop = loop_rate(big, [1, 2] if args.quick else [1, 2, 3, 4])  # long: timed once
    print(f"single-run loop      {loop:8.2f} runs/s")
    for r in (4, 16) if args.quick else (4, 16, 32):
        rate = ensemble_rate(big, list(range(10, 10 + r)), False)
        print(f"ensemble R = {r:<4}    {rate:8.2f} runs/s   {rate / loop:6.1f}x the loop")

    print("\n== peak memory (tracemalloc, built + stepped + frames) ==")
    agg = load_scenario(None, {"output.nation_frame": False})
    nf = load_scenario(None, {"output.nation_frame": True})
    for sc, r, label in ((agg, 64, "aggregate"), (agg, 256, "aggregate"), (nf, 16, "nations")):
        peak = peak_memory(sc, r, label == "nations")
        print(f"baseline {label:9} R = {r:<4} peak {peak / 2**20:8.1f} MiB, "
              f"{peak / r / 2**20:6.2f} MiB per replicate")  # fmt: skip
        if label == "aggregate":
            best["memory"] = peak

    print("\n== issue 12 targets ==")
    ratio, memory = best["ratio"], best["memory"]
    print(f"baseline, aggregate outputs: {ratio:.1f}x the single-run loop "
          f"(target 20x: {'met' if ratio >= 20 else 'NOT met'})")  # fmt: skip
    if "reference" in best:
        against = best["rate"] / best["reference"]
        print(f"  against the reference checkout's single-run loop: {against:.1f}x "
              f"(target 20x: {'met' if against >= 20 else 'NOT met'})")  # fmt: skip
    print(f"largest aggregate batch: {memory / 2**20:.0f} MiB "
          f"(target under 1 GB for R = 256: {'met' if memory < 2**30 else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
