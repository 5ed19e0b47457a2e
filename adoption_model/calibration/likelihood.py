"""Likelihood of the logit decision rule on the observed history; MLE and posterior.

Under the logit rule (docs/ODD.md 7.2) a nation reviews its policy in a month with
probability ``r`` and, if it reviews, chooses among hold and its available options with
multinomial-logit probabilities ``p_a = softmax(lambda U)_a`` (``U_hold = 0``). Neighbours'
states are observed in the panel, so the probability of each observed nation-month is in
closed form::

    P(a) = r * p_a                    for a in {adopt, mine, sell}
    P(hold) = (1 - r) + r * p_hold

and the log-likelihood is the sum over nation-months. The utility terms are computed with
the model's own code: :func:`adoption_model.submodels.decision.logit_inputs` (called on a
read-only view of the panel, so the model's covariate definitions and option availability
apply unchanged) and :func:`adoption_model.submodels.decision.logit_terms`. The utilities
are linear in the coefficients; the design matrix is read off ``logit_terms`` one unit
coefficient at a time, and linearity is checked, so a redefinition of the covariates in the
model flows through without a copy here.

Identification: ``lambda`` multiplies every coefficient, so it is fixed at the model's
default (1) and the coefficients are estimated on that scale. With rare events
``P(a) ~ r exp(c0 + ...)`` so ``log r`` and the three intercepts are confounded; ``r`` is
fixed at the model's default (1/12) and :func:`profile_review` shows how flat the likelihood
is in ``r``. See docs/calibration.md.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from adoption_model.errors import InputError
from adoption_model.scenario import LogitCoefficients, Scenario
from adoption_model.state import institution_codes
from adoption_model.submodels import decision as rules
from adoption_model.submodels import imf, mining
from adoption_model.submodels.signal import Signals

#: Coefficient names in the order of the parameter vector.
NAMES: tuple[str, ...] = tuple(LogitCoefficients.model_fields)
#: Which option each coefficient belongs to.
OPTION_OF = {k: {"a": "adopt", "c": "mine", "s": "sell"}[k[0]] for k in NAMES}
#: Bound on |coefficient| in the unpenalised MLE (an estimate at the bound is separated).
MLE_BOUND = 25.0
#: A coefficient is prior-driven when its posterior sd exceeds this share of its prior sd.
PRIOR_DRIVEN_RATIO = 0.8


# ----------------------------------------------------------------------------- design
class _PanelView:
    """The state :func:`~adoption_model.submodels.decision.logit_inputs` reads (one month).

    Any attribute the model starts reading that the panel does not provide raises an error
    naming it, so a redefinition of the model's inputs cannot be silently ignored.
    """

    def __init__(self, rows: pd.DataFrame, sc: Scenario) -> None:
        self._attrs = dict(
            reserves_usd=rows.reserves_usd.to_numpy(float),
            imports_usd_month=rows.imports_usd_month.to_numpy(float),
            debt_pct_gdp=rows.debt_pct_gdp.to_numpy(float),
            energy_surplus_mw=rows.energy_surplus_mw.to_numpy(float),
            energy_cost_usd_mwh=rows.energy_cost_usd_mwh.to_numpy(float),
            holdings=rows.holdings_btc.to_numpy(float),
            cost_basis_usd=rows.cost_basis_usd.to_numpy(float),
            seized_mandate=rows.seized_sale_mandate.to_numpy(bool),
            reserve=rows.state_reserve.to_numpy(bool),
            mining=rows.state_mining.to_numpy(bool),
            selling=rows.state_selling.to_numpy(bool),
            no_sell=rows.no_sell_pledge.to_numpy(bool),
            # the sale law's term reads seized coins; the one mandate in the panel is
            # Germany's, whose coins were all seized
            seized_btc=rows.holdings_btc.to_numpy(float),
            net_debt_pct_gdp=rows.net_debt_pct_gdp.to_numpy(float),
            **institution_codes(rows),
            sanctions_exposure=rows.sanctions_exposure.to_numpy(float),
            absolute_ban=rows.legal_ban_absolute.to_numpy(bool),
            mining_ban=rows.legal_ban_mining.to_numpy(bool),
        )
        first = rows.iloc[0]
        price = float(first.btc_price_usd)
        months_before = _months_between(str(first.month), sc.start)
        eff = sc.mining.efficiency_j_per_th * (1.0 - sc.mining.efficiency_improvement) ** (
            -months_before / 12.0
        )
        per_th = mining.btc_per_th_month(
            float(first.btc_reward_per_block),
            float(first.btc_blocks),
            float(first.btc_hashrate_ths),
        )
        credit = rows.imf_credit_pct_quota.fillna(0.0).to_numpy(float)
        none = np.zeros(len(rows), dtype=bool)  # adoption signals are not read by the logit
        self.signals = Signals(
            adopted=none,
            adopted_f=none.astype(float),
            n_adopted=0.0,
            new_prev=none.astype(float),
            t=0,
            price=price,
            world_share=float(first.world_share_adopted),
            momentum=math.tanh(float(first.btc_log_return_momentum)),
            revenue_mwh=mining.revenue_per_mwh(per_th, float(first.btc_price_mean_usd), eff),
            imf_stance=sc.imf.stance,
            exposure=imf.exposure(
                credit,
                rows.imf_programme_active.to_numpy(bool),
                sc.imf.exposure_full_at_pct_quota,
                sc.imf.programme_floor,
            ),
            # the panel has no programme schedules: the expected withheld tranche is not
            # observed, so the IMF term is stance x exposure alone
            imf_at_risk=np.zeros(len(rows)),
        )

    def __getattr__(self, name: str) -> Any:
        attrs = self.__dict__.get("_attrs", {})
        if name in attrs:
            return attrs[name]
        raise InputError(
            f"the model's logit_inputs reads {name!r}, which the panel view does not "
            "provide: add it to tools/build_panel.py and calibration/likelihood.py"
        )


def _months_between(a: str, b: str) -> int:
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)


def _coefs(values: dict[str, float]) -> LogitCoefficients:
    return LogitCoefficients(**{k: float(values.get(k, 0.0)) for k in NAMES})


@dataclass
class Design:
    """Everything the likelihood needs, one entry per nation-month.

    ``X[i, o, k]`` is the contribution of coefficient ``k`` (at value 1) to the utility of
    option ``o`` (adopt, mine, sell) in row ``i``; ``avail`` marks available options;
    ``y`` the observed action (0 hold, 1 adopt, 2 mine, 3 sell).
    """

    X: np.ndarray
    avail: np.ndarray
    y: np.ndarray
    iso3: np.ndarray
    month: np.ndarray
    inputs: list[tuple[np.ndarray, rules.LogitInputs]] = field(repr=False, default_factory=list)
    _blocks: list | None = field(repr=False, default=None)

    @property
    def n(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        return {a: int((self.y == i).sum()) for i, a in enumerate(rules.ACTIONS)}


def design_from_panel(panel: pd.DataFrame, scenario: Scenario | None = None) -> Design:
    """Build the design from the panel with the model's own input and term functions."""
    sc = scenario or Scenario()
    panel = panel.sort_values(["month", "iso3"], kind="stable").reset_index(drop=True)
    k = len(NAMES)
    X = np.zeros((len(panel), 3, k))
    avail = np.zeros((len(panel), 3), dtype=bool)
    kept: list[tuple[np.ndarray, rules.LogitInputs]] = []
    zero = _coefs({})
    unit = [_coefs({name: 1.0}) for name in NAMES]
    check = LogitCoefficients()
    for _, rows in panel.groupby("month", sort=True):
        idx = rows.index.to_numpy()
        view = _PanelView(rows, sc)
        peer = rows.peer_adopted.to_numpy(float)
        x = rules.logit_inputs(view, slice(None), peer, view.signals, sc.mining.allocation_share)
        base = rules.sum_terms(rules.logit_terms(x, zero))
        for j, c in enumerate(unit):
            X[idx, :, j] = rules.sum_terms(rules.logit_terms(x, c)) - base
        got = rules.sum_terms(rules.logit_terms(x, check))
        want = base + X[idx] @ np.array([getattr(check, n) for n in NAMES])
        if np.any(base != 0.0) or not np.allclose(got, want, rtol=1e-9, atol=1e-9):
            raise InputError(
                "rules.logit_terms is no longer linear in the coefficients with zero offset: "
                "calibration/likelihood.py needs a non-linear design"
            )
        avail[idx] = np.stack([x.can_adopt, x.can_mine, x.can_sell], axis=1)
        kept.append((idx, x))
    y = panel.action_code.to_numpy(np.int64)
    bad = (y > 0) & ~avail[np.arange(len(y)), np.maximum(y - 1, 0)]
    if bad.any():
        first = panel.loc[np.flatnonzero(bad)[0]]
        raise InputError(
            f"panel: {first.iso3} {first.month} action {first.action!r} is not available "
            "under the model's rule (state and action disagree)"
        )
    return Design(X, avail, y, panel.iso3.to_numpy(), panel.month.to_numpy(), kept)


