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

The logit of the nations that review this month goes further: a nation without holdings
whose choice uniform lies below a floor of its hold probability (:func:`hold_floor`, a
bound over the inputs it does not compute) holds whatever those inputs are, so the logit
runs only on the others: the same actions, at a fraction of the cost.

Parameters come along: an ``(R, 1)`` column is picked at each gathered entry's replicate
(:class:`~adoption_model.batching._Picked`), an ``(R, 1)`` world value likewise
(:func:`pick`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adoption_model.batching import Stacked, _Picked
from adoption_model.state import STATE_FIELDS, NationState
from adoption_model.submodels import covariates, decision, imf, mining, reserve
from adoption_model.submodels.covariates import N_UNIONS
from adoption_model.submodels.signal import Signals

__all__ = [
    "GatheredSteps",
    "Gathered",
    "buy_active",
    "hold_floor",
    "mine_active",
    "pick",
    "review_active",
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


def review_active(st: NationState, t: int) -> np.ndarray:
    """Where :func:`~adoption_model.submodels.imf.review_programmes` may change anything
    at step ``t``: programme countries that accumulated this month, reviews due, and
    programmes reaching their end (every other line acts on those entries only)."""
    accumulated = st.programme & ((st.bought + st.mined) > 0)
    return accumulated | (st.imf_financing & ((st.imf_next_review == t) | (t >= st.imf_end)))


#: How far below the hold floor a uniform must be to be screened (relative): more than
#: the rounding of the utilities and probabilities, by many orders of magnitude.
HOLD_FLOOR_MARGIN = 1e-9


def hold_floor(
    c: Any,
    intensity: Any,
    peer: np.ndarray,
    world_share: Any,
    momentum: Any,
    debt_stress: np.ndarray,
    sanctions: np.ndarray,
    imf_low: np.ndarray,
) -> np.ndarray:
    """A lower bound of the hold probability of nations that cannot sell (no holdings).

    With selling unavailable, ``P(hold) = 1 / (1 + e^(lambda U_adopt) + e^(lambda U_mine))``
    or more (an unavailable option adds nothing). Each utility is bounded above term by
    term (docs/ODD.md 7.2): the terms whose input is given are taken as they are (peer,
    world share, momentum, debt stress, sanctions), the others at their largest over the
    input's range: FX stress and the margin are clipped to [0, 1] and [-1, 1], and the
    IMF's pressure lies in ``[imf_low, imf_low + 1]`` (the stance times the exposure, plus
    an at-risk share in [0, 1]). ``lambda >= 0`` (validated). A nation whose choice
    uniform lies below the bound (less :data:`HOLD_FLOOR_MARGIN`) holds, whatever its
    other inputs (:func:`~adoption_model.submodels.decision.choose` would give HOLD), so
    the ensemble skips its logit.
    """

    def worst(coef: Any, low: Any, high: Any) -> Any:  # the largest of coef * x over [low, high]
        return np.maximum(coef * low, coef * high)

    adopt = (
        c.a0
        + worst(c.a_fx, 0.0, 1.0)
        + c.a_debt * debt_stress
        + c.a_peer * peer
        + c.a_world * world_share
        + c.a_mom * momentum
        + worst(-c.a_imf, imf_low, imf_low + 1.0)
        + c.a_sanctions * sanctions
    )
    mine = (
        c.c0
        + c.c_peer * peer
        + worst(-c.c_imf, imf_low, imf_low + 1.0)
        + worst(c.c_margin, -1.0, 1.0)
        + c.c_sanctions * sanctions
    )
    with np.errstate(over="ignore"):
        total = 1.0 + np.exp(intensity * adopt) + np.exp(intensity * mine)
    return (1.0 / total) * (1.0 - HOLD_FLOOR_MARGIN)


class GatheredSteps:
    """The ensemble's steps that work on gathered entries (mixed into
    :class:`~adoption_model.ensemble.Ensemble`, whose state, rule, draws and rows they
    use): the logit where nations review, their commits, the acts, the IMF's pressure."""

    n: int
    state: NationState
    rule: Any
    world: Any
    _draws: Any
    _flat: NationState | None
    _acted: np.ndarray | None  # flat entries whose action is not HOLD (None: unknown)
    peers: Any
    _static: tuple[np.ndarray, np.ndarray] | None
    _union_key: np.ndarray | None
    _members: np.ndarray
    _member_bins: np.ndarray
    _pooled_imports: np.ndarray
    _exposure_params: Stacked | None
    _exposure_of: np.ndarray
    exposure: np.ndarray

    def _flat_state(self) -> NationState:
        """``(R * n,)`` views of the state (valid until the rows are compacted)."""
        if self._flat is None:
            st = self.state
            self._flat = NationState(**{f: getattr(st, f).reshape(-1) for f in STATE_FIELDS})
        return self._flat

    def _static_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every entry's debt stress and whether its FX stress is assessed, flat.

        They read debt, net debt, the ARA class, the currency, the union and reserve-
        currency status, which no submodel and no event changes during a run, so they
        are computed once (until the rows are compacted) and picked where nations review.
        """
        if self._static is None:
            st = self.state
            benchmark = covariates.debt_benchmark(st.ara, st.own_currency, st.reserve_issuer)
            debt = covariates.debt_stress(st.debt_pct_gdp, st.net_debt_pct_gdp, benchmark)
            assessed = covariates.fx_assessed(st.ara, st.own_currency, st.union)
            self._static = (debt.reshape(-1), assessed.reshape(-1))
        return self._static

    def _gather(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, Gathered] | None:
        """The entries ``mask`` selects: flat indices, their rows, the gathered state."""
        return self._gather_flat(np.flatnonzero(mask))

    def _gather_where(
        self, candidates: np.ndarray, test: Any
    ) -> tuple[np.ndarray, np.ndarray, Gathered] | None:
        """:meth:`_gather` of the entries where ``test`` (an elementwise mask function of a
        state) holds, judged at the ``candidates`` only (outside which it is False): for
        masks that would read several full arrays to select a few entries."""
        got = self._gather(candidates)
        if got is None:
            return None
        keep = test(got[2])
        return self._gather_flat(got[0][keep])

    def _gather_flat(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, Gathered] | None:
        if not len(idx):
            return None
        return idx, idx // self.n, Gathered(self._flat_state(), idx)

    def _cover_at(self, flat: np.ndarray) -> np.ndarray:
        """:func:`decision.import_cover` at the flat entries ``flat``: each replicate's
        unions pooled over all its members (bincount adds each bin in nation order, as a
        single run's does), the entries' own cover elsewhere."""
        st, fl = self.state, self._flat_state()
        rows = st.union.shape[0]
        size = N_UNIONS * rows
        if self._union_key is None or len(self._union_key) != st.union.size:
            self._union_key = (st.union + N_UNIONS * np.arange(rows)[:, None]).reshape(-1)
            members = np.flatnonzero(fl.union > 0)  # in nation order per replicate
            km = self._union_key[members]  # the members' bins get the same additions
            # imports never change during a run: their pooled sums are kept
            pooled_m = np.bincount(km, weights=fl.imports_usd_month[members], minlength=size)
            self._members, self._member_bins = members, km
            self._pooled_imports = np.maximum(pooled_m, 1.0)
        key, members, km = self._union_key, self._members, self._member_bins
        pooled_r = np.bincount(km, weights=fl.reserves_usd[members], minlength=size)
        pooled = (pooled_r / self._pooled_imports)[key[flat]]
        own = fl.reserves_usd[flat] / fl.imports_usd_month[flat]
        return np.where(fl.union[flat] > 0, pooled, own)

    def _exposure_at(self, sc: Stacked, flat: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """:func:`imf.exposure` at the flat entries ``flat`` (of rows ``rows``)."""
        fl, cfg = self._flat_state(), _Picked(sc, rows).imf
        return imf.exposure(
            fl.credit_pct_quota[flat],
            fl.programme[flat],
            cfg.exposure_full_at_pct_quota,
            cfg.programme_floor,
        )

    def _at_risk_at(self, sc: Stacked, flat: np.ndarray, p_detect: np.ndarray) -> np.ndarray:
        """:func:`imf.at_risk` at the flat entries ``flat`` (computed where a programme is
        in force; 0 elsewhere, where the function gives exactly 0)."""
        fl = self._flat_state()
        out = np.zeros(len(flat))
        has = fl.programme[flat]
        if has.any():
            where = flat[has]
            rows, sub = where // self.n, Gathered(fl, where)
            rm = _Picked(sc, rows).imf.review_months
            out[has] = imf.at_risk(sub, pick(p_detect, rows), rm)
        return out

    def _exposure(self, sc: Stacked) -> np.ndarray:
        """:func:`imf.exposure`, recomputed when programmes or the parameters changed."""
        st, cfg = self.state, sc.imf
        same = sc is self._exposure_params and self._exposure_of.shape == st.programme.shape
        if not same or not np.array_equal(st.programme, self._exposure_of):
            self.exposure = imf.exposure(
                st.credit_pct_quota,
                st.programme,
                cfg.exposure_full_at_pct_quota,
                cfg.programme_floor,
            )
            self._exposure_params, self._exposure_of = sc, st.programme.copy()
        return self.exposure

    def _at_risk(self, sc: Stacked, p_detect: np.ndarray) -> np.ndarray:
        """:func:`imf.at_risk` of every nation: computed where a programme is in force,
        0 elsewhere (where the function gives exactly 0)."""
        st = self.state
        out = np.zeros(st.programme.shape)
        got = self._gather(st.programme)
        if got is not None:
            idx, rows, sub = got
            cfg = _Picked(sc, rows).imf
            out.reshape(-1)[idx] = imf.at_risk(sub, pick(p_detect, rows), cfg.review_months)
        return out

    def _acts(self, t: int, sc: Stacked, market: mining.Market, p_detect: np.ndarray) -> None:
        """The acts of :meth:`AdoptionModel._act_vectorized`, in its order, each on the
        entries it can change (:mod:`adoption_model.gather`)."""
        st, w, n = self.state, self.world, self.n
        got = self._gather(buy_active(st))  # 7.4 purchases toward the target
        if got is not None:
            idx, rows, sub = got
            reserve.buy(sub, t, w.price[rows], _Picked(sc, rows).adoption)
            sub.scatter()
        got = self._gather(mine_active(st))  # 7.3 mining income and the stop rule
        if got is not None:
            idx, rows, sub = got
            mk = mining.Market(pick(market.btc_per_th, rows), pick(market.revenue_mwh, rows))
            stop_after = _Picked(sc, rows).mining.stop_after_months
            mining.mine(sub, mk, w.efficiency_j_per_th[rows], stop_after)
            sub.scatter()
        got = self._gather(sell_active(st))  # 7.4 sales
        if got is not None:
            idx, rows, sub = got
            reserve.sell(sub, w.price[rows], _Picked(sc, rows).selling.mined_share, t)
            sub.scatter()
        # 7.5 reviews, programmes ending: review_active needs a programme or financing
        got = self._gather_where(st.programme | st.imf_financing, lambda g: review_active(g, t))
        if got is not None:
            idx, rows, sub = got
            u = self._draws.reshape(-1)[idx + rows * (3 * n) + 2 * n]  # u_audit: draws[:, 2]
            imf.review_programmes(sub, u, pick(p_detect, rows), t, _Picked(sc, rows).imf)
            sub.scatter()
        # 7.5 new programmes: drawn on the full arrays (about half the nations are
        # eligible), started on the nations that start one
        new = imf.new_programme_draws(st, self.rule.u_imf, sc.imf)
        got = self._gather(new)
        if got is not None:
            idx, rows, sub = got
            imf.start_new_programmes(sub, np.ones(len(idx), dtype=bool), t, _Picked(sc, rows).imf)
            sub.scatter()

    def _certain_holds(
        self,
        sc: Stacked,
        sig: Signals,
        flat: np.ndarray,
        rows: np.ndarray,
        peer: np.ndarray,
        u_choice: np.ndarray,
    ) -> np.ndarray:
        """Which reviewing entries ``flat`` hold whatever the rest of their logit gives:
        no holdings (selling unavailable) and a choice uniform below
        :func:`hold_floor`, in replicates whose IMF cannot lower the pressure
        below the stance times the exposure (a non-negative detection probability)."""
        fl = self._flat_state()
        can = fl.holdings[flat] <= 0
        if not can.any():
            return can
        f, r = flat[can], rows[can]
        stance = sig.imf_stance[r, 0]
        ok = sig.p_detect[r, 0] >= 0
        debt = self._static_inputs()[0][f]
        floor = hold_floor(
            _Picked(sc, r).rule.coef,
            pick(sc.rule.choice_intensity, r),
            peer.reshape(-1)[f],
            sig.world_share[r, 0],
            sig.momentum[r, 0],
            debt,
            fl.sanctions_exposure[f],
            stance * self._exposure_at(sc, f, r),
        )
        can[can] = ok & (u_choice[can] < floor)
        return can

    def _decide_reviewed(self, sc: Stacked, peer: np.ndarray, sig: Signals, t: int) -> bool:
        """The logit decision of :meth:`Logit.decide`, computed only where nations review.

        A nation that does not review holds whatever its utilities; without an explanation
        to keep, only the reviewing nations (``review_probability``, 1/12 by default) need
        the logit, and of those only the ones :func:`hold_floor` does not show to hold.
        Their inputs are picked from the ``(R, n)`` state and go through the same
        functions (elementwise, so the same bits); the rest hold. The nations that
        act switch policy there too (:func:`decision.commit` on the gathered entries).
        Returns whether any nation started mining.
        """
        st, rule = self.state, self.rule
        r = sc.rule
        reviewed = rule.u_review < r.review_probability
        st.reviewed[...] = reviewed
        fl = self._flat_state()
        # the state's peer signal and action, written where they can have changed: the
        # rows whose signal was recomputed, the entries that acted last month
        changed = self.peers.changed
        if changed is None:
            st.peer[...] = peer
        elif len(changed):
            st.peer[changed] = peer[changed]
        if self._acted is None:
            st.action[...] = decision.HOLD
        else:
            fl.action[self._acted] = decision.HOLD
        self._acted = np.zeros(0, dtype=np.int64)
        flat = np.flatnonzero(reviewed)  # picks by flat index: one gather per array
        n = self.n
        rows, cols = np.divmod(flat, n)
        u_choice = self._draws.reshape(-1)[rows * (4 * n) + n + cols]  # draws[:, 1]
        if len(flat):  # nations certain to hold need no logit (hold_floor)
            keep = ~self._certain_holds(sc, sig, flat, rows, peer, u_choice)
            flat, rows, cols, u_choice = flat[keep], rows[keep], cols[keep], u_choice[keep]
        new_miners = False
        if len(flat):
            picked = _Picked(sc, rows)
            local = Signals(
                adopted=sig.adopted,
                adopted_f=sig.adopted_f,
                n_adopted=sig.n_adopted,
                new_prev=sig.new_prev,
                t=sig.t,
                price=sig.price[rows, 0],
                world_share=sig.world_share[rows, 0],
                momentum=sig.momentum[rows, 0],
                revenue_mwh=sig.revenue_mwh[rows, 0],
                p_detect=sig.p_detect[rows, 0],
                imf_stance=sig.imf_stance[rows, 0],
                fx_cover=self._cover_at(flat),
            )
            # the IMF's pressure as logit_inputs computes it, from values at these entries
            exposure = self._exposure_at(sc, flat, rows)
            local.imf_pressure = local.imf_stance * exposure + self._at_risk_at(
                sc, flat, sig.p_detect
            )
            debt, assessed = self._static_inputs()
            local.debt_stress, local.fx_assessed = debt[flat], assessed[flat]
            x = decision.logit_inputs(
                fl, flat, peer.reshape(-1)[flat], local, picked.mining.allocation_share
            )
            pr = picked.rule
            util = decision.logit_utilities(x, pr.coef)
            avail = np.stack([x.can_adopt, x.can_mine, x.can_sell], axis=-1)
            probs = decision.logit_probabilities(util, avail, pr.choice_intensity)
            choice = decision.choose(probs, u_choice)
            acts = choice != decision.HOLD
            if acts.any():
                where = flat[acts]
                fl.action[where] = choice[acts]
                self._acted = where
                sub = Gathered(fl, where)
                decision.commit(sub, choice[acts], t, _Picked(sc, where // n))
                sub.scatter()
                new_miners = bool((choice == decision.MINE).any())
        return new_miners
