"""Engine speed: vectorised vs per-agent engine vs a bare numpy/scipy kernel, in one process.

Prints agent-steps per second and the ratios the simulation issue sets floors for:

- vectorised >= 50x the agents engine on the real world (197 nations),
- vectorised >= 300x the agents engine on a 20,000-node Barabási–Albert graph,
- vectorised within 1.5x of a bare kernel of the same threshold rule,
- a 20,000-node, 100-step run in under a second,
- runs per second of the 120-month baseline,
- memory flat over 1,000 consecutive runs in one process (Mesa issue 3179 worked around).

Usage: ``python benchmarks/bench_engine.py [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

import numpy as np

from adoption_model.model import AdoptionModel
from adoption_model.network import barabasi_albert
from adoption_model.runner import run


def time_steps(overrides: dict, engine: str, steps: int, seed: int = 1) -> tuple[float, float]:
    """Seconds per step (building excluded) and build time; steps run even if converged."""
    t0 = time.perf_counter()
    model = AdoptionModel(seed=seed, overrides={**overrides, "engine": engine, "steps": steps})
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.step()
    return (time.perf_counter() - t0) / steps, built


def bare_threshold_kernel(n: int, m: int, steps: int, phi: float, seed: int = 1) -> float:
    """The threshold rule in plain numpy/scipy on the same graph: seconds per step."""
    net = barabasi_albert(n, m, np.random.default_rng(seed))
    w = net.matrix
    den = w @ np.ones(n)
    adopted = np.zeros(n, dtype=bool)
    adopted[:10] = True
    counts = []
    t0 = time.perf_counter()
    for _ in range(steps):
        x = adopted.astype(float)
        signal = np.divide(w @ x, den, out=np.zeros(n), where=den > 0)
        adopted |= signal >= phi
        counts.append(int(adopted.sum()))
    return (time.perf_counter() - t0) / steps


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and runs")
    args = parser.parse_args()
    q = args.quick
    print("== agent-steps per second: vectorised vs agents engine ==")
    cases = [
        ("real 197, logit", {}, 24 if q else 60, 6 if q else 12),
        ("real 197, threshold", {"rule.kind": "threshold", "rule.phi": 0.9}, 60, 12),
        (
            "BA 2,000, logit",
            {
                "network.kind": "barabasi_albert",
                "network.n": 2000,
                "network.m": 3,
                "initial.seed_count": 20,
            },
            20,
            3,
        ),
        (
            "BA 2,000, threshold",
            {
                "network.kind": "barabasi_albert",
                "network.n": 2000,
                "network.m": 3,
                "rule.kind": "threshold",
                "rule.phi": 0.5,
                "initial.seed_count": 20,
            },
            50,
            5,
        ),
        (
            "BA 20,000, logit",
            {
                "network.kind": "barabasi_albert",
                "network.n": 20000,
                "network.m": 3,
                "initial.seed_count": 200,
            },
            20,
            1,
        ),
        (
            "BA 20,000, threshold",
            {
                "network.kind": "barabasi_albert",
                "network.n": 20000,
                "network.m": 3,
                "rule.kind": "threshold",
                "rule.phi": 0.5,
                "initial.seed_count": 200,
            },
            100,
            2,
        ),
    ]
    for label, over, vsteps, asteps in cases:
        n = AdoptionModel(seed=1, overrides={**over, "steps": 1}).n
        tv, _ = time_steps(over, "vectorized", vsteps)
        ta, _ = time_steps(over, "agents", asteps)
        print(
            f"{label:24s} vectorised {n / tv:12,.0f}/s   agents {n / ta:10,.0f}/s   "
            f"ratio {ta / tv:7.1f}x"
        )

    print("\n== threshold rule, BA 20,000 nodes: model engine vs bare numpy/scipy kernel ==")
    over = {
        "network.kind": "barabasi_albert",
        "network.n": 20000,
        "network.m": 3,
        "rule.kind": "threshold",
        "rule.phi": 0.5,
        "initial.seed_count": 10,
    }
    tb = min(bare_threshold_kernel(20000, 3, 100, 0.5) for _ in range(3))
    tv = min(time_steps(over, "vectorized", 100)[0] for _ in range(3))
    print(
        f"bare kernel {tb * 1e3:.3f} ms/step   vectorised {tv * 1e3:.3f} ms/step   "
        f"ratio {tv / tb:.2f}x (floor: <= 1.5x)"
    )

    print("\n== a 20,000-node, 100-step run, end to end (build included) ==")
    t0 = time.perf_counter()
    model = AdoptionModel(seed=1, overrides={**over, "steps": 100})
    for _ in range(100):
        model.step()
    print(f"{time.perf_counter() - t0:.3f} s (floor: < 1 s)")

    print("\n== runs per second: 120-month baseline, 197 nations, aggregate outputs ==")
    k = 20 if q else 50
    t0 = time.perf_counter()
    for s in range(k):
        run(overrides={"output.nation_frame": False}, seed=s)
    rate = k / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for s in range(k // 5):
        run(seed=s)
    rate_full = (k // 5) / (time.perf_counter() - t0)
    print(f"{rate:.1f} runs/s (aggregates only), {rate_full:.1f} runs/s with the nation frame")

    print("\n== memory over consecutive runs in one process ==")
    total = 200 if q else 1000
    marks = {}
    for i in range(total):
        run(overrides={"steps": 24, "output.nation_frame": False}, seed=i)
        if i + 1 in (total // 10, total // 2, total):
            gc.collect()
            marks[i + 1] = rss_mb()
    print("  ".join(f"after {k:5d} runs: {v:7.1f} MB" for k, v in marks.items()))
    first, last = marks[total // 10], marks[total]
    print(f"growth from {total // 10} to {total} runs: {last - first:+.1f} MB")


if __name__ == "__main__":
    main()
