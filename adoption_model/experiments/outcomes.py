"""Outcomes: named reducers over a run's per-step model frame.

An outcome is written as a small call over a column of
:attr:`adoption_model.runner.RunResult.model_frame`:

=====================================  ================================================
``final(col)``                         value at the horizon (last step)
``initial(col)``                       value at step 0
``max(col)`` / ``min(col)``            extreme over the run
``mean(col)`` / ``sum(col)``           mean or sum over steps 1..horizon
``at(col, step)``                      value at a step (the last value if the run stopped)
``peak_change(col)``                   largest one-step increase (peak adoption rate)
``time_to(col, level)``                first step with ``col >= level`` (NaN if never)
``first_step(col)``                    first step > 0 with ``col > 0`` (NaN if never),
                                       e.g. ``first_step(n_new_adopters)``: first new adopter
=====================================  ================================================

Every reducer returns a float (NaN when undefined), so ``runs.parquet`` has one float
column per outcome.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from adoption_model.errors import InputError, did_you_mean
from adoption_model.record import time_to

#: The outcomes recorded when an experiment file names none.
DEFAULT_OUTCOMES: dict[str, str] = {
    "final_adoption_share": "final(adoption_share)",
    "time_to_50pct": "time_to(adoption_share, 0.5)",
    "peak_adoption_rate": "peak_change(adoption_share)",
    "btc_sovereign_end": "final(btc_sovereign)",
    "miners_end": "final(n_miners)",
    "first_new_adopter_step": "first_step(n_new_adopters)",
}

#: Columns of the model frame an outcome may reduce.
MODEL_COLUMNS = (
    "n_adopters", "adoption_share", "gdp_weighted_share", "population_weighted_share",
    "n_reserve", "n_miners", "mining_mw", "n_sold_out", "n_new_adopters", "btc_sovereign",
    "btc_bought", "btc_mined", "btc_sold", "supply_btc", "supply_share", "btc_price",
    "subsidy_btc", "network_hashrate_ehs", "imf_stance", "imf_detections", "fx_reserves_usd",
)  # fmt: skip


def _final(s: pd.Series) -> float:
    return float(s.iloc[-1])


def _initial(s: pd.Series) -> float:
    return float(s.iloc[0])


def _max(s: pd.Series) -> float:
    return float(s.max())


def _min(s: pd.Series) -> float:
    return float(s.min())


def _mean(s: pd.Series) -> float:
    return float(s.iloc[1:].mean()) if len(s) > 1 else math.nan


def _sum(s: pd.Series) -> float:
    return float(s.iloc[1:].sum())


def _at(s: pd.Series, step: float) -> float:
    i = int(step)
    return float(s.iloc[min(i, len(s) - 1)]) if i >= 0 else math.nan


def _peak_change(s: pd.Series) -> float:
    return float(np.diff(s.to_numpy(dtype=float)).max()) if len(s) > 1 else 0.0


def _first_step(s: pd.Series) -> float:
    hit = np.flatnonzero(s.to_numpy(dtype=float)[1:] > 0)
    return float(hit[0] + 1) if len(hit) else math.nan


#: reducer name -> (function, number of numeric arguments after the column)
REDUCERS: dict[str, tuple[Callable[..., float], int]] = {
    "final": (_final, 0),
    "initial": (_initial, 0),
    "max": (_max, 0),
    "min": (_min, 0),
    "mean": (_mean, 0),
    "sum": (_sum, 0),
    "at": (_at, 1),
    "peak_change": (_peak_change, 0),
    "time_to": (time_to, 1),
    "first_step": (_first_step, 0),
}

#: Longest outcome expression accepted (a call such as ``time_to(adoption_share, 0.5)``).
MAX_OUTCOME_CHARS = 200
#: Largest step ``at(col, step)`` may name (the longest run a scenario allows).
MAX_STEP = 100_000
_EXAMPLE = "write it like final(adoption_share) or time_to(adoption_share, 0.5)"


def _number(node: ast.expr, text: str) -> float:
    """A numeric literal (optionally signed); anything else is refused."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if not (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        raise InputError(f"{text!r}: arguments after the column must be numbers; {_EXAMPLE}")
    value = sign * float(node.value)
    if not math.isfinite(value):
        raise InputError(f"{text!r}: {value} is not a finite number")
    return value


def parse_outcome(text: str) -> tuple[str, str, tuple[float, ...]]:
    """Parse ``"time_to(adoption_share, 0.5)"`` into ``("time_to", "adoption_share", (0.5,))``.

    The text is parsed by Python's own expression grammar (:func:`ast.parse`, nothing is
    evaluated) and must be exactly one call ``reducer(column[, number])``.

    Raises
    ------
    InputError
        If the text is not such a call, the reducer or column is unknown, or the arguments
        do not fit (a non-finite number, a step that is not a whole number in range).
    """
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a string; {_EXAMPLE}")
    if len(text) > MAX_OUTCOME_CHARS:
        raise InputError(f"{text[:40]!r}...: longer than {MAX_OUTCOME_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InputError(f"{text!r} is not a reducer call; {_EXAMPLE}") from None
    if (
        not isinstance(tree, ast.Call)
        or not isinstance(tree.func, ast.Name)
        or tree.keywords
        or not tree.args
        or not isinstance(tree.args[0], ast.Name)
    ):
        raise InputError(f"{text!r} is not a reducer call; {_EXAMPLE}")
    name, column = tree.func.id, tree.args[0].id
    if name not in REDUCERS:
        hint = did_you_mean(name, REDUCERS)
        raise InputError(f"unknown reducer {name!r}{hint or '; use one of ' + ', '.join(REDUCERS)}")
    if column not in MODEL_COLUMNS:
        hint = did_you_mean(column, MODEL_COLUMNS)
        raise InputError(f"unknown column {column!r}{hint or '; see docs/experiments.md'}")
    nargs = REDUCERS[name][1]
    if len(tree.args) - 1 != nargs:
        raise InputError(f"{name}() takes a column and {nargs} number(s); got {text!r}")
    args = tuple(_number(a, text) for a in tree.args[1:])
    if name == "at" and not (args[0].is_integer() and 0 <= args[0] <= MAX_STEP):
        raise InputError(f"{text!r}: the step must be a whole number in [0, {MAX_STEP}]")
    return name, column, args


def evaluate_outcomes(outcomes: dict[str, str], model_frame: pd.DataFrame) -> dict[str, float]:
    """Reduce one run's model frame to ``{outcome name: float}``.

    Examples
    --------
    >>> frame = pd.DataFrame({"adoption_share": [0.0, 0.2, 0.6, 0.7]})
    >>> evaluate_outcomes({"t50": "time_to(adoption_share, 0.5)"}, frame)
    {'t50': 2.0}
    """
    out: dict[str, float] = {}
    for key, text in outcomes.items():
        name, column, args = parse_outcome(text)
        out[key] = REDUCERS[name][0](model_frame[column], *args)
    return out
