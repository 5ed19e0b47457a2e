"""Row-wise reductions for arrays with a leading replicate axis, bit for bit as one run.

The ensemble engine (:mod:`adoption_model.ensemble`) holds the state of ``R`` replicates
as ``(R, n)`` arrays. A reduction over the nations of each replicate must give exactly the
float a single run computes on its ``(n,)`` array, or the replicates would drift from their
single runs in the last bit:

- a full row sum, ``x.sum(axis=-1)``, is what numpy computes for each row alone (its
  pairwise summation runs over each contiguous row), so it needs nothing special;
- a *masked* sum, ``x[mask].sum()`` in a single run, sums only the selected entries, and
  pairwise summation groups them by their count. Summing ``where(mask, x, 0)`` or
  ``np.add.reduceat`` over the selections would group them differently (and round
  differently). :func:`masked_row_sums` gathers the selected entries of all rows with the
  same count into one ``(rows, count)`` block and sums it along its rows: one numpy call
  per distinct count, each row summed exactly as the single run sums it.
"""

from __future__ import annotations

import numpy as np


def masked_row_sums(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``[x[r][mask[r]].sum() for r in rows]`` as a float array, bit for bit, vectorised.

    ``x`` is ``(R, n)`` or ``(n,)`` (the same values for every row); ``mask`` is ``(R, n)``.
    """
    rows = mask.shape[0]
    out = np.zeros(rows)
    counts = np.count_nonzero(mask, axis=-1)
    if not counts.any():
        return out
    values = np.broadcast_to(x, mask.shape)[mask]  # row-major: row 0's picks, then row 1's
    starts = np.cumsum(counts) - counts
    for k in np.unique(counts):
        if k == 0:
            continue
        which = np.flatnonzero(counts == k)
        if len(which) == 1:
            s = starts[which[0]]
            out[which[0]] = values[s : s + k].sum()
        else:
            out[which] = values[starts[which, None] + np.arange(k)].sum(axis=-1)
    return out