# ----------------------------------------------------------------------------- likelihood
#: Utilities are clipped here before exponentiation (no overflow for any parameter value).
_U_MAX = 700.0


def _option_blocks(design: Design) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per option: rows where it is available, the coefficients it uses, their inputs."""
    if design._blocks is None:
        blocks = []
        for o in range(3):
            rows = np.flatnonzero(design.avail[:, o])
            used = np.any(design.X[rows, o, :] != 0.0, axis=0)
            used |= np.array([OPTION_OF[n] == ("adopt", "mine", "sell")[o] for n in NAMES])
            cols = np.flatnonzero(used)
            blocks.append((rows, cols, np.ascontiguousarray(design.X[rows, o][:, cols])))
        design._blocks = blocks
    return design._blocks


def _utility(xo: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``xo @ b`` as a sum of columns: the inner dimension is a handful of coefficients, for
    which elementwise arithmetic beats a (threaded) BLAS call on a busy machine."""
    if b.ndim == 1:
        return xo @ b
    u = xo[:, 0, None] * b[0]
    for j in range(1, xo.shape[1]):
        u += xo[:, j, None] * b[j]
    return u


def _exp_utilities(design: Design, beta: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """exp(U) of each available option (per block) and the sum S over options, (N[, B])."""
    shape = (design.n,) if beta.ndim == 1 else (design.n, beta.shape[1])
    total = np.zeros(shape)
    exps = []
    for rows, cols, xo in _option_blocks(design):
        e = np.exp(np.minimum(_utility(xo, beta[cols]), _U_MAX))
        if len(rows) == design.n:
            total += e
        else:
            total[rows] += e
        exps.append(e)
    return exps, total


def loglik_rows(design: Design, beta: np.ndarray, review: float) -> np.ndarray:
    """Log-likelihood of every nation-month, shape (N,) (or (N, B) for B parameter rows).

    ``P(hold) = 1 - r S / (1 + S)`` and ``P(a) = r exp(U_a) / (1 + S)`` with ``S`` the sum
    of ``exp(U)`` over the available options (``U_hold = 0``).
    """
    beta = np.asarray(beta, float)
    b = beta.T if beta.ndim == 2 else beta
    exps, total = _exp_utilities(design, b)
    log_den = np.log1p(total)
    out = np.log1p(-review * total / (1.0 + total))
    for o, (rows, cols, xo) in enumerate(_option_blocks(design)):
        hit = design.y[rows] == o + 1
        if hit.any():
            r_hit = rows[hit]
            u = np.minimum(_utility(xo[hit], b[cols]), _U_MAX)
            out[r_hit] = math.log(review) + u - log_den[r_hit]
    return out


def loglik(design: Design, beta: np.ndarray, review: float) -> float | np.ndarray:
    """Total log-likelihood (a float, or one per row of a (B, K) array)."""
    return loglik_rows(design, beta, review).sum(axis=0)


def score(design: Design, beta: np.ndarray, review: float) -> np.ndarray:
    """Analytic gradient of the log-likelihood, shape (K,).

    Row weight of option ``o``: ``1[y = o] - c p_o`` with ``p_o = exp(U_o) / (1 + S)`` and
    ``c = 1`` for an observed action, ``c = r p_hold / P(hold)`` for an observed hold.
    """
    beta = np.asarray(beta, float)
    exps, total = _exp_utilities(design, beta)
    den = 1.0 + total
    p_hold = 1.0 / den
    c = np.where(design.y == 0, review * p_hold / (1.0 - review * total / den), 1.0)
    g = np.zeros(len(beta))
    for o, ((rows, cols, xo), e) in enumerate(zip(_option_blocks(design), exps, strict=True)):
        w = (design.y[rows] == o + 1) - c[rows] * e / den[rows]
        g[cols] += xo.T @ w
    return g


def hessian(design: Design, beta: np.ndarray, review: float, penalty=None) -> np.ndarray:
    """Numerical Hessian of the log-likelihood (central differences of the score)."""
    k = len(beta)
    h = np.zeros((k, k))
    for j in range(k):
        step = 1e-4 * max(1.0, abs(beta[j]))
        e = np.zeros(k)
        e[j] = step
        gp, gm = score(design, beta + e, review), score(design, beta - e, review)
        if penalty is not None:
            gp, gm = gp + penalty.grad(beta + e), gm + penalty.grad(beta - e)
        h[:, j] = (gp - gm) / (2 * step)
    return 0.5 * (h + h.T)


# ----------------------------------------------------------------------------- priors
def handset() -> dict[str, float]:
    """The hand-set coefficients of earlier versions (the priors' centres)."""
    from adoption_model.data import logit_fit

    return {n: float(logit_fit()["handset"][n]) for n in NAMES}


@dataclass(frozen=True)
class Prior:
    """Independent normal priors on the coefficients (means and standard deviations)."""

    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def default(cls) -> Prior:
        """Means: the hand-set values (``logit_fit.toml [handset]``, the documented
        judgements of docs/ODD.md 7.2); sd 2.5 for slopes, 3 for intercepts.

        Every input of the utilities lies in [0, 1] or [-1, 1], so a normal with sd 2.5 is
        the weakly informative scale of Gelman et al. (2008) for logistic regression
        coefficients of unit-range inputs: it allows odds ratios up to e^5 ~ 150 within two
        sd while keeping estimates finite under separation. Centring on the defaults makes
        a coefficient the data cannot move keep the documented judgement, with its
        uncertainty. Intercepts (a0, c0, s0) get sd 3 around the defaults, covering base
        rates from about 1e-5 to 0.05 per review.
        """
        hand = handset()
        mean = np.array([hand[n] for n in NAMES])
        sd = np.array([3.0 if n in ("a0", "c0", "s0") else 2.5 for n in NAMES])
        return cls(mean, sd)

    def logpdf(self, beta: np.ndarray) -> np.ndarray:
        z = (np.asarray(beta) - self.mean) / self.sd
        return -0.5 * (z**2).sum(axis=-1) - np.log(self.sd * math.sqrt(2 * math.pi)).sum()

    def grad(self, beta: np.ndarray) -> np.ndarray:
        return -(np.asarray(beta) - self.mean) / self.sd**2


# ----------------------------------------------------------------------------- estimation
@dataclass
class Fit:
    """A point estimate with its covariance and diagnostics."""

    kind: str
    beta: np.ndarray
    se: np.ndarray
    loglik: float
    converged: bool
    at_bound: np.ndarray
    seconds: float
    review: float
    message: str = ""

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "coefficient": NAMES,
                "option": [OPTION_OF[n] for n in NAMES],
                "estimate": self.beta,
                "se": self.se,
                "at_bound": self.at_bound,
            }
        )


