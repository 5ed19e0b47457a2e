"""The IMF: programmes, reviews, withheld tranches and new arrangements (docs/ODD.md 7.5).

**Programmes.** A nation's IMF programme is a *financing* arrangement (EFF, ECF, SBA,
blends; PLL) with a start and end month and an amount still to disburse, from the staged
history (the IMF Quarterly Report on IMF Finances of 31 January 2024 and the curated
updates after it; ``tools/build_data.py``). Non-financing instruments (PCI/PSI, Paraguay's)
carry no money and no disbursement reviews, so they are not programmes here. Undisbursed
money comes in equal tranches at reviews every ``imf.review_months`` (6: most EFF/ECF
arrangements are reviewed semi-annually).

**Reviews.** At each review the IMF checks whether the nation accumulated BTC since the
previous one: purchases *and* mining count (El Salvador's 2025 EFF requires the
public-sector holdings to stay unchanged; IMF press release 24/485 and the 2025 review
documents). Accumulation is detected with probability ``imf.detection_probability *
stance``; a failed review withholds that review's tranche (FX reserves, held at their
start level on the assumption that scheduled financing arrives, fall by it). A nation's
losses are therefore bounded by what its programme still has to disburse. After
``imf.suspend_after_failures`` consecutive failed reviews the programme goes off track:
its conditionality no longer binds and its remaining tranches are withheld as they fall
due. A programme ends at its end month.

**New programmes.** Each month an IMF member with credit outstanding and no financing
programme starts one with the monthly hazard ``1 - (1 - imf.new_programme_rate)^(1/12)``;
the annual rate (0.237), the size (``imf.new_programme_pct_quota``, 190% of quota) and the
length (``imf.new_programme_months``, 38) are the QFR's (data/imf_programmes.toml).

**Compliance is the nation's choice, with a cost.** Nothing forbids a programme country to
buy or mine. Its utilities of the accumulating options carry the IMF pressure
``stance * exposure + at_risk``: exposure from credit outstanding and programme status as
before, and ``at_risk``, the expected tranche withheld at the next review if it
accumulates (``p_detect * tranche``) as a share of its FX reserves, capped at 1.

Both engines, side by side: :func:`review` (vectorised, broadcasting over a leading
replicate axis) and :func:`review_one` (the scalar reference a ``Nation`` agent runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adoption_model.scenario import ImfConfig
    from adoption_model.state import NationState


def exposure(
    credit_pct_quota: np.ndarray, programme: np.ndarray, full_at_pct: float, floor: float
) -> np.ndarray:
    """Exposure in [0, 1] from credit outstanding (% of quota) and programme status."""
    base = np.minimum(credit_pct_quota / full_at_pct, 1.0)
    return np.where(programme, np.maximum(base, floor), base)


def detection_probability(stance: float, base_probability: float) -> float:
    """Chance that a review detects accumulation since the previous review."""
    return base_probability * stance


def monthly_hazard(annual_rate: float) -> float:
    """The monthly probability with the same one-year survival as ``annual_rate``.

    An ``(R, 1)`` column of rates (the ensemble engine) is computed rate by rate with
    Python's ``pow``, as a single run computes its one rate.
    """
    if np.ndim(annual_rate):
        rates = np.asarray(annual_rate, dtype=float)
        return np.array([monthly_hazard(float(r)) for r in rates.ravel()]).reshape(rates.shape)
    return 1.0 - (1.0 - annual_rate) ** (1.0 / 12.0)


def reviews_left(next_review: np.ndarray, end: np.ndarray, review_months: int) -> np.ndarray:
    """Reviews from the next one to the end month, inclusive (0 when none is left)."""
    return np.where(next_review <= end, (end - next_review) // review_months + 1, 0)


def next_tranche(st: NationState, review_months: int) -> np.ndarray:
    """The tranche due at each nation's next review (0 without a financing programme)."""
    left = reviews_left(st.imf_next_review, st.imf_end, review_months)
    ok = st.imf_financing & (left > 0)
    return np.where(ok, st.imf_undisbursed_usd / np.where(ok, left, 1), 0.0)


def at_risk(st: NationState, p_detect: float, review_months: int) -> np.ndarray:
    """Expected tranche withheld at the next review if a nation accumulates, as a share
    of its FX reserves (capped at 1); 0 outside a programme in force."""
    tranche = np.where(st.programme, next_tranche(st, review_months), 0.0)
    return np.minimum(p_detect * tranche / np.maximum(st.reserves_usd, 1.0), 1.0)


def review(
    st: NationState, u: np.ndarray, u_new: np.ndarray, p_detect: float, t: int, cfg: ImfConfig
) -> None:
    """This month's IMF: accumulation, reviews due, programmes ending, new programmes."""
    review_programmes(st, u, p_detect, t, cfg)
    new_programmes(st, u_new, t, cfg)


