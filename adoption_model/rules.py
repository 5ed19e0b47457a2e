"""Decision rules: how a nation that reviews its policy chooses hold, adopt, mine or sell.

Every rule is a pure function over arrays (one entry per nation). The vectorised engine
calls it once per step on all nations; the per-agent engine calls the very same function
with one-element arrays from each ``Nation.step``, so both engines share the arithmetic
and differ only in how signals are gathered and state is written.

Actions are coded ``HOLD, ADOPT, MINE, SELL = 0, 1, 2, 3``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adoption_model.scenario import LogitCoefficients

HOLD, ADOPT, MINE, SELL = 0, 1, 2, 3
ACTIONS = ("hold", "adopt", "mine", "sell")
OPTIONS = ("adopt", "mine", "sell")  # the options with a utility; U_hold = 0
TERMS = ("const", "fx", "debt", "peer", "world", "momentum", "imf", "margin", "gain", "law")
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
}


@dataclass
class LogitInputs:
    """What a nation sees when it decides under the logit rule (arrays of equal length)."""

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


def logit_terms(x: LogitInputs, c: LogitCoefficients) -> np.ndarray:
    """Utility terms of adopt, mine and sell, shape ``(n, 3, len(TERMS))``.

    The utilities of MODEL.md section 4, term by term:

    - ``U_adopt = a0 + a_fx*fx + a_debt*debt + a_peer*m + a_world*w + a_mom*mom - a_imf*imf``
    - ``U_mine = c0 + c_margin*margin + c_peer*m - c_imf*imf``
    - ``U_sell = s0 + s_debt*debt + s_gain*gain + s_imf*imf + s_law*law - s_peer*m``
    """
    n = len(x.peer)
    t = np.zeros((n, 3, len(TERMS)))
    # adopt
    t[:, 0, 0] = c.a0
    t[:, 0, 1] = c.a_fx * x.fx_stress
    t[:, 0, 2] = c.a_debt * x.debt_stress
    t[:, 0, 3] = c.a_peer * x.peer
    t[:, 0, 4] = c.a_world * x.world_share
    t[:, 0, 5] = c.a_mom * x.momentum
    t[:, 0, 6] = -c.a_imf * x.imf_pressure
    # mine
    t[:, 1, 0] = c.c0
    t[:, 1, 3] = c.c_peer * x.peer
    t[:, 1, 6] = -c.c_imf * x.imf_pressure
    t[:, 1, 7] = c.c_margin * x.margin
    # sell
    t[:, 2, 0] = c.s0
    t[:, 2, 2] = c.s_debt * x.debt_stress
    t[:, 2, 3] = -c.s_peer * x.peer
    t[:, 2, 6] = c.s_imf * x.imf_pressure
    t[:, 2, 8] = c.s_gain * x.gain
    t[:, 2, 9] = c.s_law * x.mandate
    return t


def sum_terms(terms: np.ndarray) -> np.ndarray:
    """Utilities ``(n, 3)``: terms added left to right (a fixed order, so engines agree)."""
    u = terms[:, :, 0].copy()
    for k in range(1, terms.shape[2]):
        u += terms[:, :, k]
    return u


def logit_probabilities(
    utilities: np.ndarray, available: np.ndarray, intensity: float
) -> np.ndarray:
    """Multinomial-logit choice probabilities over hold/adopt/mine/sell, shape ``(n, 4)``.

    ``P(a) = exp(lambda U_a) / sum_b exp(lambda U_b)`` over the available options, with
    ``U_hold = 0`` always available (McFadden 1974). Unavailable options get probability 0.

    References
    ----------
    McFadden, D. (1974), "Conditional logit analysis of qualitative choice behavior", in
    Zarembka (ed.), Frontiers in Econometrics, Academic Press, 105-142.
    """
    n = utilities.shape[0]
    full = np.zeros((n, 4))
    full[:, 1:] = utilities * intensity
    avail = np.ones((n, 4), dtype=bool)
    avail[:, 1:] = available
    full[~avail] = -np.inf
    top = full.max(axis=1)
    e = np.exp(full - top[:, None])
    total = e[:, 0] + e[:, 1] + e[:, 2] + e[:, 3]
    return e / total[:, None]


def choose(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of one action per row from uniforms ``u`` (one per nation)."""
    cum = np.cumsum(probabilities, axis=1)
    action = (u[:, None] >= cum).sum(axis=1)
    action = np.minimum(action, 3)
    # rounding can leave u above the last cumulative value: fall back to holding
    bad = probabilities[np.arange(len(action)), action] == 0.0
    action[bad] = HOLD
    return action