def _fit(
    design: Design, review: float, prior: Prior | None, start: np.ndarray | None, kind: str
) -> Fit:
    t0 = time.perf_counter()
    k = len(NAMES)
    x0 = np.zeros(k) if start is None else np.asarray(start, float)

    def f(b: np.ndarray) -> tuple[float, np.ndarray]:
        val, g = loglik(design, b, review), score(design, b, review)
        if prior is not None:
            val, g = val + prior.logpdf(b), g + prior.grad(b)
        return -float(val), -g

    bounds = None if prior is not None else [(-MLE_BOUND, MLE_BOUND)] * k
    res = optimize.minimize(
        f, x0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 5000}
    )
    beta = res.x
    h = hessian(design, beta, review, prior)
    info = -h
    at_bound = np.abs(beta) >= 0.999 * MLE_BOUND if prior is None else np.zeros(k, bool)
    se = np.full(k, np.nan)
    free = ~at_bound & (np.abs(np.diag(info)) > 1e-10)
    if free.any():
        sub = info[np.ix_(free, free)]
        w, v = np.linalg.eigh(sub)
        if w.min() > 1e-10 * max(1.0, w.max()):
            se[free] = np.sqrt(np.diag(v @ np.diag(1.0 / w) @ v.T))
    return Fit(
        kind=kind,
        beta=beta,
        se=se,
        loglik=float(loglik(design, beta, review)),
        converged=bool(res.success),
        at_bound=at_bound,
        seconds=time.perf_counter() - t0,
        review=review,
        message=str(res.message),
    )