def review_programmes(
    st: NationState, u: np.ndarray, p_detect: float, t: int, cfg: ImfConfig
) -> None:
    """The programmes in force: accumulation, reviews due and programmes ending.

    Nations with neither a programme nor financing are left exactly as they were (the
    ensemble engine runs it on those nations only).
    """
    rm = cfg.review_months
    st.imf_accumulated |= st.programme & ((st.bought + st.mined) > 0)
    due = st.imf_financing & (st.imf_next_review == t)
    tranche = np.where(due, next_tranche(st, rm), 0.0)
    caught = due & ~st.imf_suspended & st.imf_accumulated & (u < p_detect)
    failed = caught | (due & st.imf_suspended)
    withheld = np.where(failed, tranche, 0.0)
    st.imf_undisbursed_usd -= tranche  # disbursed or withheld: no longer to come
    st.reserves_usd[...] = np.maximum(st.reserves_usd - withheld, 0.0)
    st.imf_lost_usd += withheld
    st.imf_withheld += withheld
    st.detected |= caught
    st.imf_failures[...] = np.where(caught, st.imf_failures + 1, np.where(due, 0, st.imf_failures))
    st.imf_accumulated &= ~due
    st.imf_next_review += np.where(due, rm, 0)
    st.suspend_imf_programme(caught & (st.imf_failures >= cfg.suspend_after_failures))
    st.end_imf_programme(st.imf_financing & (t >= st.imf_end))


def new_programmes(st: NationState, u_new: np.ndarray, t: int, cfg: ImfConfig) -> None:
    """New financing programmes: members with credit outstanding and none in force (after
    :func:`review_programmes`, so a programme that ended this month is not renewed)."""
    new = new_programme_draws(st, u_new, cfg)
    if new.any():
        start_new_programmes(st, new, t, cfg)


def new_programme_draws(st: NationState, u_new: np.ndarray, cfg: ImfConfig) -> np.ndarray:
    """Who starts a new programme this month: eligible members whose draw is below the
    monthly hazard."""
    eligible = st.imf_member & ~st.imf_financing & ~st.imf_ended & (st.credit_pct_quota > 0)
    return eligible & (u_new < monthly_hazard(cfg.new_programme_rate))


def start_new_programmes(st: NationState, new: np.ndarray, t: int, cfg: ImfConfig) -> None:
    """Programmes of ``imf.new_programme_pct_quota`` of quota for the nations ``new``."""
    size = _at(cfg.new_programme_pct_quota, new) / 100.0 * st.imf_quota_usd[new]
    months = _at(cfg.new_programme_months, new)
    st.start_imf_programme(new, t, size, months, _at(cfg.review_months, new))


def _at(value: Any, mask: np.ndarray) -> Any:
    """A parameter at the entries ``mask`` selects: a plain value, or a per-replicate
    ``(R, 1)`` column (the ensemble engine) picked at each selected entry's replicate."""
    return np.broadcast_to(value, mask.shape)[mask] if np.ndim(value) else value


def review_one(
    nation: Any, u: float, u_new: float, p_detect: float, t: int, cfg: ImfConfig
) -> None:
    """Scalar reference of :func:`review` for one ``Nation`` agent."""
    rm = cfg.review_months
    if nation.programme and nation.bought + nation.mined > 0:
        nation.imf_accumulated = True
    if nation.imf_financing and nation.imf_next_review == t:
        left = nation.imf_end - nation.imf_next_review
        left = left // rm + 1 if left >= 0 else 0
        tranche = nation.imf_undisbursed_usd / left if left > 0 else 0.0
        caught = not nation.imf_suspended and nation.imf_accumulated and u < p_detect
        withheld = tranche if caught or nation.imf_suspended else 0.0
        nation.imf_undisbursed_usd = nation.imf_undisbursed_usd - tranche
        nation.reserves_usd = max(nation.reserves_usd - withheld, 0.0)
        nation.imf_lost_usd = nation.imf_lost_usd + withheld
        nation.imf_withheld = nation.imf_withheld + withheld
        nation.imf_failures = nation.imf_failures + 1 if caught else 0
        nation.imf_accumulated = False
        nation.imf_next_review = nation.imf_next_review + rm
        if caught:
            nation.detected = True
            if nation.imf_failures >= cfg.suspend_after_failures:
                nation.suspend_imf_programme()
    if nation.imf_financing and t >= nation.imf_end:
        nation.end_imf_programme()
    eligible = (
        nation.imf_member
        and not nation.imf_financing
        and not nation.imf_ended
        and nation.credit_pct_quota > 0
    )
    if eligible and u_new < monthly_hazard(cfg.new_programme_rate):
        size = cfg.new_programme_pct_quota / 100.0 * nation.imf_quota_usd
        nation.start_imf_programme(t, size, cfg.new_programme_months, rm)
