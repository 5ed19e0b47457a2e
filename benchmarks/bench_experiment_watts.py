"""Wall time of the Watts-style experiment (the bundled watts_threshold).

Threshold rule (phi = 0.18) on Erdos-Renyi graphs with n = 10,000, ten mean degrees, 200
single-seed replicates each (2,000 runs), on the processes backend. Prints the wall time,
runs per second and the cascade frequency (final share > 0.5) per mean degree, which should
show Watts' (2002) cascade window.

Usage: ``python benchmarks/bench_experiment_watts.py [--workers 2] [--backend processes]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from adoption_model.experiments import run_experiment

EXAMPLE = "watts_threshold"  # adoption_model/experiments/examples/watts_threshold.toml


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="processes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        runs = run_experiment(EXAMPLE, Path(tmp) / "o", backend=args.backend,
                              workers=args.workers, progress=False)  # fmt: skip
        wall = time.perf_counter() - t
    failed = int((runs["status"] != "ok").sum())
    print(f"{len(runs)} runs, {failed} failed, {args.backend} x{args.workers}: "
          f"{wall:.0f} s wall, {len(runs) / wall:.2f} runs/s")  # fmt: skip
    freq = runs.assign(cascade=runs["final_share"] > 0.5).groupby("network.mean_degree")
    print(freq["cascade"].mean().rename("cascade frequency").to_string())


if __name__ == "__main__":
    main()
