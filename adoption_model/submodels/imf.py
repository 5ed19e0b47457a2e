"""IMF pressure and audits of programme countries (docs/ODD.md section 7.5).

The IMF's stance ``s`` in [0, 1] is a scenario parameter that events can change. A nation's
exposure grows with its IMF credit outstanding (share of quota), reaching 1 at
``imf.exposure_full_at_pct_quota``; nations with an active programme have at least
``imf.programme_floor``. The pressure it feels in its utilities is ``s * exposure``.

Each month, a programme country that accumulated BTC (bought or mined) is detected with
probability ``imf.detection_probability * s``; a detection withholds a tranche (FX reserves
fall by ``imf.tranche_share_of_reserves``) and freezes purchases for ``imf.freeze_months``.
This follows the El Salvador 2024-25 Extended Fund Facility, whose reviews required the
government's BTC holdings to "remain unchanged" (IMF press release 24/485 and the 2025
review documents; compliance was partial, which the detection probability represents).

Both engines, side by side: :func:`audit` (vectorised) and :func:`audit_one` (the scalar
reference a ``Nation`` agent runs for itself), with the same uniform per nation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adoption_model.state import NationState


def exposure(
    credit_pct_quota: np.ndarray, programme: np.ndarray, full_at_pct: float, floor: float
) -> np.ndarray:
    """Exposure in [0, 1] from credit outstanding (% of quota) and programme status."""
    base = np.minimum(credit_pct_quota / full_at_pct, 1.0)
    return np.where(programme, np.maximum(base, floor), base)


def detection_probability(stance: float, base_probability: float) -> float:
    """Monthly chance that an audit catches a programme country accumulating BTC."""
    return base_probability * stance


def audit(
    st: NationState,
    u: np.ndarray,
    p_detect: float,
    t: int,
    tranche_share: float,
    freeze_months: int,
) -> None:
    """Audit every programme country that accumulated this month, with uniforms ``u``."""
    caught = st.programme & ((st.bought + st.mined) > 0) & (u < p_detect)
    st.detected |= caught
    st.reserves_usd -= np.where(caught, st.reserves_usd * tranche_share, 0.0)
    until = t + 1 + freeze_months
    if np.ndim(until):  # one freeze length per replicate, (R, 1): pick each caught row's
        until = np.broadcast_to(until, caught.shape)[caught]
    st.freeze_purchases(caught, until)


def audit_one(
    nation: Any, u: float, p_detect: float, t: int, tranche_share: float, freeze_months: int
) -> None:
    """Scalar reference of :func:`audit` for one ``Nation`` agent."""
    accumulated = nation.bought + nation.mined > 0
    if nation.programme and accumulated and u < p_detect:
        nation.detected = True
        nation.reserves_usd = nation.reserves_usd - nation.reserves_usd * tranche_share
        nation.freeze_purchases(t + 1 + freeze_months)