def fit_mle(design: Design, review: float | None = None, start=None) -> Fit:
    """Maximum likelihood (no prior). Coefficients at +-:data:`MLE_BOUND` are separated."""
    r = Scenario().rule.review_probability if review is None else review
    return _fit(design, r, None, start, "mle")


def fit_map(design: Design, prior: Prior | None = None, review: float | None = None) -> Fit:
    """Posterior mode under ``prior`` (default :meth:`Prior.default`), Laplace SEs."""
    r = Scenario().rule.review_probability if review is None else review
    prior = prior or Prior.default()
    return _fit(design, r, prior, prior.mean, "map")


def profile_review(design: Design, values=(1 / 36, 1 / 24, 1 / 12, 1 / 6, 1 / 3, 2 / 3)):
    """Maximised penalised log-likelihood for several fixed review probabilities."""
    out = []
    prior = Prior.default()
    for r in values:
        fit = _fit(design, r, prior, prior.mean, "map")
        out.append({"review": r, "loglik": fit.loglik, "a0": fit.beta[NAMES.index("a0")]})
    return pd.DataFrame(out)


@dataclass
class Posterior:
    """An emcee sample of the coefficients with diagnostics."""

    sample: np.ndarray  # (draws, K)
    acceptance: float
    tau: np.ndarray
    ess: np.ndarray
    walkers: int
    steps: int
    burn: int
    seconds: float
    prior: Prior
    seed: int

    def table(self, mle: Fit | None = None) -> pd.DataFrame:
        s = self.sample
        sd = s.std(axis=0, ddof=1)
        frame = pd.DataFrame(
            {
                "coefficient": NAMES,
                "option": [OPTION_OF[n] for n in NAMES],
                "prior_mean": self.prior.mean,
                "prior_sd": self.prior.sd,
                "post_mean": s.mean(axis=0),
                "post_sd": sd,
                "q05": np.quantile(s, 0.05, axis=0),
                "q95": np.quantile(s, 0.95, axis=0),
                "sd_ratio": sd / self.prior.sd,
                "ess": self.ess,
            }
        )
        frame["prior_driven"] = frame.sd_ratio > PRIOR_DRIVEN_RATIO
        if mle is not None:
            frame.insert(4, "mle", mle.beta)
            frame.insert(5, "mle_se", mle.se)
        return frame


