"""The ensemble engine's acts on the nations that act, gathered from ``(R, n)`` state.

Most submodels touch few nations in a month: a handful hold reserves, mine or sell, a
fifth have an IMF programme. On ``(R, n)`` arrays every elementwise operation costs
``R * n`` whatever the number that act, so the ensemble engine gathers the entries that
can change (:class:`Gathered`, a lazy copy of those entries of the state), runs the very
submodel function on them and writes them back. The functions are elementwise, so every
gathered entry gets exactly the bits the full arrays would give it; each ``*_active``
function below names the entries outside which the submodel is an exact no-op (it adds or
subtracts exact zeros, multiplies by exactly one, or writes the value already there), so
leaving them out changes no bit.

Parameters come along: an ``(R, 1)`` column is picked at each gathered entry's replicate
(:class:`~adoption_model.batching._Picked`), an ``(R, 1)`` world value likewise
(:func:`pick`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adoption_model.state import NationState

__all__ = [
    "Gathered",
    "buy_active",
    "mine_active",
    "pick",
    "programme_active",
    "sell_active",
]


class Gathered(NationState):
    """The entries ``idx`` of a flattened ``(R * n,)`` state, gathered field by field on
    first use; :meth:`scatter` writes every field used back (the state transitions and
    the submodels run on it unchanged)."""

    def __init__(self, flat: NationState, idx: np.ndarray) -> None:  # noqa: D107
        object.__setattr__(self, "_src", flat)
        object.__setattr__(self, "_idx", idx)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._src, name)[self._idx]
        self.__dict__[name] = value
        return value

    def scatter(self) -> None:
        """Write every field that was used back into the full state."""
        src, idx = self._src, self._idx
        for name, value in self.__dict__.items():
            if not name.startswith("_"):
                getattr(src, name)[idx] = value


def pick(value: Any, rows: np.ndarray) -> Any:
    """A world value or parameter at gathered entries: a plain value, or the ``(R, 1)``
    column at each entry's replicate (``rows``)."""
    return value[rows, 0] if np.ndim(value) else value


def buy_active(st: NationState) -> np.ndarray:
    """Where :func:`~adoption_model.submodels.reserve.buy` may change anything: reserve
    holders, dated programmes, and stale targets or budgets it would reset to 0."""
    return (
        st.reserve
        | (st.program_months_left > 0)
        | (st.target_share != 0.0)
        | (st.buy_usd_month != 0.0)
    )


def mine_active(st: NationState) -> np.ndarray:
    """Where :func:`~adoption_model.submodels.mining.mine` may change anything: miners,
    and loss counters it would reset to 0."""
    return st.mining | (st.negative_months != 0)


def sell_active(st: NationState) -> np.ndarray:
    """Where :func:`~adoption_model.submodels.reserve.sell` may change anything: seized-
    asset law sales, sale tranches, and miners without a reserve (they sell mined coins)."""
    return st.seized_sale | st.selling | (st.mining & ~st.reserve & ~st.no_sell)


def programme_active(st: NationState) -> np.ndarray:
    """Where :func:`~adoption_model.submodels.imf.review_programmes` and
    :func:`~adoption_model.submodels.imf.at_risk` may be non-trivial: a programme
    (conditionality) or financing in force."""
    return st.programme | st.imf_financing
