"""Designs: which points of the factor space are run, and with which seeds.

Every design is first drawn in the unit hypercube (one column per factor, values in
[0, 1]) and then mapped to each factor's values: ranges through the inverse CDF of their
distribution, lists of values by index (``floor(u * k)``). Samplers: ``itertools.product``
(full factorial), :class:`scipy.stats.qmc.LatinHypercube`, SALib's Saltelli/Sobol' and
Morris samplers. Replicate ``r`` of every point runs with seed
``replicate_seeds(experiment_seed, replications)[r]`` (common random numbers).

Everything here works on plain factors and returns pandas DataFrames, so a design can be
drawn without running anything::

    >>> from adoption_model.experiments.spec import Factor, DesignConfig
    >>> pts = design_points({"x": Factor(low=0, high=1, levels=3)}, DesignConfig(), seed=1)
    >>> pts["x"].tolist()
    [0.0, 0.5, 1.0]

References
----------
McKay, M. D., Beckman, R. J. and Conover, W. J. (1979), "A comparison of three methods for
selecting values of input variables in the analysis of output from a computer code",
Technometrics 21(2), 239-245.
Saltelli, A. (2002), "Making best use of model evaluations to compute sensitivity indices",
Computer Physics Communications 145(2), 280-297.
Morris, M. D. (1991), "Factorial sampling plans for preliminary computational experiments",
Technometrics 33(2), 161-174.
Herman, J. and Usher, W. (2017), "SALib: An open-source Python library for sensitivity
analysis", Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from adoption_model.experiments.spec import DesignConfig, Experiment, Factor
from adoption_model.seeds import replicate_seeds


def salib_problem(factors: dict[str, Factor]) -> dict[str, Any]:
    """SALib's problem dict over the unit hypercube (factors are mapped afterwards)."""
    return {
        "num_vars": len(factors),
        "names": list(factors),
        "bounds": [[0.0, 1.0]] * len(factors),
    }


def unit_sample(factors: dict[str, Factor], design: DesignConfig, seed: int) -> np.ndarray:
    """The design in the unit hypercube, shape ``(points, factors)``.

    Not used for ``full_factorial`` and ``points`` designs (see :func:`design_points`).
    """
    d = len(factors)
    if design.kind == "latin_hypercube":
        return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(design.samples)
    if design.kind == "sobol":
        from SALib.sample import sobol

        n = design.samples
        if n & (n - 1):
            warnings.warn(
                f"design.samples = {n} is not a power of two; Sobol' sequences lose their "
                f"balance properties (use {1 << max(0, n.bit_length() - 1)} or "
                f"{1 << n.bit_length()})",
                UserWarning,
                stacklevel=2,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # we warned above, once
            return sobol.sample(
                salib_problem(factors), n, calc_second_order=design.second_order, seed=seed
            )
    if design.kind == "morris":
        from SALib.sample import morris

        return morris.sample(
            salib_problem(factors), design.samples, num_levels=design.levels, seed=seed
        )
    raise ValueError(f"unit_sample does not apply to {design.kind!r} designs")


def map_unit(factor: Factor, u: np.ndarray) -> list[Any]:
    """Map unit-interval draws to a factor's values (inverse CDF, or index into values)."""
    u = np.asarray(u, dtype=float)
    if factor.values is not None:
        k = len(factor.values)
        idx = np.minimum((u * k).astype(int), k - 1)
        return [factor.values[i] for i in idx]
    if factor.distribution == "normal":
        x = stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12), loc=factor.mean, scale=factor.sd)
        if factor.low is not None or factor.high is not None:
            x = np.clip(x, factor.low if factor.low is not None else -np.inf,
                        factor.high if factor.high is not None else np.inf)  # fmt: skip
    elif factor.distribution == "triangular":
        width = factor.high - factor.low
        c = (factor.mode - factor.low) / width
        x = stats.triang.ppf(u, c, loc=factor.low, scale=width)
    else:
        x = factor.low + u * (factor.high - factor.low)
    if factor.integer:
        return [int(round(v)) for v in x]
    return [float(v) for v in x]


def grid_values(factor: Factor) -> list[Any]:
    """The values a factor contributes to a full-factorial design."""
    if factor.values is not None:
        return list(factor.values)
    if factor.distribution == "normal" and (factor.low is None or factor.high is None):
        u = (np.arange(factor.levels) + 0.5) / factor.levels
        return map_unit(factor, u)
    return map_unit(factor, np.linspace(0.0, 1.0, factor.levels))


def factor_probe_values(factor: Factor) -> list[Any]:
    """A few values that exercise a factor's extremes (used to validate experiment files)."""
    if factor.values is not None:
        return list(factor.values)
    return [grid_values(factor)[0], grid_values(factor)[-1]]


def design_points(factors: dict[str, Factor], design: DesignConfig, seed: int) -> pd.DataFrame:
    """The design points: one row per point (index ``point``), one column per factor.

    Counts: ``full_factorial`` = product of the factors' value counts; ``latin_hypercube``
    = ``samples``; ``sobol`` = N*(D+2), or N*(2D+2) with ``second_order``; ``morris`` =
    ``samples`` * (D+1); ``points`` = the explicit list.
    """
    if design.kind == "points":
        frame = pd.DataFrame(design.points)
    elif design.kind == "full_factorial" and not factors:
        frame = pd.DataFrame(index=range(1))  # nothing varies: one point, the base itself
    elif design.kind == "full_factorial":
        rows = list(itertools.product(*(grid_values(f) for f in factors.values())))
        frame = pd.DataFrame(rows, columns=list(factors))
    else:
        unit = unit_sample(factors, design, seed)
        frame = pd.DataFrame(
            {k: map_unit(f, unit[:, j]) for j, (k, f) in enumerate(factors.items())}
        )
    frame.index = pd.RangeIndex(len(frame), name="point")
    return frame


def run_table(experiment: Experiment) -> pd.DataFrame:
    """Every run of an experiment: run_id, point, replicate, seed and the factor values.

    ``run_id = point * replications + replicate``; replicate ``r`` has the same seed at
    every point (common random numbers). An experiment with several base ``scenarios``
    crosses them with the design: a ``scenario`` column (index into ``scenarios``) comes
    first and ``run_id = (scenario * points + point) * replications + replicate``, with the
    same replicate seeds for every scenario.

    Seeds are int64 (63-bit values from :func:`replicate_seeds`, exact); read them by
    column (``table["seed"]``), not through a row of mixed dtypes, which pandas would turn
    into float64 and round to 53 bits.
    """
    points = design_points(experiment.factors, experiment.design, experiment.seed)
    reps = experiment.replications
    seeds = np.array(replicate_seeds(experiment.seed, reps), dtype=np.int64)
    n = len(points)
    k = max(1, len(experiment.scenarios))
    table = pd.DataFrame(
        {
            "run_id": np.arange(k * n * reps, dtype=np.int64),
            "scenario": np.repeat(np.arange(k, dtype=np.int64), n * reps),
            "point": np.tile(np.repeat(np.arange(n, dtype=np.int64), reps), k),
            "replicate": np.tile(np.arange(reps, dtype=np.int64), k * n),
            "seed": np.tile(seeds, k * n),
        }
    )
    if not experiment.scenarios:
        table = table.drop(columns="scenario")
    values = points.loc[table["point"]].reset_index(drop=True)
    return pd.concat([table, values], axis=1)


def is_power_of_two(n: int) -> bool:
    """True for 1, 2, 4, 8, ..."""
    return n > 0 and not n & (n - 1) and math.log2(n).is_integer()
