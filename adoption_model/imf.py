"""IMF pressure and audits of programme countries.

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
"""

from __future__ import annotations

import numpy as np


def exposure(
    credit_pct_quota: np.ndarray, programme: np.ndarray, full_at_pct: float, floor: float
) -> np.ndarray:
    """Exposure in [0, 1] from credit outstanding (% of quota) and programme status."""
    base = np.minimum(credit_pct_quota / full_at_pct, 1.0)
    return np.where(programme, np.maximum(base, floor), base)


def detection_probability(stance: float, base_probability: float) -> float:
    """Monthly chance that an audit catches a programme country accumulating BTC."""
    return base_probability * stance
