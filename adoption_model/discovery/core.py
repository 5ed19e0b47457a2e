"""Scenario discovery over a sweep: under which conditions does an outcome happen?

:func:`discover` reads a results directory of ``adoption-model sweep`` (or any DataFrame
with factor and outcome columns), marks each run as a case of interest or not with a
simple expression (``final_adoption_share >= 0.25``), and answers with three views:

* **PRIM** (:mod:`adoption_model.discovery.prim`): the peeling trajectory (the
  coverage-density trade-off) and the chosen box's limits per uncertainty and lever with
  quasi p-values (one-sided binomial test per restricted limit, as EMA Workbench);
* **CART** (scikit-learn's :class:`~sklearn.tree.DecisionTreeClassifier`): the leaves of a
  classification tree as boxes, each with its coverage and density;
* **feature scores**: extra-trees impurity importances (EMA Workbench's
  ``get_ex_feature_scores``): which factors matter for the outcome at all.

Coverage is the share of all cases of interest that fall in a box; density the share of
the box's cases that are of interest; mass the share of all cases in the box.

References
----------
Bryant, B. P. and Lempert, R. J. (2010), Technological Forecasting and Social Change 77(1),
34-49. Breiman, L., Friedman, J., Olshen, R. and Stone, C. (1984), Classification and
Regression Trees. Geurts, P., Ernst, D. and Wehenkel, L. (2006), "Extremely randomized
trees", Machine Learning 63(1), 3-42. Kwakkel, J. H. (2017), Environmental Modelling &
Software 96, 239-250.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.discovery.prim import PrimResult, prim
from adoption_model.errors import InputError, did_you_mean

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
_NAME = r"[A-Za-z_][A-Za-z0-9_.]*"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_EXPR = re.compile(rf"^\s*({_NAME})\s*(?:(>=|<=|==|!=|>|<)\s*({_NUMBER}|{_NAME}))?\s*$")


def need_sklearn() -> None:
    """A one-line error when scikit-learn (the analysts extra) is missing."""
    try:
        import sklearn  # noqa: F401
    except ModuleNotFoundError:
        raise InputError(
            "discover needs scikit-learn for CART and feature scores; install the analysts "
            "extra: pip install 'adoption-model[analysts]' (or pass --no-cart --no-scores)"
        ) from None


def parse_condition(
    expr: str, outcomes: list[str], threshold: float | None = None, below: bool = False
) -> tuple[str, str, str | float]:
    """Parse ``--outcome EXPR [--threshold T]`` into ``(column, operator, number or column)``.

    ``EXPR`` is an outcome column (then ``--threshold`` gives the level: of interest when
    ``column >= T``, or ``<= T`` with ``below``) or one comparison of an outcome column with a
    number or another outcome column. Anything else is refused.

    Examples
    --------
    >>> parse_condition("final_share >= 0.25", ["final_share"])
    ('final_share', '>=', 0.25)
    >>> parse_condition("final_share", ["final_share"], threshold=0.5, below=True)
    ('final_share', '<=', 0.5)
    """
    m = _EXPR.match(expr)
    if not m:
        raise InputError(
            f"--outcome {expr!r}: write an outcome column, or one comparison such as "
            "'final_adoption_share >= 0.25' (operators >= <= > < == !=)"
        )
    column, op, rhs = m.groups()
    for name in [column] + ([rhs] if rhs and re.fullmatch(_NAME, rhs) else []):
        if name not in outcomes:
            hint = did_you_mean(name, outcomes) or f"; outcomes: {', '.join(outcomes)}"
            raise InputError(f"--outcome: {name!r} is not an outcome column{hint}")
    if op is None:
        if threshold is None:
            raise InputError(
                f"--outcome {column}: give --threshold T (cases with {column} >= T are of "
                f"interest; add --below for <= T) or write a comparison like '{column} >= T'"
            )
        return column, "<=" if below else ">=", float(threshold)
    if threshold is not None:
        raise InputError(
            f"--threshold: --outcome {expr!r} is already a comparison; drop --threshold"
        )
    value: str | float = float(rhs) if re.fullmatch(_NUMBER, rhs) else rhs
    return column, op, value


def condition_text(cond: tuple[str, str, str | float]) -> str:
    col, op, rhs = cond
    return f"{col} {op} {rhs:g}" if isinstance(rhs, float) else f"{col} {op} {rhs}"


def evaluate_condition(runs: pd.DataFrame, cond: tuple[str, str, str | float]) -> np.ndarray:
    """1.0 where a run is a case of interest; NaN outcomes are not of interest."""
    col, op, rhs = cond
    left = runs[col].to_numpy(dtype=float)
    right = runs[rhs].to_numpy(dtype=float) if isinstance(rhs, str) else rhs
    with np.errstate(invalid="ignore"):
        hit = OPERATORS[op](left, right)
    return np.where(np.isnan(left), False, hit).astype(float)


@dataclass
class Discovery:
    """The answer of :func:`discover`: every table as a DataFrame, and the inputs used."""

    condition: str
    x: pd.DataFrame = field(repr=False)
    y: np.ndarray = field(repr=False)
    roles: dict[str, str]
    prim: PrimResult = field(repr=False)
    chosen: int
    min_density: float
    cart: pd.DataFrame | None
    scores: pd.DataFrame | None
    summary: dict[str, Any]
    source: str = ""

    @property
    def trajectory(self) -> pd.DataFrame:
        """The peeling trajectory, with ``chosen`` marking the selected box."""
        t = self.prim.trajectory.copy()
        t["chosen"] = t["id"] == self.chosen
        return t

    @property
    def box(self) -> pd.DataFrame:
        """The chosen box's limits per factor (role, restriction, quasi p-values)."""
        return self.box_limits(self.chosen)

    def box_limits(self, i: int) -> pd.DataFrame:
        lim = self.prim.limits(i)
        lim.insert(1, "role", [self.roles.get(f, "factor") for f in lim["factor"]])
        lim["significant"] = (lim[["qp_lower", "qp_upper"]].min(axis=1) <= 0.05) & lim["restricted"]
        return lim

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report, by file name."""
        out = {"prim_trajectory": self.trajectory, "prim_box": self.box}
        if self.cart is not None:
            out["cart_leaves"] = self.cart
        if self.scores is not None:
            out["feature_scores"] = self.scores
        return out

    def save(self, out: str | Path) -> Path:
        """Write tables (CSV, Parquet), charts (SVG, PNG) and ``report.html`` into ``out``."""
        from adoption_model.discovery import charts
        from adoption_model.discovery.report import table_html, write_report

        box = self.box
        shown = box[box["restricted"]]
        context = {
            "title": f"Scenario discovery: {self.condition}",
            "summary": self.summary,
            "condition": self.condition,
            "box": table_html(_box_display(shown if len(shown) else box)),
            "chosen": self.trajectory.loc[self.chosen].to_dict(),
            "min_density": self.min_density,
            "trajectory": table_html(
                self.trajectory[
                    ["id", "phase", "coverage", "density", "mass", "res_dim", "n", "k", "chosen"]
                ]  # fmt: skip
            ),
            "cart": table_html(self.cart) if self.cart is not None else None,
            "scores": table_html(self.scores) if self.scores is not None else None,
        }
        figs = [
            charts.tradeoff_chart(self),
            charts.box_limits_chart(self),
            charts.box_plots(self),
        ]
        if self.scores is not None:
            figs.append(charts.scores_chart(self.scores))
        return write_report(
            Path(out), "discover.html.j2", context, [f for f in figs if f is not None],
            self.tables(), {"command": "discover", "source": self.source, **self.summary},
        )  # fmt: skip


def _box_display(box: pd.DataFrame) -> pd.DataFrame:
    return box[["factor", "role", "kind", "lower", "upper", "values", "minimum", "maximum",
                "qp_lower", "qp_upper", "significant"]]  # fmt: skip


def load_sweep(directory: str | Path) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """A results directory's runs that finished, with each factor's role and the outcomes."""
    from adoption_model.experiments import read_experiment, read_runs

    exp = read_experiment(directory)
    runs = read_runs(directory)
    if not len(runs):
        raise InputError(f"{directory}: no runs stored yet; run adoption-model sweep first")
    roles = {k: "uncertainty" for k in exp.uncertainties} | {k: "lever" for k in exp.levers}
    if not roles and "point" in runs:  # a "points" design: every column it sets
        roles = {k: "factor" for p in exp.design.points or [] for k in p}
    return runs, roles, list(exp.outcomes)


def discover(
    source: str | Path | pd.DataFrame,
    outcome: str,
    *,
    threshold: float | None = None,
    below: bool = False,
    factors: dict[str, str] | list[str] | None = None,
    outcomes: list[str] | None = None,
    min_density: float = 0.8,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    cart: bool = True,
    scores: bool = True,
    seed: int = 0,
) -> Discovery:
    """Scenario discovery on a sweep's runs.

    Parameters
    ----------
    source : path or DataFrame
        A results directory of ``adoption-model sweep`` (factors and their roles come from
        its ``experiment.toml``) or a DataFrame of runs (then give ``factors``).
    outcome, threshold, below
        Which runs are of interest; see :func:`parse_condition`.
    factors : dict or list, optional
        Factor columns (a dict maps each to its role, ``uncertainty`` or ``lever``).
    outcomes : list, optional
        Outcome columns an expression may use (default: every non-factor numeric column).
    min_density : float
        The chosen PRIM box is the one with the highest coverage whose density is at least
        this (the densest box if none is).
    peel_alpha, paste_alpha, mass_min
        PRIM's parameters (EMA Workbench's defaults).
    cart, scores : bool
        Also fit the CART tree and the extra-trees feature scores (need scikit-learn).
    seed : int
        Seed of the tree ensembles (their only randomness).

    Returns
    -------
    Discovery
    """
    if isinstance(source, pd.DataFrame):
        runs, where = source, "the runs"
        roles = dict(factors) if isinstance(factors, dict) else {f: "factor" for f in factors or []}
        if not roles:
            raise InputError("discover on a DataFrame needs factors=[...] (the factor columns)")
        outs = outcomes or [c for c in runs.columns if c not in roles
                            and pd.api.types.is_numeric_dtype(runs[c])]  # fmt: skip
    else:
        runs, roles, outs = load_sweep(source)
        where = str(source)
        if factors:
            roles = {f: roles.get(f, "factor") for f in factors}
        outs = outcomes or outs
    missing = [f for f in roles if f not in runs.columns]
    if missing:
        raise InputError(f"{where}: no column {missing[0]!r} among the runs' columns")
    if not 0 < min_density <= 1:
        raise InputError(f"--density {min_density}: give a share in (0, 1]")
    if not 0 < mass_min < 1:
        raise InputError(f"--mass-min {mass_min}: give a share in (0, 1)")
    if cart or scores:
        need_sklearn()
    cond = parse_condition(outcome, outs, threshold, below)
    total = len(runs)
    if "status" in runs:
        runs = runs[runs["status"] == "ok"]
    runs = runs.reset_index(drop=True)
    if len(runs) < 20:
        raise InputError(f"{where}: {len(runs)} finished runs; discovery needs at least 20")
    y = evaluate_condition(runs, cond)
    k = int(y.sum())
    if k == 0 or k == len(y):
        state = "none" if k == 0 else "all"
        raise InputError(
            f"--outcome {condition_text(cond)}: {state} of the {len(y)} runs are of interest, "
            "so there is nothing to tell apart; choose another threshold"
        )
    x = runs[list(roles)].copy()
    for c in x.columns:
        if pd.api.types.is_bool_dtype(x[c]) or pd.api.types.is_object_dtype(x[c]):
            x[c] = x[c].astype(str)
    result = prim(x, y, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min)
    chosen = result.choose(min_density)
    nan_runs = int(runs[cond[0]].isna().sum())
    summary = {
        "condition": condition_text(cond), "runs": total, "runs_used": len(runs),
        "runs_failed": total - len(runs), "cases_of_interest": k,
        "share_of_interest": k / len(y), "outcome_nan": nan_runs,
        "factors": len(result.factors), "min_density": min_density,
        "peel_alpha": peel_alpha, "paste_alpha": paste_alpha, "mass_min": mass_min,
        "seed": seed, "chosen_box": chosen,
    }  # fmt: skip
    return Discovery(
        condition=condition_text(cond), x=x, y=y, roles=roles, prim=result, chosen=chosen,
        min_density=min_density,
        cart=cart_leaves(x, y, mass_min=mass_min, seed=seed) if cart else None,
        scores=feature_scores(x, y, roles, seed=seed) if scores else None,
        summary=summary, source=where,
    )  # fmt: skip


def _encode(x: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric columns as they are, categorical ones one-hot (``factor=value``)."""
    cols, owner = {}, {}
    for c in x.columns:
        if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c]):
            cols[c] = x[c].to_numpy(dtype=float)
            owner[c] = c
        else:
            for v in sorted(x[c].astype(str).unique()):
                name = f"{c}={v}"
                cols[name] = (x[c].astype(str) == v).to_numpy(dtype=float)
                owner[name] = c
    return pd.DataFrame(cols), owner


