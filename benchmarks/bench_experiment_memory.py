"""Memory stays flat over many runs in one worker.

Runs ``--runs`` (default 10,000) baseline runs serially in this process through the
experiment runner (chunks of 100 written to a temporary store) and prints the resident set
size at the start, middle and end, read from ``/proc/self/status`` (Linux).

Usage: ``python benchmarks/bench_experiment_memory.py [--runs 10000] [--steps 120]``
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from adoption_model.experiments import run_experiment


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=120)
    args = ap.parse_args()
    exp = {
        "name": "memory", "seed": 3, "replications": args.runs, "set": {"steps": args.steps},
        "design": {"kind": "points", "points": [{"imf.stance": 0.5}]},
        "store": {"chunk_runs": 100},
    }  # fmt: skip
    samples: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "o"
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                done = len(list((out / "runs").glob("part-*.parquet"))) * 100 if out.exists() else 0
                samples.append((done, rss_mib()))
                stop.wait(2.0)

        thread = threading.Thread(target=watch, daemon=True)
        t = time.perf_counter()
        thread.start()
        runs = run_experiment(exp, out, backend="serial", progress=False)
        stop.set()
        thread.join()
        wall = time.perf_counter() - t
    marks = {"start": samples[1] if len(samples) > 1 else samples[0],
             "middle": min(samples, key=lambda s: abs(s[0] - args.runs / 2)),
             "end": samples[-1]}  # fmt: skip
    print(f"{len(runs)} runs ({args.steps} steps) in one process: {wall:.0f} s")
    for name, (done, rss) in marks.items():
        print(f"  RSS at {name:6s} (~{done:5d} runs done): {rss:7.1f} MiB")
    print(f"  growth end/start: {marks['end'][1] / marks['start'][1]:.3f}x")


if __name__ == "__main__":
    main()
