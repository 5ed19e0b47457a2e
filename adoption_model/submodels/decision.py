"""Decision rules: how a nation chooses hold, adopt, mine or sell (docs/ODD.md section 7.2).

Each rule kind is one object (:class:`Logit`, :class:`Threshold`, :class:`Bass`,
:class:`Cascade`), built once per model by :func:`make_rule`, so ``rule.kind`` is
dispatched once. A rule object holds its draws (:meth:`Rule.draw`), its decision
(:meth:`Rule.decide`), its stop condition (:meth:`Rule.stops`) and the explanation of its
latest decision (``terms``, ``util``, ``probs``).

Both engines share the rule's arithmetic: the vectorised engine calls :meth:`Rule.decide`
once a step with every nation, the per-agent engine calls the very same method from each
``Nation.decide`` with a one-element selection (its own row) and the signal it summed from
its neighbours. (A separate scalar copy of the logit would not be bit-identical: numpy's
vectorised ``exp`` and the C library's differ in the last bit.) After every nation has
decided, all switch policy together: :func:`commit` (vectorised) and :func:`commit_one`
(per agent), both through the state transitions of :mod:`adoption_model.state`.

Actions are coded ``HOLD, ADOPT, MINE, SELL = 0, 1, 2, 3``. Arrays have nations on the
last axis, then the options (``(..., n, 3)`` utilities, ``(..., n, 4)`` probabilities).
The ensemble engine (:mod:`adoption_model.ensemble`) calls the same functions with a
leading replicate axis, ``(R, n)`` state and ``(R, 1)`` parameters where replicates differ
(plain floats where they agree); every operation is elementwise or per nation, so each
replicate gets exactly the bits of its single run.

References
----------
McFadden, D. (1974), "Conditional logit analysis of qualitative choice behavior", in
Zarembka (ed.), Frontiers in Econometrics, 105-142 (the multinomial logit).
Brock, W. and Durlauf, S. (2001), "Discrete choice with social interactions", Rev. Econ.
Stud. 68(2): 235-260 (the peer term).
Granovetter, M. (1978), "Threshold models of collective behavior", AJS 83(6): 1420-1443.
Watts, D. J. (2002), "A simple model of global cascades on random networks", PNAS 99(9).
Bass, F. M. (1969), "A new product growth for model consumer durables", Management
Science 15(5): 215-227.
Kempe, D., Kleinberg, J. and Tardos, E. (2003), "Maximizing the spread of influence through
a social network", Proc. KDD 2003: 137-146.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from adoption_model.errors import InputError
from adoption_model.submodels.covariates import (  # noqa: F401 - re-exported
    ADV_ISSUER,
    ADVANCED,
    COVER_MONTHS,
    CREDIT_CONSTRAINED,
    DEBT_BENCHMARK_AE,
    DEBT_BENCHMARK_CC,
    DEBT_BENCHMARK_EM,
    EMERGING,
    N_UNIONS,
    debt_benchmark,
    debt_stress,
    fx_assessed,
    fx_stress,
    import_cover,
    union_cover,
    unrealised_gain,
)
from adoption_model.submodels.mining import margin

if TYPE_CHECKING:
    from adoption_model.scenario import LogitCoefficients, RuleConfig, Scenario
    from adoption_model.state import NationState, Sel
    from adoption_model.submodels.signal import Signals

HOLD, ADOPT, MINE, SELL = 0, 1, 2, 3
ACTIONS = ("hold", "adopt", "mine", "sell")
OPTIONS = ("adopt", "mine", "sell")  # the options with a utility; U_hold = 0
TERMS = (
    "const",
    "fx",
    "debt",
    "peer",
    "world",
    "momentum",
    "imf",
    "margin",
    "gain",
    "law",
    "sanctions",
)
TERM_LABELS = {
    "const": "baseline propensity",
    "fx": "FX-reserve stress",
    "debt": "debt stress",
    "peer": "neighbours that adopted",
    "world": "world adoption (GDP-weighted)",
    "momentum": "BTC price momentum",
    "imf": "IMF pressure",
    "margin": "mining margin",
    "gain": "unrealised gain on holdings",
    "law": "seized-asset sale law",
    "sanctions": "sanctions exposure",
}


# ---------------------------------------------------------------- the logit's inputs
@dataclass
class LogitInputs:
    """What nations see when they decide under the logit rule (arrays of equal shape)."""

    fx_stress: np.ndarray
    debt_stress: np.ndarray
    peer: np.ndarray
    world_share: float
    momentum: float
    imf_pressure: np.ndarray
    margin: np.ndarray
    gain: np.ndarray
    mandate: np.ndarray
    can_adopt: np.ndarray
    can_mine: np.ndarray
    can_sell: np.ndarray
    sanctions: np.ndarray | float = 0.0


def logit_inputs(
    st: NationState, sel: Sel, peer: np.ndarray, sig: Signals, allocation_share: float
) -> LogitInputs:
    """The inputs of nations ``sel`` (docs/ODD.md 7.2, the table of terms; availability).

    Availability: an absolute crypto ban removes adopt and mine, a mining ban removes
    mine, until a dated event lifts them (the Law Library of Congress 2021 classes).
    """
    cover = sig.fx_cover if sig.fx_cover is not None else import_cover(st)[sel]
    assessed, debt = sig.fx_assessed, sig.debt_stress
    if assessed is None or debt is None:
        ara, own = st.ara[sel], st.own_currency[sel]
        assessed = fx_assessed(ara, own, st.union[sel])
        benchmark = debt_benchmark(ara, own, st.reserve_issuer[sel])
        debt = debt_stress(st.debt_pct_gdp[sel], st.net_debt_pct_gdp[sel], benchmark)
    banned = st.absolute_ban[sel]
    pressure = sig.imf_pressure
    if pressure is None:
        at_risk = 0.0 if sig.imf_at_risk is None else sig.imf_at_risk[sel]
        pressure = sig.imf_stance * sig.exposure[sel] + at_risk
    return LogitInputs(
        fx_stress=fx_stress(cover, assessed),
        debt_stress=debt,
        peer=peer,
        world_share=sig.world_share,
        momentum=sig.momentum,
        imf_pressure=pressure,
        margin=margin(sig.revenue_mwh, st.energy_cost_usd_mwh[sel]),
        gain=unrealised_gain(st.holdings[sel], st.cost_basis_usd[sel], sig.price),
        mandate=(st.seized_mandate[sel] & (st.seized_btc[sel] > 0)).astype(float),
        can_adopt=~st.reserve[sel] & ~st.selling[sel] & ~banned,
        can_mine=~st.mining[sel]
        & (st.energy_surplus_mw[sel] * allocation_share > 0)
        & ~banned
        & ~st.mining_ban[sel],
        can_sell=(st.holdings[sel] > 0) & ~st.no_sell[sel] & ~st.selling[sel],
        sanctions=st.sanctions_exposure[sel],
    )


# ---------------------------------------------------------------- the logit's arithmetic
def logit_terms(x: LogitInputs, c: LogitCoefficients) -> np.ndarray:
    """Utility terms of adopt, mine and sell, shape ``(..., n, 3, len(TERMS))``.

    The utilities of docs/ODD.md section 7.2, term by term:

    - ``U_adopt = a0 + a_fx*fx + a_debt*debt + a_peer*m + a_world*w + a_mom*mom - a_imf*imf
      + a_sanctions*sanctions``
    - ``U_mine = c0 + c_margin*margin + c_peer*m - c_imf*imf + c_sanctions*sanctions``
    - ``U_sell = s0 + s_debt*debt + s_gain*gain + s_imf*imf + s_law*law - s_peer*m``
    """
    t = np.zeros(np.shape(x.peer) + (3, len(TERMS)))
    # adopt
    t[..., 0, 0] = c.a0
    t[..., 0, 1] = c.a_fx * x.fx_stress
    t[..., 0, 2] = c.a_debt * x.debt_stress
    t[..., 0, 3] = c.a_peer * x.peer
    t[..., 0, 4] = c.a_world * x.world_share
    t[..., 0, 5] = c.a_mom * x.momentum
    t[..., 0, 6] = -c.a_imf * x.imf_pressure
    t[..., 0, 10] = c.a_sanctions * x.sanctions
    # mine
    t[..., 1, 0] = c.c0
    t[..., 1, 3] = c.c_peer * x.peer
    t[..., 1, 6] = -c.c_imf * x.imf_pressure
    t[..., 1, 7] = c.c_margin * x.margin
    t[..., 1, 10] = c.c_sanctions * x.sanctions
    # sell
    t[..., 2, 0] = c.s0
    t[..., 2, 2] = c.s_debt * x.debt_stress
    t[..., 2, 3] = -c.s_peer * x.peer
    t[..., 2, 6] = c.s_imf * x.imf_pressure
    t[..., 2, 8] = c.s_gain * x.gain
    t[..., 2, 9] = c.s_law * x.mandate
    return t


def sum_terms(terms: np.ndarray) -> np.ndarray:
    """Utilities ``(..., n, 3)``: terms added left to right (a fixed order, so engines agree)."""
    u = terms[..., 0].copy()
    for k in range(1, terms.shape[-1]):
        u += terms[..., k]
    return u


def logit_utilities(x: LogitInputs, c: LogitCoefficients) -> np.ndarray:
    """Utilities ``(..., n, 3)`` without the term breakdown, bit for bit :func:`sum_terms`.

    The same products added in the same order as ``sum_terms(logit_terms(x, c))``, minus
    the zero terms (adding 0.0 changes no bits that matter: at most the sign of a zero,
    which ``exp`` ignores). For runs that keep no explanation (the ensemble engine
    without nation frames), which then skip the ``(..., n, 3, 10)`` term array.
    """
    u = np.empty(np.shape(x.peer) + (3,))
    adopt = c.a0 + c.a_fx * x.fx_stress
    adopt += c.a_debt * x.debt_stress
    adopt += c.a_peer * x.peer
    adopt += c.a_world * x.world_share
    adopt += c.a_mom * x.momentum
    adopt += -c.a_imf * x.imf_pressure
    adopt += c.a_sanctions * x.sanctions
    u[..., 0] = adopt
    mine = c.c0 + c.c_peer * x.peer
    mine += -c.c_imf * x.imf_pressure
    mine += c.c_margin * x.margin
    mine += c.c_sanctions * x.sanctions
    u[..., 1] = mine
    sell = c.s0 + c.s_debt * x.debt_stress
    sell += -c.s_peer * x.peer
    sell += c.s_imf * x.imf_pressure
    sell += c.s_gain * x.gain
    sell += c.s_law * x.mandate
    u[..., 2] = sell
    return u


def logit_probabilities(
    utilities: np.ndarray, available: np.ndarray, intensity: float
) -> np.ndarray:
    """Multinomial-logit choice probabilities over hold/adopt/mine/sell, ``(..., n, 4)``.

    ``P(a) = exp(lambda U_a) / sum_b exp(lambda U_b)`` over the available options, with
    ``U_hold = 0`` always available (McFadden 1974). Unavailable options get probability 0.
    """
    shape = utilities.shape[:-1] + (4,)
    full = np.zeros(shape)
    if np.ndim(intensity):  # one intensity per replicate, (R, 1): broadcast over options
        intensity = np.asarray(intensity)[..., None]
    full[..., 1:] = utilities * intensity
    avail = np.ones(shape, dtype=bool)
    avail[..., 1:] = available
    full[~avail] = -np.inf
    # the largest of the four (exactly one of them; np.maximum is faster than a max over
    # a length-4 axis, and the sign of a zero maximum does not change exp(x - top))
    top = np.maximum(np.maximum(full[..., 0], full[..., 1]), np.maximum(full[..., 2], full[..., 3]))
    e = np.exp(full - top[..., None])
    total = e[..., 0] + e[..., 1] + e[..., 2] + e[..., 3]
    return e / total[..., None]


def choose(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of one action per nation from uniforms ``u`` (one per nation)."""
    p = probabilities  # the cumulative sums as np.cumsum adds them, left to right
    c1 = p[..., 0] + p[..., 1]
    c2 = c1 + p[..., 2]
    c3 = c2 + p[..., 3]
    action = (
        (u >= p[..., 0]).astype(np.int64) + (u >= c1) + (u >= c2) + (u >= c3)
    )  # how many cumulative values u reaches
    action = np.minimum(action, 3)
    # rounding can leave u above the last cumulative value: fall back to holding
    flat = probabilities.reshape(-1, 4)
    bad = flat[np.arange(flat.shape[0]), action.ravel()] == 0.0
    action[bad.reshape(action.shape)] = HOLD
    return action