def cart_leaves(
    x: pd.DataFrame, y: np.ndarray, *, mass_min: float = 0.05, seed: int = 0
) -> pd.DataFrame:
    """The leaves of a CART classification tree as boxes.

    The tree (Gini impurity) grows until a leaf would hold fewer than ``mass_min`` of the
    cases (EMA Workbench's default). One row per leaf: ``rule`` (the conjunction of its
    splits, merged per factor), ``n``, ``k`` (cases of interest), ``density``, ``coverage``,
    ``mass`` and ``of_interest`` (the tree's prediction, density >= 0.5), densest first.
    """
    from sklearn.tree import DecisionTreeClassifier

    enc, owner = _encode(x)
    tree = DecisionTreeClassifier(
        min_samples_leaf=max(1, int(mass_min * len(y))), random_state=seed
    ).fit(enc.to_numpy(), y.astype(int))
    t = tree.tree_
    leaf_of = tree.apply(enc.to_numpy())
    total_k = y.sum()
    rows = []

    def walk(node: int, conds: list[tuple[str, str, float]]) -> None:
        if t.children_left[node] == -1:
            members = leaf_of == node
            n, k = int(members.sum()), float(y[members].sum())
            rows.append({
                "leaf": node, "rule": _rule(conds, owner), "n": n, "k": int(k),
                "density": k / n if n else math.nan, "coverage": k / total_k,
                "mass": n / len(y), "of_interest": k / n >= 0.5 if n else False,
            })  # fmt: skip
            return
        name, thr = enc.columns[t.feature[node]], float(t.threshold[node])
        walk(t.children_left[node], [*conds, (name, "<=", thr)])
        walk(t.children_right[node], [*conds, (name, ">", thr)])

    walk(0, [])
    out = pd.DataFrame(rows).sort_values(["density", "coverage"], ascending=False)
    return out.reset_index(drop=True)


