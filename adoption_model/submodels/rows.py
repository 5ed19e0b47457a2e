"""Row-wise reductions for arrays with a leading replicate axis, bit for bit as one run.

The ensemble engine (:mod:`adoption_model.ensemble`) holds the state of ``R`` replicates
as ``(R, n)`` arrays. A reduction over the nations of each replicate must give exactly the
float a single run computes on its ``(n,)`` array, or the replicates would drift from their
single runs in the last bit:

- a full row sum, ``x.sum(axis=-1)``, is what numpy computes for each row alone (its
  pairwise summation runs over each contiguous row), so it needs nothing special;
- a *masked* sum, ``x[mask].sum()`` in a single run, sums only the selected entries, and
  numpy's pairwise summation groups them by their count (sequentially below 8 values,
  in 8 interleaved partial sums up to 128, halving above). Summing ``where(mask, x, 0)``
  or ``np.add.reduceat`` over the selections groups them differently and rounds
  differently. :func:`masked_row_sums` reproduces the grouping: rows with at most 128
  selected non-negative values go through a vectorised copy of numpy's algorithm (zero
  padding adds exact zeros), other rows are gathered by count into ``(rows, count)``
  blocks that numpy sums row by row. A self-check at import falls back to the blocks if
  this numpy sums differently.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_BLOCK = 128  # numpy's PW_BLOCKSIZE: up to this many values, no halving


def _by_count(values: np.ndarray, counts: np.ndarray, starts: np.ndarray, rows: np.ndarray,
              out: np.ndarray) -> None:  # fmt: skip
    """Sum ``rows`` by gathering rows of equal count into blocks numpy sums per row."""
    sub = counts[rows]
    for k in np.unique(sub):
        if k == 0:
            continue
        which = rows[sub == k]
        if len(which) == 1:
            s = starts[which[0]]
            out[which[0]] = values[s : s + k].sum()
        else:
            out[which] = values[starts[which, None] + np.arange(k)].sum(axis=-1)


def _pairwise_small(values: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """numpy's pairwise sum of each row's ``counts[r] <= 128`` values, vectorised."""
    rows, most = len(counts), int(counts.max())
    width = max(16, -(-most // 8) * 8 + 8)
    padded = np.zeros((rows, width))
    owner = np.repeat(np.arange(rows), counts)
    col = np.arange(len(values)) - starts[owner]
    padded[owner, col] = values
    # fewer than 8 values: res = 0.0, then each value in turn (the padding adds +0.0 to
    # non-negative sums: no change, so the loop stops at the longest row)
    seq = np.zeros(rows)
    for j in range(min(most, 8)):
        seq += padded[:, j]
    if most < 8:
        return seq
    # 8..128 values: 8 interleaved partial sums over the first k - k % 8 values ...
    main = counts - counts % 8
    cols = np.arange(width)
    body = np.where(cols < main[:, None], padded, 0.0)
    r = body[:, 0:8].copy()
    for b in range(8, width - 8 + 1, 8):
        if b >= main.max():
            break
        r += body[:, b : b + 8]
    res = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + ((r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7]))
    # ... then the rest one by one
    ridx = main[:, None] + np.arange(7)
    rest = np.where(
        ridx < counts[:, None], padded[np.arange(rows)[:, None], np.minimum(ridx, width - 1)], 0.0
    )
    for j in range(7):
        res += rest[:, j]
    return np.where(counts < 8, seq, res)


def row_counts(mask: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
    """``np.count_nonzero(mask, axis=-1)`` as ``dtype``, summed in a narrow integer where
    rows are short (a bool's byte summed as uint16: about 2.5 times faster at the
    baseline's size, and exact below 65,536 entries a row)."""
    if mask.dtype == np.bool_ and mask.shape[-1] < 2**16:
        return mask.view(np.uint8).sum(axis=-1, dtype=np.uint16).astype(dtype)
    return np.count_nonzero(mask, axis=-1).astype(dtype)


def masked_row_sums(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``[x[r][mask[r]].sum() for r in rows]`` as a float array, bit for bit, vectorised.

    ``x`` is ``(R, n)`` or ``(n,)`` (the same values for every row); ``mask`` is ``(R, n)``.
    """
    counts = row_counts(mask)
    if not counts.any():
        return np.zeros(mask.shape[0])
    # row-major: row 0's picks, then row 1's
    return picked_row_sums(np.broadcast_to(x, mask.shape)[mask], counts)


def picked_row_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """:func:`masked_row_sums` of values already picked: ``values`` holds row 0's
    ``counts[0]`` values, then row 1's, and so on (as ``x[mask]`` orders them).

    For callers that compute the summed values at the selected entries only.
    """
    rows = len(counts)
    out = np.zeros(rows)
    if not len(values):
        return out
    starts = np.cumsum(counts) - counts
    small = counts <= _BLOCK
    if _EMULATE and small.any() and not np.signbit(values).any():
        if small.all():
            return _pairwise_small(values, counts, starts)
        some = np.where(small, counts, 0)
        picked = values[np.repeat(small, counts)]
        out = np.where(small, _pairwise_small(picked, some, np.cumsum(some) - some), 0.0)
        _by_count(values, counts, starts, np.flatnonzero(~small), out)
        return out
    _by_count(values, counts, starts, np.arange(rows), out)
    return out


def _self_check() -> bool:
    rng = np.random.default_rng(20250601)
    for n in (1, 5, 7, 8, 9, 15, 16, 17, 63, 64, 100, 127, 128):
        x = rng.lognormal(10.0, 4.0, size=(3, n))
        got = _pairwise_small(x.ravel(), np.full(3, n), np.arange(3) * n)
        if not np.array_equal(got, x.sum(axis=-1)):
            return False
    return True


_EMULATE = True
_EMULATE = _self_check()


class MaskedSumCache:
    """:func:`masked_row_sums` of one or more value arrays for masks that change in few
    rows a step.

    Keeps the last mask and sums; a call recomputes only the rows whose mask changed (the
    values must not change between calls, as GDP and population do not). A call with
    several value arrays returns one sums array for each.
    """

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None
        self.sums: list[np.ndarray] = []

    def __call__(self, *args: np.ndarray) -> Any:
        *xs, mask = args
        if self.mask is None or self.mask.shape != mask.shape or len(xs) != len(self.sums):
            self.sums = [masked_row_sums(x, mask) for x in xs]
        else:
            changed = np.flatnonzero((mask != self.mask).any(axis=-1))
            if len(changed):  # every array's changed rows in one call (each row alone)
                k, sub = len(changed), mask[changed]
                block = np.concatenate(
                    [np.broadcast_to(x[changed] if x.ndim > 1 else x, sub.shape) for x in xs]
                )
                sums = masked_row_sums(block, np.tile(sub, (len(xs), 1)))
                new = []
                for j, old in enumerate(self.sums):
                    old = old.copy()
                    old[changed] = sums[j * k : (j + 1) * k]
                    new.append(old)
                self.sums = new
        self.mask = mask.copy()
        return self.sums[0] if len(xs) == 1 else tuple(self.sums)
