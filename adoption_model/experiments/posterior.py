"""Parameter uncertainty from the posterior: each run draws its coefficients from a sample.

With ``posterior = "shipped"`` (or the path of a posterior Parquet written by
``adoption-model calibrate``) in an experiment, every run draws one row of the sample and
runs with those decision-rule coefficients (``rule.coef.*``), so the spread of the runs shows
parameter uncertainty as well as stochastic noise. The row depends only on the run's seed
(:func:`draw_index`), so runs are reproducible and replicate ``r`` draws the same row in
every scenario of a comparison (the differences stay paired).

A coefficient the scenario sets to a value other than the baseline's keeps that value (a
scenario such as ``contagion_off`` that switches the peer terms off stays off), and a design
factor on a coefficient overrides the draw.

The shipped sample is ``adoption_model/data/posterior.parquet`` (see docs/calibration.md).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.data import DATA_DIR
from adoption_model.errors import InputError
from adoption_model.scenario import LogitCoefficients

#: The posterior sample shipped with the package.
SHIPPED_POSTERIOR = DATA_DIR / "posterior.parquet"
#: Mixed into the run seed so the draw is independent of the run's own random stream.
_STREAM = 0x5EED_C0EF


def posterior_path(spec: str | Path | None) -> Path | None:
    """``"shipped"`` -> the bundled sample; a path -> itself; None/"" -> None."""
    if spec is None or str(spec) == "":
        return None
    if str(spec) == "shipped":
        return SHIPPED_POSTERIOR
    return Path(spec)


@lru_cache(maxsize=4)
def load_sample(path: str) -> pd.DataFrame:
    """The coefficient columns of a posterior sample (one row per draw)."""
    names = list(LogitCoefficients.model_fields)
    if Path(path) == SHIPPED_POSTERIOR:  # the package's own sample: checked, as all data
        from adoption_model.data import verify

        verify(SHIPPED_POSTERIOR)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: unreadable posterior sample ({exc}); write one with adoption-model "
            "calibrate or use posterior = 'shipped'"
        ) from None
    present = [n for n in names if n in frame.columns]
    if not present or frame.empty:
        what = f"no coefficient column such as {names[0]!r}" if not present else "no rows"
        raise InputError(f"{path}: not a posterior sample ({what}); see docs/calibration.md")
    # a coefficient the sample does not hold (added to the model after it was drawn) keeps
    # the scenario's value
    return frame[present].astype(float)


def draw_index(seed: int, n: int) -> int:
    """The sample row a run with ``seed`` uses (reproducible, independent of its stream).

    Examples
    --------
    >>> draw_index(7, 100) == draw_index(7, 100)
    True
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) % 2**63, _STREAM]))
    return int(rng.integers(n))


def posterior_overrides(
    spec: str | Path, seed: int, base: dict[str, Any] | None = None
) -> dict[str, float]:
    """``rule.coef.*`` overrides for the run with ``seed``.

    Coefficients the ``base`` scenario dict sets to a value other than the baseline's are
    left out (the scenario's own assumption wins).
    """
    path = posterior_path(spec)
    if path is None:
        return {}
    sample = load_sample(str(path))
    row = sample.iloc[draw_index(seed, len(sample))]
    default = LogitCoefficients()
    given = ((base or {}).get("rule") or {}).get("coef") or {}
    out = {}
    for name in sample.columns:
        if name in given and float(given[name]) != float(getattr(default, name)):
            continue
        out[f"rule.coef.{name}"] = float(row[name])
    return out
