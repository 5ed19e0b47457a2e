"""Write ``prim_ema.json``: EMA Workbench's PRIM on two reference cases (run it where
``ema_workbench`` is installed, e.g. a scratch virtual environment with
``pip install ema-workbench==2.5.3``; the project does not depend on it).

    python tests/reference/make_prim_reference.py

``tests/test_discovery.py`` regenerates the same data (``reference_case``) and checks that
``adoption_model.discovery.prim`` reproduces the trajectory, box limits and quasi p-values.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def reference_case(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The data of a reference case (shared with the test)."""
    rng = np.random.default_rng(20240601 if name == "planted" else 7)
    n = 1000
    x = pd.DataFrame(rng.random((n, 4)), columns=["x1", "x2", "x3", "x4"])
    x["level"] = rng.integers(0, 10, n).astype(np.int64)
    x["kind"] = np.array(["a", "b", "c"])[rng.integers(0, 3, n)]
    if name == "planted":
        y = (x["x1"].between(0.2, 0.6) & (x["x2"] >= 0.5)).to_numpy()
        flip = rng.random(n) < 0.05
        y = np.where(flip, ~y, y)
    else:
        y = ((x["x3"] > 0.4) & (x["kind"] != "c") & (x["level"] >= 3)).to_numpy()
    return x, y.astype(int)


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    from ema_workbench import __version__
    from ema_workbench.analysis import prim

    out = {"ema_workbench": __version__, "cases": {}}
    for name in ("planted", "mixed"):
        x, y = reference_case(name)
        p = prim.Prim(x.copy(), y, threshold=0.8)
        box = p.find_box()
        traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]]
        boxes = []
        for lim, qp in zip(box.box_lims, box.qp, strict=True):
            entry = {}
            for col in lim.columns:
                v0, v1 = lim.loc[0, col], lim.loc[1, col]
                if isinstance(v0, set):
                    entry[col] = {"values": sorted(map(str, v0))}
                else:
                    entry[col] = {"limits": [float(v0), float(v1)]}
                if col in qp:
                    entry[col]["qp"] = [None if q == -1 else float(q) for q in qp[col]]
            boxes.append(entry)
        out["cases"][name] = {"trajectory": traj.astype(float).to_dict("list"), "boxes": boxes}
    (HERE / "prim_ema.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'prim_ema.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