def _rule(conds: list[tuple[str, str, float]], owner: dict[str, str]) -> str:
    if not conds:
        return "all runs"
    numeric: dict[str, list[float]] = {}
    equal: dict[str, str] = {}
    excluded: dict[str, list[str]] = {}
    for name, op, thr in conds:
        f = owner[name]
        if name != f:  # one-hot column factor=value: <= 0.5 means "not value"
            value = name.split("=", 1)[1]
            if op == ">":
                equal[f] = value
            else:
                excluded.setdefault(f, []).append(value)
            continue
        lim = numeric.setdefault(f, [-math.inf, math.inf])
        if op == "<=":
            lim[1] = min(lim[1], thr)
        else:
            lim[0] = max(lim[0], thr)
    parts = []
    for f, (lo, hi) in numeric.items():
        if lo > -math.inf and hi < math.inf:
            parts.append(f"{lo:.4g} < {f} <= {hi:.4g}")
        elif lo > -math.inf:
            parts.append(f"{f} > {lo:.4g}")
        else:
            parts.append(f"{f} <= {hi:.4g}")
    parts += [f"{f} = {v}" for f, v in equal.items()]
    parts += [f"{f} not in {{{', '.join(v)}}}" for f, v in excluded.items() if f not in equal]
    return " and ".join(parts)


