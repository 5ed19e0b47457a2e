"""PRIM, the Patient Rule Induction Method, as the EMA Workbench runs it for scenario discovery.

PRIM (Friedman and Fisher 1999) looks for a box (an interval per numeric factor, a set of
values per categorical one) in which the cases of interest are dense. It *peels*: among
all candidate boxes that drop a ``peel_alpha`` quantile off one side of one factor (or one
value of a categorical factor) it keeps the one with the largest gain in density per case
removed (the "lenient 1" objective), until the box would hold less than ``mass_min`` of the
cases; then it *pastes* back slices that raise the density. Every box on the way is kept:
the peeling trajectory is the coverage-density trade-off an analyst chooses from (Bryant
and Lempert 2010).

Each restricted limit of a box gets a quasi p-value: the one-sided binomial test that the
box's cases of interest (k of n) would arise if the box had the density it has with that
limit removed. A small value means the limit matters.

This is a port of ``ema_workbench.analysis.prim`` (EMA Workbench 2.5, BSD-3) restricted to
one box and binary outcomes, with the same quantile rule, objective, tie-breaking (higher
objective, then fewer restricted factors, then candidate order: float factors, integer
factors, categorical factors, each upper then lower) and quasi p-values;
``tests/test_discovery.py`` checks it reproduces EMA Workbench's trajectory and box on a
reference case (``tests/reference/prim_ema.json``, written by
``tests/reference/make_prim_reference.py``). Two deliberate differences: categorical values
are peeled in sorted order (EMA iterates a Python set, whose order changes between runs for
strings), and pasting also considers integer and categorical factors when no float factor
is restricted (EMA stops early there).

References
----------
Friedman, J. H. and Fisher, N. I. (1999), "Bump hunting in high-dimensional data",
Statistics and Computing 9(2), 123-143.
Bryant, B. P. and Lempert, R. J. (2010), "Thinking inside the box: a participatory,
computer-assisted approach to scenario discovery", Technological Forecasting and Social
Change 77(1), 34-49.
Kwakkel, J. H. (2017), "The Exploratory Modeling Workbench", Environmental Modelling &
Software 96, 239-250.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


def get_quantile(data: np.ndarray, quantile: float) -> float:
    """The quantile rule of sdtoolkit and EMA Workbench (midpoint to the next distinct value).

    Examples
    --------
    >>> get_quantile(np.arange(21.0), 0.05), get_quantile(np.arange(21.0), 0.95)
    (1.5, 18.5)
    """
    assert 0 < quantile < 1
    data = np.sort(np.asarray(data))
    i = (len(data) - 1) * quantile
    lo, hi = int(math.floor(i)), int(math.ceil(i))
    if quantile > 0.5:
        while data[lo] == data[hi] and lo > 0:
            lo -= 1
    else:
        while data[lo] == data[hi] and hi < len(data) - 1:
            hi += 1
    return float((data[lo] + data[hi]) / 2)


Limits = dict[str, Any]  # factor -> [low, high] (numeric) or frozenset (categorical)


@dataclass
class PrimResult:
    """A peeling and pasting trajectory: every box PRIM passed through, in order.

    ``trajectory`` has one row per box (``id``, ``coverage``, ``density``, ``mass``,
    ``res_dim``, ``n`` cases in the box, ``k`` cases of interest in it, ``phase`` peel or
    paste); ``boxes[i]`` are box i's limits and ``qp[i]`` the quasi p-values of its
    restricted limits.
    """

    factors: list[str]
    kinds: dict[str, str]
    box_init: Limits
    trajectory: pd.DataFrame
    boxes: list[Limits] = field(repr=False)
    qp: list[dict[str, tuple[float, float]]] = field(repr=False)

    def choose(self, min_density: float) -> int:
        """The box with the highest coverage among those with density >= ``min_density``.

        Falls back to the densest box when none reaches ``min_density``.
        """
        t = self.trajectory
        ok = t[t["density"] >= min_density - 1e-12]
        if len(ok):
            best = ok.sort_values(["coverage", "density", "id"], ascending=[False, False, True])
        else:
            best = t.sort_values(["density", "coverage", "id"], ascending=[False, False, True])
        return int(best["id"].iloc[0])

    def limits(self, i: int) -> pd.DataFrame:
        """Box ``i``'s limits, one row per factor, with quasi p-values of restricted limits.

        Columns: ``factor``, ``kind`` (float/int/categorical), ``restricted``, ``lower``,
        ``upper`` (numeric factors), ``values`` (categorical: the values kept), ``minimum``,
        ``maximum`` (the data's range), ``qp_lower``, ``qp_upper`` (NaN where not restricted).
        """
        box, qp = self.boxes[i], self.qp[i]
        rows = []
        for f in self.factors:
            kind = self.kinds[f]
            init = self.box_init[f]
            q = qp.get(f, (math.nan, math.nan))
            if kind == "categorical":
                rows.append({
                    "factor": f, "kind": kind, "restricted": box[f] != init,
                    "lower": math.nan, "upper": math.nan,
                    "values": ", ".join(sorted(map(str, box[f]))),
                    "minimum": math.nan, "maximum": math.nan,
                    "qp_lower": q[0], "qp_upper": math.nan,
                })  # fmt: skip
            else:
                rows.append({
                    "factor": f, "kind": kind,
                    "restricted": bool(box[f][0] != init[0] or box[f][1] != init[1]),
                    "lower": float(box[f][0]), "upper": float(box[f][1]), "values": "",
                    "minimum": float(init[0]), "maximum": float(init[1]),
                    "qp_lower": q[0], "qp_upper": q[1],
                })  # fmt: skip
        return pd.DataFrame(rows)


class _Prim:
    def __init__(
        self, x: pd.DataFrame, y: np.ndarray, peel_alpha: float, paste_alpha: float,
        mass_min: float,
    ) -> None:  # fmt: skip
        x = x.reset_index(drop=True)
        floats = [c for c in x.columns if pd.api.types.is_float_dtype(x[c])]
        ints = [c for c in x.columns if pd.api.types.is_integer_dtype(x[c])
                and not pd.api.types.is_bool_dtype(x[c])]  # fmt: skip
        nominal = [c for c in x.columns if c not in floats and c not in ints]
        nominal = [c for c in nominal if x[c].nunique() > 1]  # as EMA: one value, no factor
        self.order = floats + ints + nominal
        self.kinds = {c: "float" for c in floats} | {c: "int" for c in ints}
        self.kinds |= {c: "categorical" for c in nominal}
        self.cols = {c: x[c].to_numpy() for c in self.order}
        self.y = np.asarray(y, dtype=float)
        self.n = len(self.y)
        self.t_coi = int((self.y >= 0.5).sum())
        self.peel_alpha, self.paste_alpha, self.mass_min = peel_alpha, paste_alpha, mass_min
        self.init: Limits = {}
        for c in self.order:
            v = self.cols[c]
            if self.kinds[c] == "categorical":
                self.init[c] = frozenset(v.tolist())
            else:
                self.init[c] = (v.min().item(), v.max().item())
        self.remaining = np.arange(self.n)
        self.boxes: list[Limits] = []
        self.qp: list[dict[str, tuple[float, float]]] = []
        self.rows: list[dict[str, Any]] = []

    # -- helpers ----------------------------------------------------------------------------
    def restricted(self, box: Limits) -> list[str]:
        return [c for c in self.order if box[c] != self.init[c]]

    def in_box(self, idx: np.ndarray, box: Limits, dims: list[str]) -> np.ndarray:
        keep = np.ones(len(idx), dtype=bool)
        for c in dims:
            v = self.cols[c][idx]
            if self.kinds[c] == "categorical":
                keep &= np.isin(v, list(box[c]))
            else:
                keep &= (box[c][0] <= v) & (v <= box[c][1])
        return keep

    def obj(self, old: np.ndarray, new: np.ndarray) -> float:
        """EMA's lenient1: gain in mean per case removed (or added)."""
        y_old, y_new = self.y[old], self.y[new]
        mean_old = y_old.mean()
        mean_new = y_new.mean() if len(y_new) else 0.0
        if mean_old == mean_new or len(y_old) == len(y_new):
            return 0.0
        return float((mean_new - mean_old) / abs(len(y_old) - len(y_new)))

    def record(self, box: Limits, idx: np.ndarray, phase: str) -> None:
        i = len(self.rows)
        k = int((self.y[idx] >= 0.5).sum())
        res = self.restricted(box)
        self.rows.append({
            "id": i, "coverage": k / self.t_coi if self.t_coi else math.nan,
            "density": k / len(idx) if len(idx) else math.nan,
            "mean": float(self.y[idx].mean()) if len(idx) else math.nan,
            "mass": len(idx) / self.n, "res_dim": len(res), "n": len(idx), "k": k,
            "phase": phase,
        })  # fmt: skip
        self.boxes.append(dict(box))
        self.qp.append(self.quasi_p(box, res, n=len(idx), k=k))

    def quasi_p(self, box: Limits, res: list[str], n: int, k: int) -> dict[str, tuple]:
        out: dict[str, tuple[float, float]] = {}
        rem = self.remaining
        for c in res:
            values = []
            sides = (0,) if self.kinds[c] == "categorical" else (0, 1)
            for side in (0, 1):
                if side not in sides:
                    values.append(math.nan)
                    continue
                if self.kinds[c] != "categorical" and box[c][side] == self.init[c][side]:
                    values.append(math.nan)
                    continue
                temp = dict(box)
                if self.kinds[c] == "categorical":
                    temp[c] = self.init[c]
                else:
                    lim = list(box[c])
                    lim[side] = self.init[c][side]
                    temp[c] = tuple(lim)
                inside = rem[self.in_box(rem, temp, res)]
                p = self.y[inside].mean()
                values.append(float(stats.binomtest(k, n, p, alternative="greater").pvalue))
            out[c] = (values[0], values[1])
        return out

    # -- peeling ----------------------------------------------------------------------------
    def peels(self, box: Limits, idx: np.ndarray) -> list[tuple[np.ndarray, Limits]]:
        out = []
        for c in self.order:
            x = self.cols[c][idx]
            kind = self.kinds[c]
            if kind == "float":
                for side, q in ((1, 1 - self.peel_alpha), (0, self.peel_alpha)):
                    v = get_quantile(x, q)
                    keep = x <= v if side == 1 else x >= v
                    lim = list(box[c])
                    lim[side] = v
                    out.append((idx[keep], {**box, c: tuple(lim)}))
            elif kind == "int":
                lo, hi = box[c]
                for side, q in ((1, 1 - self.peel_alpha), (0, self.peel_alpha)):
                    v = int(get_quantile(x, q))
                    if side == 0:
                        keep = (x > lo) & (x <= hi) if v == lo else (x >= v) & (x <= hi)
                    else:
                        keep = (x < hi) & (x >= lo) if v == hi else (x <= v) & (x >= lo)
                    if keep.any():
                        new = x[keep].max() if side == 1 else x[keep].min()
                    else:
                        new = x.max() if side == 1 else x.min()
                    lim = list(box[c])
                    lim[side] = new.item()
                    out.append((idx[keep], {**box, c: tuple(lim)}))
            else:
                values = box[c]
                if len(values) > 1:
                    for v in sorted(values, key=str):
                        keep = x != v
                        out.append((idx[keep], {**box, c: values - {v}}))
        return out

    def best(
        self, idx: np.ndarray, candidates: list[tuple[np.ndarray, Limits]]
    ) -> tuple[float, np.ndarray, Limits]:
        scored = [
            (self.obj(idx, new), len(self.order) - len(self.restricted(b)), j)
            for j, (new, b) in enumerate(candidates)
        ]
        scored.sort(key=lambda s: (s[0], s[1]), reverse=True)  # stable: candidate order
        obj, _, j = scored[0]
        return obj, candidates[j][0], candidates[j][1]

    def peel(self, box: Limits, idx: np.ndarray) -> tuple[Limits, np.ndarray]:
        while True:
            candidates = self.peels(box, idx)
            if not candidates:
                return box, idx
            obj, new_idx, new_box = self.best(idx, candidates)
            mass_new = len(new_idx) / self.n
            if mass_new >= self.mass_min and len(new_idx) < len(idx) and obj > 0:
                box, idx = new_box, new_idx
                self.record(box, idx, "peel")
            else:
                return box, idx

    # -- pasting ----------------------------------------------------------------------------
    def pastes(self, box: Limits, res: list[str]) -> list[tuple[np.ndarray, Limits]]:
        rem = self.remaining
        out = []
        for c in res:
            kind = self.kinds[c]
            if kind == "categorical":
                for v in sorted(self.init[c] - box[c], key=str):
                    b = {**box, c: box[c] | {v}}
                    out.append((rem[self.in_box(rem, b, res)], b))
                continue
            minimum, maximum = self.init[c]
            for side in (0, 1):
                slab = dict(box)
                slab[c] = (minimum, box[c][0]) if side == 0 else (box[c][1], maximum)
                data = self.cols[c][rem[self.in_box(rem, slab, res)]]
                if side == 0:
                    v = get_quantile(data, 1 - self.paste_alpha) if len(data) else minimum
                else:
                    v = get_quantile(data, self.paste_alpha) if len(data) else maximum
                lim = list(box[c])
                lim[side] = v
                b = {**box, c: tuple(lim)}
                out.append((rem[self.in_box(rem, b, res)], b))
        return out

    def paste(self, box: Limits, idx: np.ndarray) -> tuple[Limits, np.ndarray]:
        while True:
            res = self.restricted(box)
            candidates = self.pastes(box, res)
            if not candidates:
                return box, idx
            obj, new_idx, new_box = self.best(idx, candidates)
            grows = len(new_idx) > len(idx) and len(new_idx) / self.n >= self.mass_min
            if grows and obj > 0 and self.y[new_idx].mean() > self.y[idx].mean():
                box, idx = new_box, new_idx
                self.record(box, idx, "paste")
            else:
                return box, idx

    def run(self) -> PrimResult:
        box, idx = dict(self.init), self.remaining.copy()
        self.record(box, idx, "start")
        box, idx = self.peel(box, idx)
        self.paste(box, idx)
        return PrimResult(
            factors=list(self.order), kinds=dict(self.kinds), box_init=dict(self.init),
            trajectory=pd.DataFrame(self.rows), boxes=self.boxes, qp=self.qp,
        )  # fmt: skip


def prim(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series,
    *,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> PrimResult:
    """Run PRIM on factors ``x`` (one row per case) and a binary outcome ``y`` (1 = of interest).

    Float columns are peeled by quantiles, integer columns by distinct values, every other
    column (strings, booleans, categories) one value at a time. A column with one value is
    left out. Defaults are EMA Workbench's.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
    >>> y = ((x["a"] > 0.5) & (x["b"] < 0.4)).to_numpy()
    >>> r = prim(x, y)
    >>> lim = r.limits(r.choose(0.9)).set_index("factor")
    >>> lim.loc[["a", "b"], "restricted"].tolist(), bool(lim.loc["c", "restricted"])
    ([True, True], False)
    """
    y = np.asarray(y)
    if y.dtype == bool:
        y = y.astype(float)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    if not set(np.unique(y)) <= {0.0, 1.0}:
        raise ValueError("y must be binary (0/1 or False/True)")
    if not 0 < peel_alpha < 0.5 or not 0 < paste_alpha < 0.5:
        raise ValueError("peel_alpha and paste_alpha must be in (0, 0.5)")
    return _Prim(x, y, peel_alpha, paste_alpha, mass_min).run()
