"""Scores of probabilistic forecasts of binary events (who adopts, mines or sells).

Every function takes forecast probabilities ``p`` and outcomes ``y`` (0/1) of equal length.
Probabilities are clipped to ``[EPS, 1 - EPS]`` for the log score, so that a forecast of 0
for an event that happened costs ``log(EPS)`` rather than minus infinity (the same floor
for every model compared).

References
----------
Gneiting, T. and Raftery, A. E. (2007), "Strictly proper scoring rules, prediction and
estimation", JASA 102(477), 359-378 (log and Brier scores).
Brier, G. W. (1950), "Verification of forecasts expressed in terms of probability",
Monthly Weather Review 78(1), 1-3.
Hanley, J. A. and McNeil, B. J. (1982), "The meaning and use of the area under a receiver
operating characteristic (ROC) curve", Radiology 143(1), 29-36.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

#: Floor (and 1 - ceiling) of probabilities in the log score.
EPS = 1e-3


def _check(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, y = np.asarray(p, float), np.asarray(y, float)
    if p.shape != y.shape:
        raise ValueError(f"p has shape {p.shape} but y has {y.shape}")
    return p, y


def log_score(p: np.ndarray, y: np.ndarray, eps: float = EPS) -> float:
    """Mean log probability of what happened (higher is better; 0 is perfect).

    Examples
    --------
    >>> round(log_score([0.5, 0.5], [1, 0]), 6) == round(math.log(0.5), 6)
    True
    """
    p, y = _check(p, y)
    q = np.clip(p, eps, 1.0 - eps)
    return float(np.mean(y * np.log(q) + (1.0 - y) * np.log1p(-q)))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of the probabilities (lower is better; 0 is perfect).

    Examples
    --------
    >>> brier([1.0, 0.0, 0.5], [1, 0, 1])
    0.08333333333333333
    """
    p, y = _check(p, y)
    return float(np.mean((p - y) ** 2))


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve: the chance an event nation is ranked above a non-event one
    (ties count one half); NaN without events or without non-events.

    Examples
    --------
    >>> auc([0.9, 0.1, 0.5, 0.5], [1, 0, 1, 0])
    0.875
    """
    p, y = _check(p, y)
    pos, neg = int(y.sum()), int((1 - y).sum())
    if pos == 0 or neg == 0:
        return math.nan
    ranks = rankdata(p)  # average ranks for ties (the Mann-Whitney statistic)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def event_ranks(p: np.ndarray, y: np.ndarray) -> list[float]:
    """Rank of each event among all nations by forecast probability (1 = highest; ties
    share their mean rank), in the order the events appear.

    Examples
    --------
    >>> event_ranks([0.2, 0.9, 0.2, 0.1], [1, 0, 0, 0])
    [2.5]
    """
    p, y = _check(p, y)
    ranks = rankdata(-p)
    return [float(r) for r in ranks[y == 1]]