def feature_scores(
    x: pd.DataFrame, y: np.ndarray, roles: dict[str, str], *, seed: int = 0, trees: int = 250
) -> pd.DataFrame:
    """Which factors matter: extra-trees impurity importances (EMA's ``get_ex_feature_scores``).

    ``trees`` extremely randomised trees (``max_features = 0.6``, as EMA Workbench) are fit
    to the binary outcome; a factor's score is its mean decrease in impurity (summed over
    the one-hot columns of a categorical factor), scores sum to 1; ``sd`` is the spread of
    that score across the trees. Sorted by score, highest first.
    """
    from sklearn.ensemble import ExtraTreesClassifier

    enc, owner = _encode(x)
    model = ExtraTreesClassifier(
        n_estimators=trees, max_features=0.6, random_state=seed, n_jobs=1
    ).fit(enc.to_numpy(), y.astype(int))
    per_tree = np.array([t.feature_importances_ for t in model.estimators_])
    factors = list(dict.fromkeys(owner.values()))
    cols = {f: [j for j, c in enumerate(enc.columns) if owner[c] == f] for f in factors}
    agg = np.column_stack([per_tree[:, cols[f]].sum(axis=1) for f in factors])
    score = model.feature_importances_
    frame = pd.DataFrame({
        "factor": factors, "role": [roles.get(f, "factor") for f in factors],
        "score": [float(score[cols[f]].sum()) for f in factors],
        "sd": agg.std(axis=0, ddof=1),
    })  # fmt: skip
    return frame.sort_values("score", ascending=False).reset_index(drop=True)