def logit_decide(
    x: LogitInputs,
    c: LogitCoefficients,
    intensity: float,
    u_choice: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The default rule: returns ``(terms, utilities, probabilities, action)``."""
    terms = logit_terms(x, c)
    util = sum_terms(terms)
    avail = np.stack([x.can_adopt, x.can_mine, x.can_sell], axis=1)
    probs = logit_probabilities(util, avail, intensity)
    return terms, util, probs, choose(probs, u_choice)


def threshold_decide(peer: np.ndarray, phi: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    """Linear threshold rule: adopt iff the adopting share of in-neighbours is at least phi.

    Irreversible; no price, mining or selling. With unit weights ``peer`` is the unweighted
    fraction of neighbours that have adopted, so this is exactly Granovetter's and Watts's
    model.

    References
    ----------
    Granovetter, M. (1978), "Threshold models of collective behavior", American Journal of
    Sociology 83(6): 1420-1443.
    Watts, D. J. (2002), "A simple model of global cascades on random networks", PNAS 99(9):
    5766-5771.
    """
    return np.where(~adopted & (peer >= phi), ADOPT, HOLD)


def bass_decide(
    peer: np.ndarray, p: float, q: float, adopted: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Bass diffusion: a non-adopter adopts this step with probability ``p + q * m``.

    On the complete graph ``m`` is the global share and the expected adopters follow the
    discrete Bass recursion ``N_{t+1} = N_t + (M - N_t) (p + q N_t / M)``.

    References
    ----------
    Bass, F. M. (1969), "A new product growth for model consumer durables", Management
    Science 15(5): 215-227.
    """
    return np.where(~adopted & (u < p + q * peer), ADOPT, HOLD)


def cascade_decide(
    new_neighbours: np.ndarray, transmission: float, adopted: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Independent cascade: each new adopter gets one chance to convert each out-neighbour.

    A non-adopter with ``k`` in-neighbours that adopted in the previous step is converted
    with probability ``1 - (1 - p)^k``: exactly the chance that at least one of the ``k``
    independent attempts succeeds, so one uniform per nation per step suffices.

    References
    ----------
    Kempe, D., Kleinberg, J. and Tardos, E. (2003), "Maximizing the spread of influence
    through a social network", Proc. KDD 2003: 137-146.
    """
    prob = 1.0 - np.power(1.0 - transmission, new_neighbours)
    return np.where(~adopted & (new_neighbours > 0) & (u < prob), ADOPT, HOLD)


def draw_thresholds(
    n: int, rule, rng: np.random.Generator
) -> np.ndarray:  # rule: RuleConfig (annotated loosely to avoid a cycle)
    """Per-nation thresholds: a given list, fixed ``rule.phi``, or a named distribution."""
    if rule.thresholds is not None:
        return np.asarray(rule.thresholds, dtype=float)
    d = rule.threshold_distribution
    if d.kind == "fixed":
        return np.full(n, float(rule.phi))
    if d.kind == "uniform":
        return rng.uniform(d.low, d.high, size=n)
    if d.kind == "normal":
        return np.clip(rng.normal(d.mean, d.sd, size=n), 0.0, None)
    return rng.beta(d.a, d.b, size=n)
