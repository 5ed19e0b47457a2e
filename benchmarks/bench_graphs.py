"""Build times of the influence graphs, against networkx's generators measured in the same run.

Run with ``python benchmarks/bench_graphs.py`` (``--quick`` for smaller sizes). Prints the
best of ``--repeat`` wall-clock times for each builder and the ratio to the networkx
reference, where there is one. Timings are not asserted anywhere; the tests only check
correctness.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import networkx as nx
import numpy as np

from adoption_model.network import (
    barabasi_albert,
    complete,
    erdos_renyi,
    real_network,
    ring,
    watts_strogatz,
)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best wall-clock time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="calls per builder (best kept)")
    parser.add_argument("--quick", action="store_true", help="smaller synthetic graphs")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    n_er, n_ba, n_ws = 100_000 // scale, 20_000 // scale, 100_000 // scale
    rows: list[tuple[str, float, str, float | None]] = []

    # real graph: the first call also reads and validates the data files
    from adoption_model.nations import load_nations

    t0 = time.perf_counter()
    real_network()
    cold = time.perf_counter() - t0
    rows.append(("real graph, 197 nations (first call, loads data)", cold, "", None))
    nations = load_nations()
    rows.append(
        ("real graph, 197 nations", best_of(lambda: real_network(nations), args.repeat), "", None)
    )
    rows.append(
        (
            "real graph, gravity_top_k=0 (all pairs)",
            best_of(lambda: real_network(nations, {"gravity_top_k": 0}), args.repeat),
            "",
            None,
        )
    )

    p = 6.0 / (n_er - 1)
    ours = best_of(lambda: erdos_renyi(n_er, 6.0, np.random.default_rng(1)), args.repeat)
    ref = best_of(lambda: nx.fast_gnp_random_graph(n_er, p, seed=1), args.repeat)
    rows.append((f"erdos_renyi n={n_er:,} mean degree 6", ours, "nx.fast_gnp_random_graph", ref))

    ours = best_of(lambda: barabasi_albert(n_ba, 3, np.random.default_rng(1)), args.repeat)
    ref = best_of(lambda: nx.barabasi_albert_graph(n_ba, 3, seed=1), args.repeat)
    rows.append((f"barabasi_albert n={n_ba:,} m=3", ours, "nx.barabasi_albert_graph", ref))

    ours = best_of(lambda: watts_strogatz(n_ws, 6, 0.1, np.random.default_rng(1)), args.repeat)
    ref = best_of(lambda: nx.watts_strogatz_graph(n_ws, 6, 0.1, seed=1), args.repeat)
    rows.append((f"watts_strogatz n={n_ws:,} k=6 p=0.1", ours, "nx.watts_strogatz_graph", ref))

    rows.append((f"ring n={n_ws:,} k=6", best_of(lambda: ring(n_ws, 6), args.repeat), "", None))
    rows.append(
        ("complete n=1,000,000", best_of(lambda: complete(1_000_000), args.repeat), "", None)
    )

    net = erdos_renyi(n_er, 6.0, np.random.default_rng(1))
    x = (np.random.default_rng(2).random(n_er) < 0.1).astype(np.float64)
    rows.append(
        (f"signal() on erdos_renyi n={n_er:,}", best_of(lambda: net.signal(x), 20), "", None)
    )

    width = max(len(r[0]) for r in rows)
    print(f"{'builder':<{width}}  {'ours (s)':>9}  {'reference (s)':>13}  ratio  reference")
    for label, ours_s, ref_name, ref_s in rows:
        if ref_s is None:
            print(f"{label:<{width}}  {ours_s:9.4f}")
        else:
            ratio = ref_s / ours_s
            print(f"{label:<{width}}  {ours_s:9.4f}  {ref_s:13.4f}  {ratio:5.1f}x  {ref_name}")


if __name__ == "__main__":
    main()
