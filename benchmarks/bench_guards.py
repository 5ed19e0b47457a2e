"""Cost of the non-finite guard: :func:`adoption_model.guards.check_finite` against a step.

Builds the baseline (197 nations, logit rule) and a 10,000-node Bass run, times
``model.step()`` (which includes the guard) and ``check_finite(model)`` alone in the same
run, and prints the guard's share of a step.

    python benchmarks/bench_guards.py [--steps 200]
"""

from __future__ import annotations

import argparse
import time

from adoption_model.guards import check_finite
from adoption_model.model import AdoptionModel

CASES = {
    "baseline (197 nations, logit)": {"output.nation_frame": False},
    "erdos_renyi 10,000 nodes, bass": {
        "network.kind": "erdos_renyi", "network.n": 10_000, "rule.kind": "bass",
        "rule.p": 0.0001, "rule.q": 0.01, "output.nation_frame": False,
    },
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    for label, overrides in CASES.items():
        model = AdoptionModel(overrides={**overrides, "steps": args.steps}, seed=1)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            model.step()
        step = (time.perf_counter() - t0) / args.steps
        reps = 20 * args.steps
        t0 = time.perf_counter()
        for _ in range(reps):
            check_finite(model)
        guard = (time.perf_counter() - t0) / reps
        print(
            f"{label}: step {step * 1e3:.3f} ms, guard {guard * 1e6:.1f} us "
            f"= {guard / step:.2%} of a step"
        )


if __name__ == "__main__":
    main()