def sample_posterior(
    design: Design,
    prior: Prior | None = None,
    review: float | None = None,
    walkers: int = 40,
    steps: int = 1500,
    burn: int = 500,
    seed: int = 0,
    start: Fit | None = None,
    progress: Any = None,
) -> Posterior:
    """Affine-invariant ensemble MCMC (emcee; Foreman-Mackey et al. 2013) of the posterior.

    Reproducible from ``seed`` (a sampler-owned RandomState; no global random state).
    Walkers start in a small ball around the posterior mode. ``progress``, if given, is
    called as ``progress(step)`` after every step.
    """
    try:
        import emcee
    except ImportError:  # pragma: no cover - the [calibrate] extra
        raise InputError(
            "the posterior needs emcee: pip install 'adoption-model[calibrate]'"
        ) from None
    t0 = time.perf_counter()
    r = Scenario().rule.review_probability if review is None else review
    prior = prior or Prior.default()
    mode = start or fit_map(design, prior, r)
    k = len(NAMES)

    def logp(b: np.ndarray) -> np.ndarray:
        return loglik(design, b, r) + prior.logpdf(b)

    rng = np.random.default_rng(seed)
    scale = np.where(np.isfinite(mode.se), mode.se, prior.sd) * 0.1
    p0 = mode.beta + scale * rng.standard_normal((walkers, k))
    sampler = emcee.EnsembleSampler(walkers, k, logp, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    for i, _ in enumerate(sampler.sample(p0, iterations=steps)):
        if progress is not None:
            progress(i + 1)
    chain = sampler.get_chain(discard=burn, flat=True)
    tau = sampler.get_autocorr_time(discard=burn, tol=0, quiet=True)
    ess = walkers * (steps - burn) / np.maximum(tau, 1.0)
    return Posterior(
        sample=chain,
        acceptance=float(np.mean(sampler.acceptance_fraction)),
        tau=tau,
        ess=ess,
        walkers=walkers,
        steps=steps,
        burn=burn,
        seconds=time.perf_counter() - t0,
        prior=prior,
        seed=seed,
    )


def identification(design: Design) -> pd.DataFrame:
    """Per coefficient: events of its option, rows at risk and whether its input varies."""
    rows = []
    for j, name in enumerate(NAMES):
        o = ("adopt", "mine", "sell").index(OPTION_OF[name])
        at_risk = design.avail[:, o]
        col = design.X[at_risk, o, j]
        rows.append(
            {
                "coefficient": name,
                "events": int((design.y == o + 1).sum()),
                "rows_at_risk": int(at_risk.sum()),
                "input_sd": float(col.std()) if col.size else 0.0,
                "input_nonzero": int(np.count_nonzero(col)),
            }
        )
    return pd.DataFrame(rows)
