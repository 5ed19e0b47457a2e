"""Intervals across replications: one module for compare, sweep analysis and what follows.

Which interval a number gets depends on what the outcome is, not on the data:

``t``          Student-t interval of the mean, for unbounded, roughly normal outcomes
               (Law 2015, section 9.4).
``wilson``     Wilson score interval of a share of runs (a binary outcome: reached 25%
               adoption or not), from :func:`scipy.stats.binomtest` (Wilson 1927; Newcombe
               1998 recommends it over the Wald interval, which collapses at 0 and 1).
``bootstrap``  percentile bootstrap of the mean, for bounded or skewed outcomes (adoption
               shares in [0, 1], counts of nations, MW, BTC, months): every resampled mean
               lies between the smallest and largest value observed, so the interval never
               leaves the outcome's range (Efron and Tibshirani 1993, chapter 13), from
               :func:`scipy.stats.bootstrap` with a numpy Generator, so it is reproducible.

Each interval function returns an :class:`Interval`; :func:`interval` picks the method by
name, and :func:`method_for` names the method for an outcome of known range. Tables that
print intervals carry a column ``interval`` with the method of each row.

References
----------
Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., McGraw-Hill, section 9.4.
Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical
inference", Journal of the American Statistical Association 22(158), 209-212.
Newcombe, R. G. (1998), "Two-sided confidence intervals for the single proportion:
comparison of seven methods", Statistics in Medicine 17(8), 857-872.
Efron, B. and Tibshirani, R. J. (1993), An Introduction to the Bootstrap, Chapman & Hall.
"""

from __future__ import annotations

import math
import zlib
from typing import NamedTuple

import numpy as np
from scipy import stats

METHODS = ("t", "wilson", "bootstrap")

#: Resamples of the percentile bootstrap (Efron and Tibshirani 1993 suggest 1,000 or more
#: for percentile intervals).
BOOTSTRAP_RESAMPLES = 2000


class Interval(NamedTuple):
    """A mean (or share) with its interval: ``n`` values, ``sd`` of the values."""

    n: int
    mean: float
    sd: float
    low: float
    high: float
    method: str

    @property
    def halfwidth(self) -> float:
        """Half the interval's width (NaN without an interval)."""
        return (self.high - self.low) / 2


def _clean(values: np.ndarray | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def _moments(x: np.ndarray) -> tuple[int, float, float]:
    n = len(x)
    mean = float(np.mean(x)) if n else math.nan
    sd = float(np.std(x, ddof=1)) if n > 1 else math.nan
    return n, mean, sd


def t_interval(values: np.ndarray | list[float], level: float = 0.95) -> Interval:
    """The Student-t interval of the mean; NaN values dropped, NaN with fewer than two.

    An all-equal sample has ``sd = 0`` and the interval collapses onto the mean.

    Examples
    --------
    >>> iv = t_interval([1.0, 2.0, 3.0])
    >>> round(iv.low, 4), round(iv.high, 4)
    (-0.4841, 4.4841)
    """
    x = _clean(values)
    n, mean, sd = _moments(x)
    if n < 2:
        return Interval(n, mean, sd, math.nan, math.nan, "t")
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(n, mean, sd, mean - half, mean + half, "t")


def wilson_interval(values: np.ndarray | list[float], level: float = 0.95) -> Interval:
    """The Wilson score interval of the share of ones among 0/1 values (NaN dropped).

    Inside [0, 1] always, and not empty at 0% or 100% (0 of 20 runs gives [0%, 16.1%]).

    Examples
    --------
    >>> iv = wilson_interval([0.0] * 20)
    >>> iv.mean, iv.low, round(iv.high, 4)
    (0.0, 0.0, 0.1611)
    """
    x = _clean(values)
    n, mean, sd = _moments(x)
    if not np.isin(x, (0.0, 1.0)).all():
        raise ValueError("wilson_interval needs 0/1 values (a share of runs)")
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, math.nan, "wilson")
    ci = stats.binomtest(int(x.sum()), n).proportion_ci(confidence_level=level, method="wilson")
    low, high = max(0.0, float(ci.low)), min(1.0, float(ci.high))
    return Interval(n, mean, sd, low, high, "wilson")


def bootstrap_interval(
    values: np.ndarray | list[float],
    rng: np.random.Generator,
    level: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Interval:
    """The percentile-bootstrap interval of the mean (NaN values dropped).

    The interval lies within ``[min(values), max(values)]``, hence within any range the
    outcome has. An all-equal sample gives the point itself; fewer than two values, NaN.
    """
    x = _clean(values)
    n, mean, sd = _moments(x)
    if n < 2:
        return Interval(n, mean, sd, math.nan, math.nan, "bootstrap")
    if np.all(x == x[0]):
        return Interval(n, mean, sd, float(x[0]), float(x[0]), "bootstrap")
    res = stats.bootstrap(
        (x,), np.mean, confidence_level=level, n_resamples=resamples,
        method="percentile", vectorized=True, rng=rng,
    )  # fmt: skip
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    # percentiles of resampled means never leave [min, max]; clip float round-off only
    return Interval(n, mean, sd, max(low, float(x.min())), min(high, float(x.max())), "bootstrap")


def bootstrap_rows(
    matrix: np.ndarray,
    rng: np.random.Generator,
    level: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap intervals of the mean of each row of a NaN-free matrix at once.

    The vectorised form of :func:`bootstrap_interval` for many design points with the same
    number of replicates (one :func:`scipy.stats.bootstrap` call along the last axis).
    Returns ``(low, high)`` arrays, each within its row's ``[min, max]``.
    """
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2 or np.isnan(x).any():
        raise ValueError("bootstrap_rows needs a NaN-free matrix with at least two columns")
    res = stats.bootstrap(
        (x,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
        vectorized=True, axis=-1, rng=rng,
    )  # fmt: skip
    low = np.clip(res.confidence_interval.low, x.min(axis=1), x.max(axis=1))
    high = np.clip(res.confidence_interval.high, x.min(axis=1), x.max(axis=1))
    return low, high


def interval(
    values: np.ndarray | list[float],
    method: str,
    *,
    rng: np.random.Generator | None = None,
    level: float = 0.95,
) -> Interval:
    """The interval named ``method`` (one of :data:`METHODS`); bootstrap needs ``rng``."""
    if method == "t":
        return t_interval(values, level)
    if method == "wilson":
        return wilson_interval(values, level)
    if method == "bootstrap":
        if rng is None:
            raise ValueError("the bootstrap interval needs a numpy Generator (rng)")
        return bootstrap_interval(values, rng, level)
    raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")


def method_for(*, binary: bool = False, bounded: bool = False) -> str:
    """The interval for an outcome: Wilson for 0/1, bootstrap for bounded or skewed, else t."""
    if binary:
        return "wilson"
    return "bootstrap" if bounded else "t"


def row_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A Generator for one table row, from the analysis seed and the row's keys.

    The same seed and keys give the same draws whatever order rows are computed in, so a
    bootstrap interval can be recomputed from the stored runs alone.
    """
    words = [int(seed)] + [k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


def quantiles(
    values: np.ndarray | list[float], probs: tuple[float, ...] = (0.025, 0.5, 0.975)
) -> tuple[float, ...]:
    """Quantiles of the values (NaN dropped; NaN when none are left)."""
    x = _clean(values)
    if not len(x):
        return tuple(math.nan for _ in probs)
    return tuple(float(v) for v in np.quantile(x, probs))
