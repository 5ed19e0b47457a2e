"""Golden cases: the runs whose outputs pin the model's behaviour across restructurings.

Every bundled scenario at a short horizon with two seeds, and the classic rules on
synthetic graphs, each through both engines. ``digest_run`` hashes the exact bytes of the
model frame, the nation frame, the first adoptions and the summary, so any change in a
single draw or float shows up.

Regenerate (only when behaviour changes on purpose, and say why in the commit)::

    python -m tests.golden.cases --update
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

GOLDEN_FILE = Path(__file__).with_name("digests.json")

SEEDS = (3, 11)
HORIZON = 24

#: Classic rules on synthetic graphs (and the logit rule off the real world).
SYNTHETIC: dict[str, dict[str, Any]] = {
    "threshold-er": {
        "steps": 40,
        "rule.kind": "threshold",
        "network.kind": "erdos_renyi",
        "network.n": 400,
        "network.mean_degree": 4.0,
        "rule.phi": 0.18,
        "initial.seed_count": 4,
        "output.nation_frame": True,
    },
    "threshold-ring-uniform": {
        "steps": 40,
        "rule.kind": "threshold",
        "network.kind": "ring",
        "network.n": 200,
        "network.k": 6,
        "rule.threshold_distribution.kind": "uniform",
        "rule.threshold_distribution.high": 0.5,
        "initial.seed_count": 3,
        "output.nation_frame": True,
    },
    "bass-ba": {
        "steps": 30,
        "rule.kind": "bass",
        "network.kind": "barabasi_albert",
        "network.n": 300,
        "network.m": 2,
        "rule.p": 0.01,
        "rule.q": 0.5,
        "output.nation_frame": True,
    },
    "bass-complete": {
        "steps": 30,
        "rule.kind": "bass",
        "network.kind": "complete",
        "network.n": 300,
        "output.nation_frame": True,
    },
    "cascade-er": {
        "steps": 40,
        "rule.kind": "cascade",
        "network.kind": "erdos_renyi",
        "network.n": 500,
        "network.mean_degree": 4.0,
        "rule.transmission": 0.5,
        "initial.seed_count": 2,
        "output.nation_frame": True,
    },
    "logit-ws": {
        "steps": 30,
        "network.kind": "watts_strogatz",
        "network.n": 150,
        "network.k": 4,
        "network.p": 0.2,
        "initial.seed_count": 5,
        "output.nation_frame": True,
    },
}


def cases() -> dict[str, tuple[str | None, dict[str, Any]]]:
    """``case id -> (scenario name or None, overrides)`` for every golden run (one seed)."""
    from adoption_model.scenario import bundled_scenarios

    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for name in sorted(bundled_scenarios()):
        out[f"scenario-{name}"] = (name, {"steps": HORIZON, "output.nation_frame": True})
    for key, over in SYNTHETIC.items():
        out[f"synthetic-{key}"] = (None, dict(over))
    return out


def _frame_digest(df: pd.DataFrame | None) -> str:
    if df is None:
        return "none"
    h = hashlib.sha256()
    for col in df.columns:
        h.update(str(col).encode())
        s = df[col]
        h.update(str(s.dtype).encode())
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
            h.update("\x1f".join(map(str, s.tolist())).encode())
        else:
            h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
    return h.hexdigest()


def digest_run(name: str | None, overrides: dict[str, Any], seed: int, engine: str) -> dict:
    """Digests of one run's outputs (model frame, nation frame, first adoptions, summary)."""
    from adoption_model.runner import run

    return digest_result(run(name, seed=seed, overrides={**overrides, "engine": engine}))


def digest_result(res: Any) -> dict:
    """Digests of one :class:`~adoption_model.runner.RunResult` (see :func:`digest_run`)."""
    # the engine and the scenario's digest name the configuration, not the outputs
    kept = {k: v for k, v in res.summary.items() if k not in ("engine", "scenario_digest")}
    summary = json.dumps(kept, sort_keys=True, default=str)
    return {
        "model": _frame_digest(res.model_frame),
        "nations": _frame_digest(res.nation_frame),
        "first": _frame_digest(res.first_adoptions),
        "summary": hashlib.sha256(summary.encode()).hexdigest(),
        "steps": int(len(res.model_frame)),
    }


def compute(engine: str = "vectorized") -> dict[str, dict]:
    """Digests of every golden case and seed with one engine."""
    out = {}
    for cid, (name, over) in cases().items():
        for seed in SEEDS:
            out[f"{cid}@{seed}"] = digest_run(name, over, seed, engine)
    return out


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if "--update" not in sys.argv:
        sys.exit("usage: python -m tests.golden.cases --update")
    GOLDEN_FILE.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN_FILE}")