def logit_decide(
    x: LogitInputs,
    c: LogitCoefficients,
    intensity: float,
    u_choice: np.ndarray,
    explain: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """The logit choice: returns ``(terms, utilities, probabilities, action)``.

    With ``explain=False`` the term breakdown is skipped (``terms`` is None); the
    utilities, probabilities and actions are the same bits.
    """
    if explain:
        terms = logit_terms(x, c)
        util = sum_terms(terms)
    else:
        terms, util = None, logit_utilities(x, c)
    avail = np.stack([x.can_adopt, x.can_mine, x.can_sell], axis=-1)
    probs = logit_probabilities(util, avail, intensity)
    return terms, util, probs, choose(probs, u_choice)


# ---------------------------------------------------------------- the classic rules
def threshold_decide(peer: np.ndarray, phi: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    """Linear threshold rule: adopt iff the adopting share of in-neighbours is at least phi.

    Irreversible; no price, mining or selling. With unit weights ``peer`` is the unweighted
    fraction of neighbours that have adopted, so this is exactly Granovetter's (1978) and
    Watts's (2002) model.
    """
    return np.where(~adopted & (peer >= phi), ADOPT, HOLD)


def bass_decide(
    peer: np.ndarray, p: float, q: float, adopted: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Bass (1969) diffusion: a non-adopter adopts this step with probability ``p + q m``.

    On the complete graph ``m`` is the global share and the expected adopters follow the
    discrete Bass recursion ``N_{t+1} = N_t + (M - N_t) (p + q N_t / M)``.
    """
    return np.where(~adopted & (u < p + q * peer), ADOPT, HOLD)


def cascade_probability(new_neighbours: np.ndarray, transmission: float) -> np.ndarray:
    """Chance that at least one of ``k`` independent attempts succeeds, ``1 - (1 - T)^k``."""
    return 1.0 - np.power(1.0 - transmission, new_neighbours)


def cascade_decide(
    new_neighbours: np.ndarray, transmission: float, adopted: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Independent cascade (Kempe, Kleinberg & Tardos 2003).

    Each new adopter gets one chance to convert each out-neighbour: a non-adopter with
    ``k`` in-neighbours that adopted in the previous step is converted with probability
    ``1 - (1 - T)^k``, so one uniform per nation per step suffices.
    """
    prob = cascade_probability(new_neighbours, transmission)
    return np.where(~adopted & (new_neighbours > 0) & (u < prob), ADOPT, HOLD)


def draw_thresholds(n: int, rule: RuleConfig, rng: np.random.Generator) -> np.ndarray:
    """Per-nation thresholds: a given list, fixed ``rule.phi``, or a named distribution."""
    if rule.thresholds is not None:
        if len(rule.thresholds) != n:
            raise InputError(
                f"rule.thresholds: {len(rule.thresholds)} values for {n} nations; give one per node"
            )
        return np.asarray(rule.thresholds, dtype=float)
    d = rule.threshold_distribution
    if d.kind == "fixed":
        return np.full(n, float(rule.phi))
    if d.kind == "uniform":
        return rng.uniform(d.low, d.high, size=n)
    if d.kind == "normal":
        return np.clip(rng.normal(d.mean, d.sd, size=n), 0.0, None)
    return rng.beta(d.a, d.b, size=n)


# ---------------------------------------------------------------- one object per rule
class Rule:
    """A decision rule with its draws, decision, stop condition and latest explanation.

    ``classic`` rules model adoption alone (no acts); ``uses_counts`` rules read the number
    of in-neighbours that adopted last step instead of the peer share.
    """

    kind = ""
    classic = True
    uses_counts = False

    #: keep the term breakdown of every decision (``terms``); the ensemble engine turns it
    #: off when it keeps no nation frame (same actions, no ``(..., n, 3, 10)`` array)
    explain = True

    def __init__(self, n: int, replicates: int | None = None) -> None:
        self.n = n
        shape = (n,) if replicates is None else (replicates, n)
        zeros = np.zeros(shape)
        self.u_review = self.u_choice = self.u_audit = self.u_imf = zeros
        self.terms = np.zeros(shape + (3, len(TERMS)))
        self.util = np.zeros(shape + (3,))
        self.probs = np.zeros(shape + (4,))
        self.probs[..., 0] = 1.0

    def _chose(self, st: NationState, sel: Sel, peer: np.ndarray, action: np.ndarray) -> np.ndarray:
        """Keep the signal and the choice of nations ``sel`` (explanations, nation frame)."""
        st.peer[sel] = peer
        st.action[sel] = action
        return action

    def setup(self, st: NationState, cfg: RuleConfig, rng: np.random.Generator) -> None:
        """Draw what the rule needs before step 1 (the threshold rule's thresholds)."""

    def draw(self, rng: np.random.Generator) -> None:
        """This step's uniforms, one block per step from ``rng`` (after the price draw)."""

    def decide(
        self,
        sc: Scenario,
        st: NationState,
        sel: Sel,
        peer: np.ndarray,
        sig: Signals,
        counts: np.ndarray | None = None,
    ) -> np.ndarray:
        """Actions of nations ``sel`` (state does not change yet); stores the explanation."""
        raise NotImplementedError

    def stops(self, any_new: bool, n_adopted: int) -> bool:
        """Whether the run can stop early: nothing can change any more.

        Elementwise over replicates when given arrays (the ensemble engine).
        """
        return np.equal(n_adopted, self.n)

    def adopt_probability(self, cfg: RuleConfig, st: NationState, before: np.ndarray) -> np.ndarray:
        """Adoption probability of the latest decision (0 for nations adopted ``before``)."""
        raise NotImplementedError


class Logit(Rule):
    """The default rule: a monthly review, then a multinomial-logit choice (7.2).

    Draws a ``(4, n)`` block of uniforms a step: review, choice, the IMF review and the
    IMF's new-programme hazard (7.5).
    It always runs to the horizon.
    """

    kind = "logit"
    classic = False

    def draw(self, rng: np.random.Generator) -> None:
        self.u_review, self.u_choice, self.u_audit, self.u_imf = rng.random((4, self.n))

    def decide(self, sc, st, sel, peer, sig, counts=None):
        r = sc.rule
        x = logit_inputs(st, sel, peer, sig, sc.mining.allocation_share)
        terms, util, probs, action = logit_decide(
            x, r.coef, r.choice_intensity, self.u_choice[sel], self.explain
        )
        reviewed = self.u_review[sel] < r.review_probability
        action = np.where(reviewed, action, HOLD)
        if self.explain:
            self.terms[sel] = terms
            self.util[sel] = util
            self.probs[sel] = probs
        st.reviewed[sel] = reviewed
        return self._chose(st, sel, peer, action)

    def stops(self, any_new: bool, n_adopted: int) -> bool:
        return np.zeros(np.shape(n_adopted), dtype=bool) if np.ndim(n_adopted) else False


class Threshold(Rule):
    """Granovetter's linear threshold rule; deterministic, so it draws nothing a step.

    Stops when a step adds no adopter (nothing can change any more) or all have adopted.
    """

    kind = "threshold"

    def setup(self, st, cfg, rng):
        st.threshold = draw_thresholds(self.n, cfg, rng)

    def decide(self, sc, st, sel, peer, sig, counts=None):
        action = threshold_decide(peer, st.threshold[sel], sig.adopted[sel])
        return self._chose(st, sel, peer, action)

    def stops(self, any_new: bool, n_adopted: int) -> bool:
        return np.logical_not(any_new) | np.equal(n_adopted, self.n)

    def adopt_probability(self, cfg, st, before):
        return np.where(before, 0.0, (st.peer >= st.threshold).astype(float))


class Bass(Rule):
    """Bass diffusion: one uniform per nation a step; stops when all have adopted."""

    kind = "bass"

    def draw(self, rng: np.random.Generator) -> None:
        self.u_choice = rng.random(self.n)

    def decide(self, sc, st, sel, peer, sig, counts=None):
        r = sc.rule
        action = bass_decide(peer, r.p, r.q, sig.adopted[sel], self.u_choice[sel])
        return self._chose(st, sel, peer, action)

    def adopt_probability(self, cfg, st, before):
        return np.where(before, 0.0, np.minimum(cfg.p + cfg.q * st.peer, 1.0))


class Cascade(Rule):
    """Independent cascade: one uniform per nation a step; reads new-adopter counts.

    Stops when a step adds no adopter (no chances left) or all have adopted.
    """

    kind = "cascade"
    uses_counts = True

    def __init__(self, n: int, replicates: int | None = None) -> None:
        super().__init__(n, replicates)
        self.counts = np.zeros((n,) if replicates is None else (replicates, n))

    def draw(self, rng: np.random.Generator) -> None:
        self.u_choice = rng.random(self.n)

    def decide(self, sc, st, sel, peer, sig, counts=None):
        self.counts[sel] = counts
        action = cascade_decide(counts, sc.rule.transmission, sig.adopted[sel], self.u_choice[sel])
        return self._chose(st, sel, peer, action)

    stops = Threshold.stops  # nothing new, or everybody: nothing can change any more

    def adopt_probability(self, cfg, st, before):
        return np.where(before, 0.0, cascade_probability(self.counts, cfg.transmission))


RULES: dict[str, type[Rule]] = {r.kind: r for r in (Logit, Threshold, Bass, Cascade)}


def make_rule(kind: str, n: int, replicates: int | None = None) -> Rule:
    """The rule object of ``rule.kind`` for ``n`` nations (the one dispatch on the kind).

    With ``replicates`` its arrays are ``(replicates, n)`` (the ensemble engine).
    """
    return RULES[kind](n, replicates)


# ---------------------------------------------------------------- switching policy
def commit(st: NationState, action: np.ndarray, t: int, sc: Scenario) -> None:
    """Every nation switches policy to its chosen action at once (vectorised)."""
    if not action.any():  # everybody holds: nothing to switch
        return
    mn = sc.mining
    if action.ndim > 1:  # (R, n): index pairs, and each replicate's own parameters
        st.start_reserve(np.nonzero(action == ADOPT), t)
        mine = np.nonzero(action == MINE)
        st.start_mining(mine, t, _per(mn.allocation_share, mine) * st.energy_surplus_mw[mine])
        sell = action == SELL
        law = st.seized_mandate & (st.seized_btc > 0)
        st.start_seized_sale(np.nonzero(sell & law), t)
        tranche = np.nonzero(sell & ~law)
        st.start_sale(tranche, t, _per(sc.selling.months, tranche))
        return
    st.start_reserve(np.flatnonzero(action == ADOPT), t)
    mine = np.flatnonzero(action == MINE)
    st.start_mining(mine, t, _per(mn.allocation_share, mine) * st.energy_surplus_mw[mine])
    sell = action == SELL
    law = st.seized_mandate & (st.seized_btc > 0)  # the law applies to seized coins only
    st.start_seized_sale(np.flatnonzero(sell & law), t)
    tranche = np.flatnonzero(sell & ~law)
    st.start_sale(tranche, t, _per(sc.selling.months, tranche))


def _per(value: float | np.ndarray, sel: Any) -> float | np.ndarray:
    """A parameter at the selected entries: a float; an ``(R, 1)`` column at selected
    ``(replicate, nation)`` pairs; or one value per entry (gathered entries, 1-D)."""
    if not np.ndim(value):
        return value
    return value[sel[0], 0] if np.ndim(value) == 2 else value[sel]


def commit_one(st: NationState, i: int, action: int, t: int, sc: Scenario) -> None:
    """Scalar reference of :func:`commit`: nation ``i`` switches to ``action``."""
    if action == ADOPT:
        st.start_reserve(i, t)
    elif action == MINE:
        st.start_mining(i, t, sc.mining.allocation_share * st.energy_surplus_mw[i])
    elif action == SELL and st.seized_mandate[i] and st.seized_btc[i] > 0:
        st.start_seized_sale(i, t)
    elif action == SELL:
        st.start_sale(i, t, sc.selling.months)
