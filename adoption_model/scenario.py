"""Scenario files: a validated, fully defaulted description of one simulation.

A scenario is a TOML file validated by the pydantic models below. Every key has a default,
so an empty file is the baseline; a key that is misspelt, out of range or of the wrong type
is refused with one line naming its dotted path, what was wrong and the fix, for example::

    rule.kind: 'treshold' is not one of logit, threshold, bass, cascade (did you mean 'threshold'?)

Bundled scenarios (``adoption_model/scenarios/*.toml``, package data) load by name;
overrides use the same dotted paths as the CLI's ``--set``
(``{"rule.kind": "threshold", "network.n": 1000}``).

The defaults and their rationale are documented in ``docs/ODD.md``; the commented
``adoption_model/scenarios/baseline.toml`` repeats them key by key.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import numpy as np
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adoption_model.data import imf_programme_defaults
from adoption_model.errors import InputError, did_you_mean
from adoption_model.market import mining_defaults, price_defaults

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
NonNeg = Annotated[float, Field(ge=0.0)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]

#: Longest list a scenario may hold (one threshold per node of the largest graph).
MAX_NODES = 5_000_000
#: Longest run a scenario may ask for (months).
MAX_STEPS = 100_000
#: Largest seed (numpy's SeedSequence takes any non-negative int; 2**63 - 1 fits int64 columns).
MAX_SEED = 2**63 - 1
#: Edge ends (sum of degrees) a synthetic graph may have: about 3 GB of sparse matrix.
MAX_EDGE_ENDS = 200_000_000
#: |log price| (and log hashrate) a run may reach before floats lose it (exp(709) is the limit).
MAX_LOG = 690.0


def _interval(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    lo = f"[{ge:g}" if ge is not None else f"({gt:g}" if gt is not None else "(-inf"
    hi = f"{le:g}]" if le is not None else f"{lt:g})" if lt is not None else "inf)"
    return f"{lo}, {hi}"


def P(  # noqa: N802 - reads as a declaration, like Field
    default: Any = ...,
    description: str = "",
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    **kwargs: Any,
) -> Any:
    """A numeric :func:`pydantic.Field` whose description ends with its range, ``[0, 1]``.

    The range is what the validator enforces; docs and ``--help`` show it from here.
    """
    text = f"{description}; range {_interval(ge, gt, le, lt)}".lstrip("; ")
    return Field(default, ge=ge, gt=gt, le=le, lt=lt, description=text, **kwargs)


def Prob_(default: Any = ..., description: str = "", **kwargs: Any) -> Any:  # noqa: N802
    """A probability or share: :func:`P` with range [0, 1]."""
    return P(default, description, ge=0.0, le=1.0, **kwargs)


class ConfigModel(BaseModel):
    """A strict configuration table: unknown keys are errors, assignments are validated.

    The root models (:class:`Scenario`, and the experiment file's model) also get a plain
    dict, TOML and a digest of their resolved content from here.
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _plain_numbers(cls, v: Any) -> Any:
        """numpy scalars (from designs and arrays) count as the Python numbers they hold."""
        if isinstance(v, np.generic):
            return v.item()
        return v

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every key (None values dropped, as TOML has no null)."""
        return _drop_none(self.model_dump(mode="json"))

    def to_toml(self) -> str:
        """Every key, defaults included, as TOML text."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """A short SHA-256 (16 hex) of the resolved content (what a run or store used)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


_Strict = ConfigModel


_LAYERS_KEY = "network.layers"


class LayerWeights(BaseModel):
    """Weights and settings of the layers of the real influence graph.

    Every layer weight is the attention a nation pays to that channel relative to the
    others (each layer is normalised per nation before weighting; see
    :mod:`adoption_model.network.real`). A weight of 0 switches the layer off.

    Parameters
    ----------
    border : float, default 1.0
        Weight of the land-border layer (>= 0).
    bloc : float, default 0.5
        Weight of the shared-bloc layer (>= 0). Within the layer, a partner's tie grows
        with the number of blocs shared (see ``bloc_cap``).
    gravity : float, default 1.0
        Weight of the economic-gravity layer ``GDP_i GDP_j / d**gravity_distance_power``
        (>= 0).
    benchmark : float, default 0.5
        Weight of the size-weighted tie to the largest economies (>= 0).
    benchmark_top : int, default 10
        How many of the largest economies (by GDP) are benchmarks (>= 1).
    gravity_top_k : int, default 10
        Keep each nation's ``gravity_top_k`` strongest gravity partners (>= 0; 0 keeps
        all). The kept shares are re-normalised to sum to 1.
    gravity_distance_power : float, default 2.0
        Exponent of distance in the gravity equation (>= 0; 2 as in Tinbergen 1962; empirical
        trade gravity estimates are nearer 1).
    bloc_cap : int, default 0
        Count at most this many shared blocs per pair (>= 0; 0 means no cap).

    Raises
    ------
    pydantic.ValidationError
        For a negative, non-finite or non-numeric value or an unknown key. Inside a
        scenario the error carries the full key path (``network.layers.border``);
        :func:`as_layer_weights` (used by
        :func:`~adoption_model.network.real_network`) turns it into the same one-line
        :class:`~adoption_model.errors.InputError` a scenario gives.

    Examples
    --------
    >>> LayerWeights(border=2.0).border
    2.0
    >>> as_layer_weights({"border": -1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adoption_model.errors.InputError: network.layers.border: -1 is out of range; must be >= 0.0
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    border: float = Field(1.0, ge=0, description="weight of the land-border layer")
    bloc: float = Field(0.5, ge=0, description="weight of the shared-bloc layer")
    gravity: float = Field(1.0, ge=0, description="weight of the economic-gravity layer")
    benchmark: float = Field(0.5, ge=0, description="weight of the tie to the largest economies")
    benchmark_top: int = Field(10, ge=1, description="number of benchmark economies")
    gravity_top_k: int = Field(10, ge=0, description="gravity partners kept per nation (0: all)")
    gravity_distance_power: float = Field(2.0, ge=0, description="exponent of distance")
    bloc_cap: int = Field(0, ge=0, description="max shared blocs counted per pair (0: no cap)")

    @field_validator("benchmark_top", "gravity_top_k", "bloc_cap", mode="before")
    @classmethod
    def _whole_float_to_int(cls, v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v


def as_layer_weights(weights: LayerWeights | Mapping[str, Any] | None) -> LayerWeights:
    """Validate ``weights`` into a :class:`LayerWeights`.

    Parameters
    ----------
    weights : LayerWeights, mapping or None
        ``None`` gives the defaults; a mapping (e.g. the ``[network.layers]`` table of a
        scenario) is validated key by key.

    Returns
    -------
    LayerWeights

    Raises
    ------
    InputError
        One line naming the offending key, e.g. ``network.layers.bloc: must be >= 0, got -2``.

    Examples
    --------
    >>> as_layer_weights({"gravity": 0}).gravity
    0.0
    >>> as_layer_weights({"bordr": 1})
    Traceback (most recent call last):
    ...
    adoption_model.errors.InputError: network.layers.bordr: unknown key; did you mean border?
    """
    if weights is None:
        return LayerWeights()
    if isinstance(weights, LayerWeights):
        return weights
    if isinstance(weights, BaseModel):
        weights = weights.model_dump()
    if not isinstance(weights, Mapping):
        raise InputError(
            f"{_LAYERS_KEY}: must be a table of layer weights such as "
            f"{{'border': 1.0, 'gravity': 1.0}}, got {type(weights).__name__}"
        )
    bad = [k for k in weights if not isinstance(k, str)]
    if bad:
        raise InputError(f"{_LAYERS_KEY}: keys must be layer names, got {bad[0]!r}")
    try:
        return LayerWeights.model_validate(dict(weights))
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, "", LayerWeights, _LAYERS_KEY)) from None


class NetworkConfig(_Strict):
    """Which influence graph the nations sit on."""

    kind: Literal[
        "real", "erdos_renyi", "barabasi_albert", "watts_strogatz", "ring", "complete"
    ] = "real"
    n: int = P(1000, "nodes of a synthetic graph", ge=2, le=MAX_NODES)
    mean_degree: float = P(6.0, "erdos_renyi: expected degree (at most n - 1)", ge=0.0, le=1e4)
    m: int = P(2, "barabasi_albert: edges of each new node (below n)", ge=1, le=1000)
    k: int = P(4, "ring, watts_strogatz: neighbours of each node (below n)", ge=2, le=1000)
    p: Prob = Prob_(0.1, "watts_strogatz: rewiring probability")
    attributes: Literal["sample", "constant"] = "sample"
    layers: LayerWeights = Field(default_factory=LayerWeights)
    allow_isolated: bool = False

    @model_validator(mode="after")
    def _size(self) -> NetworkConfig:
        if self.kind == "real":
            return self
        if self.kind == "erdos_renyi" and self.mean_degree > self.n - 1:
            raise ValueError(
                f"network.mean_degree: {self.mean_degree:g} exceeds n - 1 = {self.n - 1}; "
                "lower it or raise network.n"
            )
        if self.kind == "barabasi_albert" and self.m >= self.n:
            raise ValueError(f"network.m: {self.m} must be below network.n = {self.n}")
        if self.kind in ("ring", "watts_strogatz") and self.k >= self.n:
            raise ValueError(f"network.k: {self.k} must be below network.n = {self.n}")
        ends = self.edge_ends()
        if ends > MAX_EDGE_ENDS:
            raise ValueError(
                f"network: {self.kind} with n = {self.n} has about {ends:.3g} edge ends "
                f"(memory about {ends * 16 / 1e9:.0f} GB); at most {MAX_EDGE_ENDS:.0e}: "
                "lower network.n or the degree"
            )
        return self

    def edge_ends(self) -> float:
        """Expected sum of degrees of a synthetic graph (0 for the mean-field complete graph)."""
        return {
            "erdos_renyi": self.n * self.mean_degree,
            "barabasi_albert": 2.0 * self.n * self.m,
            "watts_strogatz": float(self.n * self.k),
            "ring": float(self.n * self.k),
        }.get(self.kind, 0.0)


_COEF = P  # utility coefficients share one range: |coef| <= 1000
_C = {"ge": -1000.0, "le": 1000.0}


def _coef(name: str) -> float:
    """The shipped estimate of a coefficient; its hand-set value until one is estimated."""
    from adoption_model.data import logit_fit

    fit = logit_fit()
    return float(fit["estimate"].get(name, fit["handset"][name]))


class LogitCoefficients(_Strict):
    """Coefficients of the multinomial-logit utilities (docs/ODD.md section 7.2).

    ``U_hold = 0``; the three other options sum named terms
    (see :mod:`adoption_model.submodels.decision`). Defaults are the shipped estimates in
    ``adoption_model/data/logit_fit.toml`` (``[estimate]``: the posterior means of
    ``adoption-model calibrate --ship`` on the 2015-2025 panel, docs/calibration.md); the
    hand-set values (``[handset]``, the descriptions below say how they were set) are the
    priors' centres and the scenario ``handset_coefficients``. Every coefficient is in
    [-1000, 1000] (utilities beyond that saturate the logit anyway).
    """

    a0: float = _COEF(
        _coef("a0"),
        "adopt: intercept; calibrated: 0.6 expected reserve starts a year in the "
        "2025-06 world before contagion (2019-2025: about 0.5 a year)",
        **_C,
    )
    a_fx: float = _COEF(
        _coef("a_fx"),
        "adopt: FX-reserve stress (import cover below 3 months, credit-constrained "
        "and emerging economies only, unions at the union level); assumed",
        **_C,
    )
    a_debt: float = _COEF(
        _coef("a_debt"),
        "adopt: debt stress (net debt against the class benchmark: none for "
        "reserve issuers and own-currency advanced economies); assumed",
        **_C,
    )
    a_peer: float = _COEF(_coef("a_peer"), "adopt: neighbours that adopted", **_C)
    a_world: float = _COEF(_coef("a_world"), "adopt: world adoption (GDP-weighted)", **_C)
    a_mom: float = _COEF(_coef("a_mom"), "adopt: BTC price momentum", **_C)
    a_imf: float = _COEF(_coef("a_imf"), "adopt: IMF pressure (subtracted)", **_C)
    a_sanctions: float = _COEF(
        _coef("a_sanctions"),
        "adopt: sanctions exposure (1 = reserves frozen or comprehensive "
        "sanctions). Assumed: sanctions raise the share of reserves held outside Western "
        "jurisdictions (Arslanalp, Eichengreen & Simpson-Bell 2023 on gold; Ferranti 2025 "
        "on sanctions risk and a gold/BTC share); e^1.5 ~ 4.5 times the odds. Not "
        "estimable: no sanctioned state started a reserve or state mining in the 2015-2025 "
        "panel",
        **_C,
    )
    c0: float = _COEF(
        _coef("c0"),
        "mine: intercept; calibrated: 0.35 expected mining starts a year in the "
        "2025-06 world (2019-2025: about 0.3 a year)",
        **_C,
    )
    c_margin: float = _COEF(_coef("c_margin"), "mine: mining margin", **_C)
    c_peer: float = _COEF(_coef("c_peer"), "mine: neighbours that adopted", **_C)
    c_imf: float = _COEF(_coef("c_imf"), "mine: IMF pressure (subtracted)", **_C)
    c_sanctions: float = _COEF(
        _coef("c_sanctions"),
        "mine: sanctions exposure. Assumed: mining turns domestic power into a "
        "reserve asset outside the reach of sanctions (Iran licensed mining on tariffed "
        "power 2019 and pays imports in crypto; Russia's 2024 law allows mined coins in "
        "foreign trade); smaller than a_sanctions because it needs surplus power",
        **_C,
    )
    s0: float = _COEF(_coef("s0"), "sell: intercept", **_C)
    s_debt: float = _COEF(_coef("s_debt"), "sell: debt stress", **_C)
    s_gain: float = _COEF(_coef("s_gain"), "sell: unrealised gain", **_C)
    s_imf: float = _COEF(_coef("s_imf"), "sell: IMF pressure", **_C)
    s_law: float = _COEF(_coef("s_law"), "sell: seized-asset sale law", **_C)
    s_peer: float = _COEF(_coef("s_peer"), "sell: neighbours that adopted (subtracted)", **_C)


class ThresholdDistribution(_Strict):
    """Distribution of per-nation thresholds when ``rule.phi`` is not used."""

    kind: Literal["fixed", "uniform", "normal", "beta"] = "fixed"
    low: float = P(0.0, "uniform: lowest threshold", ge=0.0, le=1.0)
    high: float = P(1.0, "uniform: highest threshold (at least low)", ge=0.0, le=1.0)
    mean: float = P(0.18, "normal: mean threshold", ge=0.0, le=1.0)
    sd: float = P(0.05, "normal: standard deviation", ge=0.0, le=1.0)
    a: float = P(2.0, "beta: first shape", gt=0.0, le=1000.0)
    b: float = P(8.0, "beta: second shape", gt=0.0, le=1000.0)

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdDistribution:
        if self.low > self.high:
            raise ValueError(
                f"rule.threshold_distribution.low: {self.low:g} is above high "
                f"({self.high:g}); swap them"
            )
        return self


Threshold = Annotated[float, Field(ge=0.0, allow_inf_nan=True)]


#: Bass (1969) coefficients are annual in the literature (Sultan, Farley & Lehmann 1990: mean
#: p = 0.03, q = 0.38 a year); the model steps monthly. The innovation hazard is converted
#: exactly, the per-month probability with the same one-year survival,
#: ``p_m = 1 - (1 - p)^(1/12)``; the imitation coefficient to first order, ``q_m = q / 12``
#: (the Euler step of the continuous Bass equation dF/dt = (p + qF)(1 - F) with dt = 1/12).
BASS_P_YEAR, BASS_Q_YEAR = 0.03, 0.38
BASS_P_MONTH = 1.0 - (1.0 - BASS_P_YEAR) ** (1.0 / 12.0)
BASS_Q_MONTH = BASS_Q_YEAR / 12.0


class RuleConfig(_Strict):
    """The decision rule and its parameters."""

    kind: Literal["logit", "threshold", "bass", "cascade"] = "logit"
    review_probability: Prob = Prob_(
        1.0 / 12.0, "logit: probability a nation reviews its policy in a month"
    )
    choice_intensity: NonNeg = P(1.0, "logit: lambda", ge=0.0, le=100.0)
    coef: LogitCoefficients = Field(default_factory=LogitCoefficients)
    phi: Prob = Prob_(0.18, "threshold: every nation's threshold (fixed distribution)")
    thresholds: list[Threshold] | None = Field(
        None,
        max_length=MAX_NODES,
        description="threshold: one threshold per node, each in [0, 1] or inf (never adopts)",
    )
    threshold_distribution: ThresholdDistribution = Field(default_factory=ThresholdDistribution)
    p: Prob = Prob_(
        BASS_P_MONTH, "bass: innovation probability per step (annual 0.03 converted, see ODD 7.2)"
    )
    q: NonNeg = P(
        BASS_Q_MONTH,
        "bass: imitation coefficient per step (annual 0.38 converted, see ODD 7.2)",
        ge=0.0,
        le=100.0,
    )
    transmission: Prob = Prob_(0.1, "cascade: chance a new adopter converts a neighbour")

    @field_validator("thresholds")
    @classmethod
    def _thresholds_in_range(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            for i, t in enumerate(v):
                if not (0.0 <= t <= 1.0 or t == float("inf")):
                    raise ValueError(f"thresholds[{i}] = {t} must be in [0, 1] or inf")
        return v


NationKey = (
    Annotated[str, Field(min_length=1, max_length=100)] | Annotated[int, Field(ge=0, le=MAX_NODES)]
)


class InitialConfig(_Strict):
    """Who has adopted at step 0."""

    from_data: bool | None = Field(
        None, description="use the data's starting state (default: yes on the real graph)"
    )
    from_panel: Month | None = Field(
        None,
        description="start from the historical panel's observed state at the end of this "
        "month (policy states, holdings, covariates as known then); needs start = this month",
    )
    adopters: list[NationKey] = Field(default_factory=list, max_length=MAX_NODES)
    seed_count: int = P(0, "random extra adopters at step 0", ge=0, le=MAX_NODES)
    seed_fraction: Prob = Prob_(0.0, "share of nodes seeded at random at step 0")


class PriceConfig(_Strict):
    """The BTC price process (annualised drift and volatility; monthly steps).

    Defaults are fitted to the 2014-2025 monthly series (``adoption_model/market.py``,
    docs/market.md): the GBM's volatility by maximum likelihood, its drift re-centred to an
    assumed long-run growth; the two-regime process likewise. The hand-set GBM of earlier
    versions is drift 0.25, volatility 0.55 (scenario ``price_handset``).
    """

    process: Literal["gbm", "regime", "path"] = "gbm"
    initial: float = P(105_000.0, "USD per BTC at the start month", gt=0, le=1e12)
    drift: float = P(
        price_defaults()["drift"],
        "annual drift of the GBM (median growth is drift - vol^2/2)",
        ge=-10.0,
        le=10.0,
    )
    volatility: NonNeg = P(
        price_defaults()["volatility"], "annual volatility of the GBM", ge=0.0, le=5.0
    )
    regime_drift: list[Annotated[float, Field(ge=-10.0, le=10.0)]] = Field(
        default_factory=lambda: price_defaults()["regime_drift"],
        max_length=100,
        description="regime: annual drift of each regime; each in [-10, 10]",
    )
    regime_volatility: list[Annotated[float, Field(ge=0.0, le=5.0)]] = Field(
        default_factory=lambda: price_defaults()["regime_volatility"],
        max_length=100,
        description="regime: annual volatility of each regime; each in [0, 5]",
    )
    regime_switch: list[Prob] = Field(
        default_factory=lambda: price_defaults()["regime_switch"],
        max_length=100,
        description="regime: monthly probability of leaving each regime; each in [0, 1]",
    )
    path: list[Annotated[float, Field(gt=0, le=1e12)]] = Field(
        default_factory=list,
        max_length=MAX_STEPS,
        description="given monthly prices for steps 1..len(path); each in (0, 1e12]",
    )
    history: list[Annotated[float, Field(gt=0, le=1e12)]] = Field(
        default_factory=list,
        max_length=MAX_STEPS,
        description="prices of the months before the start, oldest first (momentum only)",
    )
    kappa: NonNeg = P(
        3.5,
        "price impact of net sovereign buying (d ln P per BTC / free float)",
        ge=0.0,
        le=1000.0,
    )
    free_float_btc: float = P(14_000_000.0, "BTC available to buyers", gt=0, le=1e9)
    momentum_months: int = P(6, "months of the momentum signal", ge=1, le=1200)

    @model_validator(mode="after")
    def _regimes_consistent(self) -> PriceConfig:
        if not (len(self.regime_drift) == len(self.regime_volatility) == len(self.regime_switch)):
            raise ValueError(
                "regime_drift, regime_volatility and regime_switch need the same length"
            )
        if self.process == "regime" and not self.regime_drift:
            raise ValueError(
                "process 'regime' needs at least one regime in price.regime_drift, "
                "regime_volatility and regime_switch"
            )
        if self.process == "path" and not self.path:
            raise ValueError("process 'path' needs price.path (a list of monthly prices)")
        return self

    def max_log_growth(self) -> tuple[float, float]:
        """Largest annual |drift - vol^2/2| and largest volatility of the processes in use."""
        pairs = [(self.drift, self.volatility)]
        if self.process == "regime":
            pairs = list(zip(self.regime_drift, self.regime_volatility, strict=True))
        return max(abs(mu - 0.5 * s * s) for mu, s in pairs), max(s for _, s in pairs)


class MiningConfig(_Strict):
    """Mining economics (Bitcoin protocol constants and network assumptions)."""

    efficiency_j_per_th: float = P(22.0, "fleet efficiency, J/TH", gt=0, le=1e4)
    network_hashrate_ehs: float = P(900.0, "EH/s at the start month", gt=0, le=1e9)
    hashrate_model: Literal["market", "exogenous"] = Field(
        "market", description="market: hashrate follows the hashprice (free entry); exogenous"
    )
    hashrate_growth: float = P(
        0.20, "exogenous model: annual growth of non-sovereign hashrate", gt=-1.0, le=10.0
    )
    hashrate_response: NonNeg = P(
        mining_defaults()["hashrate_response"],
        "market: monthly hashrate growth per log point of hashprice above break-even",
        ge=0.0,
        le=10.0,
    )
    hashrate_persistence: float = P(
        mining_defaults()["hashrate_persistence"],
        "market: share of last month's hashrate growth carried into this month",
        ge=0,
        lt=1,
    )
    hashrate_lag_months: int = P(
        mining_defaults()["hashrate_lag_months"],
        "market: months between the hashprice and the hashrate it brings",
        ge=1,
        le=120,
    )
    breakeven_usd_per_mwh: float = P(
        mining_defaults()["breakeven_usd_per_mwh"],
        "market: all-in revenue per MWh private miners need (free-entry level)",
        gt=0,
        le=1e6,
    )
    efficiency_improvement: float = P(
        0.10, "annual fall of fleet J/TH (machines get better)", ge=0, lt=1
    )
    fees_btc_per_block: NonNeg = P(0.03, "fees per block, BTC", ge=0.0, le=100.0)
    subsidy_btc: float = P(3.125, "block subsidy at the start month, BTC", gt=0, le=50.0)
    halvings: list[Month] = Field(default_factory=lambda: ["2028-04", "2032-04"], max_length=100)
    blocks_per_month: float = P(4383.0, "blocks mined per month", gt=0, le=1e6)
    circulating_supply_btc: float = P(19_880_000.0, "BTC in circulation at start", gt=0, le=1e9)
    allocation_share: Prob = Prob_(1.0, "share of surplus MW a new miner allocates")
    stop_after_months: int = P(6, "months of negative margin before stopping", ge=1, le=1200)


class AdoptionConfig(_Strict):
    """How a reserve is built once adopted: the target share and the pace (ODD 7.4).

    The target BTC share of reserves (FX reserves plus BTC at market value) rises linearly
    with the nation's sanctions exposure from ``target_share`` to
    ``target_share_sanctioned`` (Ferranti 2025, JIMF 159: 103433: about 2-3% without
    sanctions risk, about 5% with it, up to 10% if gold cannot be bought).
    """

    target_share: Prob = Prob_(0.03, "target BTC share of reserves without sanctions exposure")
    target_share_sanctioned: Prob = Prob_(
        0.05, "target BTC share of reserves at full sanctions exposure"
    )
    purchase_months: int = P(
        24, "a month's purchase is at most 1/purchase_months of the target", ge=1, le=1200
    )


class SellingConfig(_Strict):
    """How holdings are sold once a nation decides to sell."""

    months: int = P(6, "equal monthly tranches of a discretionary sale", ge=1, le=1200)
    mined_share: Prob = Prob_(
        0.5, "share of each month's mined coins a miner without a reserve policy sells"
    )


_IMF = imf_programme_defaults()


class ImfConfig(_Strict):
    """IMF stance, programme reviews and new programmes (docs/ODD.md 7.5)."""

    stance: Prob = Prob_(0.5, "0 tolerant, 1 hostile")
    exposure_full_at_pct_quota: float = P(
        300.0, "IMF credit (% of quota) at which exposure is full", gt=0, le=1e5
    )
    programme_floor: Prob = Prob_(0.5, "minimum exposure of a programme country")
    detection_probability: Prob = Prob_(
        0.8, "chance a review detects accumulation since the last one (x stance)"
    )
    review_months: int = P(
        int(_IMF["review_months"]), "months between programme reviews", ge=1, le=120
    )
    suspend_after_failures: int = P(
        2, "consecutive failed reviews that take a programme off track", ge=1, le=100
    )
    new_programme_rate: Prob = Prob_(
        float(_IMF["rate_per_year"]),
        "new financing programmes per eligible nation per year (IMF QFR)",
    )
    new_programme_pct_quota: NonNeg = P(
        float(_IMF["size_pct_quota_median"]),
        "size of a new programme, % of quota (QFR median)",
        ge=0.0,
        le=1e5,
    )
    new_programme_months: int = P(
        int(_IMF["months_median"]), "length of a new programme (QFR median)", ge=1, le=1200
    )


EventKind = Literal[
    "ban",
    "sanctions",
    "adopt",
    "mine",
    "sell",
    "buy",
    "price_shock",
    "imf_stance",
    "energy",
    "set",
    "mandate",
    "pledge",
]


class Event(_Strict):
    """A dated intervention; fields used depend on ``kind`` (see docs/ODD.md, Events)."""

    date: Month
    kind: EventKind
    name: str = Field("", max_length=200)
    nation: NationKey | None = None
    nations: list[NationKey] = Field(default_factory=list, max_length=10_000)
    change: float | None = P(None, "price_shock: relative change", gt=-1.0, le=1000.0)
    stance: Prob | None = Prob_(None, "imf_stance: the new stance")
    mw: NonNeg | None = P(None, "mine, energy: megawatts", ge=0.0, le=1e7)
    btc: NonNeg | None = P(None, "buy: BTC bought by the programme", ge=0.0, le=1e9)
    months: int | None = P(None, "buy: months of the programme", ge=1, le=1200)
    fraction: Prob | None = Prob_(None, "sell: share of holdings sold")
    key: str | None = Field(None, max_length=200)
    value: bool | int | float | None = None
    ban: Literal["absolute", "mining"] | None = Field(
        None, description="ban: which crypto ban is imposed (value true) or lifted (false)"
    )

    @model_validator(mode="after")
    def _needs(self) -> Event:
        need = {
            "price_shock": ["change"],
            "imf_stance": ["stance"],
            "buy": ["btc"],
            "energy": ["mw"],
            "set": ["key", "value"],
            "ban": ["ban"],
            "sanctions": ["value"],
        }.get(self.kind, [])
        for field in need:
            if getattr(self, field) is None:
                raise ValueError(f"a '{self.kind}' event needs '{field}'")
        nation_kinds = {
            "adopt",
            "mine",
            "sell",
            "buy",
            "energy",
            "mandate",
            "pledge",
            "ban",
            "sanctions",
        }
        if self.kind in nation_kinds and self.nation is None and not self.nations:
            raise ValueError(f"a '{self.kind}' event needs 'nation' or 'nations'")
        return self

    def targets(self) -> list[str | int]:
        """The nations this event applies to."""
        return ([self.nation] if self.nation is not None else []) + list(self.nations)


class OutputConfig(_Strict):
    """What a run keeps."""

    nation_frame: bool | None = Field(
        None, description="keep per-nation data (default: yes for the real world)"
    )


Text = Annotated[str, Field(max_length=20_000)]


class Scenario(_Strict):
    """A complete, validated scenario. ``Scenario()`` is the baseline."""

    name: str = Field("baseline", max_length=200, description="a short label (200 characters)")
    description: Text = ""
    assumptions: dict[Annotated[str, Field(max_length=200)], Text] = Field(
        default_factory=dict, max_length=1000
    )
    start: Month = "2025-06"
    steps: int = P(120, "months to simulate", ge=0, le=MAX_STEPS)
    seed: int | None = P(None, "the run's seed", ge=0, le=MAX_SEED)
    engine: Literal["vectorized", "agents"] = "vectorized"
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    rule: RuleConfig = Field(default_factory=RuleConfig)
    initial: InitialConfig = Field(default_factory=InitialConfig)
    price: PriceConfig = Field(default_factory=PriceConfig)
    mining: MiningConfig = Field(default_factory=MiningConfig)
    adoption: AdoptionConfig = Field(default_factory=AdoptionConfig)
    selling: SellingConfig = Field(default_factory=SellingConfig)
    imf: ImfConfig = Field(default_factory=ImfConfig)
    events: list[Event] = Field(default_factory=list, max_length=10_000)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @model_validator(mode="after")
    def _events_in_calendar(self) -> Scenario:
        month = self.initial.from_panel
        if month is not None and month != self.start:
            raise ValueError(
                f"initial.from_panel {month} needs start = {month!r} (start is {self.start!r})"
            )
        if month is not None and self.network.kind != "real":
            raise ValueError("initial.from_panel needs network.kind = 'real' (the 197 nations)")
        real = self.network.kind == "real"
        probe: Scenario | None = None
        for i, ev in enumerate(self.events):
            if ev.date < self.start:
                raise ValueError(
                    f"events[{i}].date {ev.date} is before start {self.start}; "
                    "move the event or the start"
                )
            if real:
                _no_node_numbers(ev.targets(), f"events[{i}].nation")
            if ev.kind == "set":
                _check_settable(ev.key or "", f"events[{i}].key")
                if probe is None:
                    probe = self.model_copy(deep=True)
                _check_set_value(probe, ev, i)
        if real:
            _no_node_numbers(self.initial.adopters, "initial.adopters")
        if self.rule.thresholds is not None and self.network.kind != "real":
            if len(self.rule.thresholds) != self.network.n:
                raise ValueError(
                    f"rule.thresholds has {len(self.rule.thresholds)} values for "
                    f"network.n = {self.network.n}; give one per node"
                )
        _check_reach(self)
        return self

    # -- conveniences -------------------------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """Return a new validated scenario with dotted-path overrides applied."""
        data = self.to_dict()
        for key, value in overrides.items():
            _set_path(data, key, value)
        return _validate(data, source="overrides")


def _no_node_numbers(keys: list[str | int], where: str) -> None:
    for key in keys:
        if isinstance(key, int):
            raise ValueError(
                f"{where}: {key} is a node number; on the real graph name the nation by its "
                "ISO3 code, for example 'SLV'"
            )


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted leaf key of ``model`` (for 'did you mean' on a set event's key)."""
    out: list[str] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_leaf_keys(ann, f"{prefix}{name}."))
        else:
            out.append(f"{prefix}{name}")
    return out


def _check_set_value(probe: Scenario, ev: Event, i: int) -> None:
    """Apply a 'set' event to a copy of the scenario now, so a bad key or value fails at load."""
    key = ev.key or ""
    parts = key.split(".")
    node: Any = probe
    for depth, part in enumerate(parts):
        fields = type(node).model_fields if isinstance(node, BaseModel) else {}
        if part not in fields:
            hint = did_you_mean(key, _leaf_keys(Scenario))
            raise ValueError(f"events[{i}].key: {key!r} is not a scenario key{hint}")
        if depth < len(parts) - 1:
            node = getattr(node, part)
    if isinstance(getattr(node, parts[-1]), BaseModel):
        raise ValueError(f"events[{i}].key: {key!r} is a table; name one of its keys")
    try:
        setattr(node, parts[-1], ev.value)
    except ValidationError as exc:
        err = exc.errors()[0]
        text = err["msg"].removeprefix("Value error, ")
        if err["type"] in ("int_type", "float_type", "bool_type", "string_type"):
            text = f"wrong type ({text.lower()})"
        raise ValueError(f"events[{i}].value: {key} = {_short(ev.value)}: {text}") from None


def _check_reach(sc: Scenario) -> None:
    """Refuse parameters whose price or hashrate would leave the floating-point range."""
    years = sc.steps / 12.0
    if not years:
        return
    growth, vol = sc.price.max_log_growth()
    shocks = sum(abs(math.log1p(ev.change or 0.0)) for ev in sc.events if ev.kind == "price_shock")
    reach = abs(math.log(sc.price.initial)) + years * growth + 6.0 * vol * math.sqrt(years)
    if shocks + math.log(sc.price.initial) > MAX_LOG - 10:
        raise ValueError(
            "events: the price_shock changes together multiply the price beyond 1e290; "
            "make them smaller"
        )
    if reach + shocks > MAX_LOG:
        raise ValueError(
            f"price: drift {sc.price.drift:g} and volatility {sc.price.volatility:g} over "
            f"{sc.steps} steps could take the price beyond 1e300; lower price.drift, "
            "price.volatility or steps"
        )
    mn = sc.mining
    hash_reach = abs(math.log(mn.network_hashrate_ehs * 1e6)) + years * abs(
        math.log1p(mn.hashrate_growth)
    )
    if mn.hashrate_model == "exogenous" and hash_reach > MAX_LOG:
        raise ValueError(
            f"mining.hashrate_growth: {mn.hashrate_growth:g} a year over {sc.steps} steps "
            "takes the hashrate beyond the floating-point range; lower it or steps"
        )
    eff_reach = abs(math.log(mn.efficiency_j_per_th)) + years * abs(
        math.log1p(-mn.efficiency_improvement)
    )
    if eff_reach > MAX_LOG:
        raise ValueError(
            f"mining.efficiency_improvement: {mn.efficiency_improvement:g} a year over "
            f"{sc.steps} steps drives J/TH to zero; lower it or steps"
        )


# Keys an event of kind 'set' (and the view's live sliders) may change mid-run.
SETTABLE_PREFIXES = ("rule.coef.", "imf.", "price.", "mining.", "adoption.", "selling.")
SETTABLE_KEYS = (
    "rule.choice_intensity",
    "rule.review_probability",
    "rule.p",
    "rule.q",
    "rule.transmission",
    "rule.phi",
)


def _check_settable(key: str, where: str) -> None:
    ok = key in SETTABLE_KEYS or any(key.startswith(p) for p in SETTABLE_PREFIXES)
    if not ok:
        raise ValueError(
            f"{where}: '{key}' cannot change mid-run; use one of rule.coef.*, imf.*, price.*, "
            "mining.*, adoption.*, selling.* or " + ", ".join(SETTABLE_KEYS)
        )


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML (numbers, booleans, lists, strings), else keep the text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:
        raise InputError(f"--set value {text[:30]!r}...: nested too deeply") from None


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """Turn ``["rule.kind=threshold", "network.n=100"]`` into a dict; bad pairs raise InputError."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set {pair!r}: expected KEY=VALUE, for example rule.kind=threshold")
        out[key.strip()] = parse_value(value.strip())
    return out


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            raise InputError(
                f"{'.'.join(parts[: depth + 1])}: is a value, not a table; cannot set {dotted}"
            )
        node = nxt
    node[parts[-1]] = value


def _model_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at ``loc`` (for 'did you mean' on unknown keys)."""
    current: Any = model
    dict_key = False
    for part in loc:
        if isinstance(part, int):
            continue
        if dict_key:  # the key of a ``dict[str, Model]`` table, not a field name
            dict_key = False
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        dict_key = get_origin(ann) is dict
        candidates = [ann, *get_args(ann)]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _format_loc(loc: tuple[Any, ...], root: str) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in str(part):  # a dotted scenario key used as a table key: quote it
            out += f'."{part}"'
        else:
            out += ("." if out else "") + str(part)
    return out.lstrip(".") or f"({root})"


def format_validation_error(
    exc: ValidationError, source: str, root: type[BaseModel] | None = None, prefix: str = ""
) -> str:
    """One line: ``key.path: what was wrong (fix)`` for the first error, naming ``source``.

    ``root`` is the validated model (default :class:`Scenario`), used to suggest the
    closest valid key for an unknown one; ``prefix`` is the dotted path of ``root`` inside
    a scenario (``network.layers`` for :class:`LayerWeights`). The only formatter of
    validation errors in the package.
    """
    root = Scenario if root is None else root
    err = _first_error(exc)
    loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    path = _format_loc(loc, root.__name__.lower())
    if prefix:
        path = f"{prefix}.{path}" if loc else prefix
    kind = err["type"]
    given = err.get("input")
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        valid = _model_fields(root, parent)
        hint = did_you_mean(key, valid)
        msg = f"{path}: unknown key{hint or '; valid keys: ' + ', '.join(valid)}"
    elif kind == "literal_error":
        expected = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
        hint = did_you_mean(str(given), expected).replace("; did you mean ", "")
        hint = f" (did you mean {hint.rstrip('?')!r}?)" if hint else ""
        msg = f"{path}: {given!r} is not one of {', '.join(expected)}{hint}"
    elif kind == "string_pattern_mismatch" and "0[1-9]" in str(err.get("ctx", {})):
        msg = f"{path}: {_short(given)} is not a month; write it as YYYY-MM, for example '2025-06'"
    elif kind == "string_pattern_mismatch":
        rule = _description_of(root, loc) or f"must match {err.get('ctx', {}).get('pattern', '')}"
        msg = f"{path}: {_short(given)} is not allowed ({rule})"
    elif kind in ("int_type", "int_from_float") and isinstance(given, float):
        msg = f"{path}: expected a whole number, got {given!r}"
    elif kind in ("int_type", "float_type", "bool_type", "string_type"):
        want = {"int_type": "a whole number", "float_type": "a number",
                "bool_type": "true or false", "string_type": "a string"}[kind]  # fmt: skip
        msg = f"{path}: expected {want}, got {_short(given)} ({type(given).__name__})"
    elif kind in _RANGE_ERRORS:
        bound = next(iter(err.get("ctx", {}).values()), "?")
        where = _range_of(root, loc)
        msg = f"{path}: {_short(given)} is out of range; must be {_RANGE_ERRORS[kind]} {bound}" + (
            f" (range {where})" if where else ""
        )
    elif kind == "finite_number":
        msg = f"{path}: must be a finite number, got {_short(given)}"
    else:
        text = err["msg"].removeprefix("Value error, ")
        shown = "" if isinstance(given, dict | list) or given is None else f" (got {_short(given)})"
        own = re.match(r"^([\w.\[\]]+): ", text)
        if own and (not loc or own.group(1).startswith(path)):
            msg = text  # a cross-field check that names its own keys
        else:
            msg = f"{path}: {text}{shown}"
    where = f" in {source}" if source else ""
    return f"{msg}{where}".replace("\n", " ")


_RANGE_ERRORS = {
    "greater_than_equal": ">=",
    "greater_than": ">",
    "less_than_equal": "<=",
    "less_than": "<",
}


def _range_of(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The documented range of the field at ``loc`` (from its description), or ""."""
    m = re.search(r"range ([\[(][^;]*[\])])", _description_of(root, loc))
    return m.group(1) if m else ""


def _description_of(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The description of the field at ``loc``, or ""."""
    if not loc or isinstance(loc[-1], int):
        return ""
    parent: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = parent.model_fields.get(part) if isinstance(parent, type) else None
        if field is None:
            return ""
        ann = field.annotation
        parent = next(
            (c for c in (ann, *get_args(ann)) if isinstance(c, type) and issubclass(c, BaseModel)),
            None,
        )
        if parent is None:
            return ""
    field = parent.model_fields.get(str(loc[-1])) if isinstance(parent, type) else None
    return (field.description or "") if field is not None else ""


_UNION_TAGS = {"bool", "int", "float", "str", "none", "constrained-str", "constrained-int"}


def _is_union_tag(part: Any) -> bool:
    """Is ``part`` of an error location the name of a union member, not a key?"""
    return isinstance(part, str) and ("[" in part or part in _UNION_TAGS)


def _first_error(exc: ValidationError) -> Any:
    """The error to report: for a union, a constraint (finite, range) beats a type mismatch."""
    errors = exc.errors()
    first = errors[0]
    if first["type"].endswith("_type"):
        base = [p for p in first["loc"] if not _is_union_tag(p)]
        for err in errors[1:]:
            same = [p for p in err["loc"] if not _is_union_tag(p)] == base
            if same and not err["type"].endswith("_type"):
                return err
    return first


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 100 KB string stays one short line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _validate(data: Mapping[str, Any], source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, source)) from None


def bundled_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios shipped with the package."""
    if not SCENARIO_DIR.is_dir():  # package data, never optional
        raise RuntimeError(f"{SCENARIO_DIR} is missing: the installation is broken; reinstall")
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; unreadable or malformed files raise a one-line InputError.

    The file must be a regular file of at most :data:`adoption_model.fileio.MAX_INPUT_BYTES`
    (a FIFO, a device such as ``/dev/zero`` or a directory is refused without reading),
    in UTF-8 with or without a byte-order mark, nested at most
    :data:`~adoption_model.fileio.MAX_NESTING` levels deep.
    """
    from adoption_model.fileio import check_nesting, read_user_text

    text = read_user_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to read; flatten the file") from None
    check_nesting(data, str(path))
    return data


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """Map a bundled scenario name or a file path to a path; unknown names raise InputError."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists() or "/" in text:
        if not path.exists():
            raise InputError(f"{path}: no such scenario file; check the path")
        return path
    bundled = bundled_scenarios()
    if text in bundled:
        return bundled[text]
    hint = did_you_mean(text, bundled)
    raise InputError(
        f"'{text}' is not a bundled scenario or a file{hint or ''}"
        f"{'' if hint else '; run adoption-model scenarios to list them'}"
    )


def load_scenario(
    path_or_name: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    path_or_name : str, Path, mapping, Scenario or None
        A bundled scenario name (``"baseline"``), a path to a TOML file, a dict of keys, an
        existing :class:`Scenario`, or None for the defaults (the baseline).
    overrides : mapping, optional
        Dotted keys applied on top, e.g. ``{"rule.kind": "threshold", "network.n": 1000}``.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        One line with the key path, what was wrong and the fix.

    Examples
    --------
    >>> load_scenario(overrides={"rule.kind": "bass"}).rule.kind
    'bass'
    """
    if isinstance(path_or_name, Scenario):
        data, source = path_or_name.to_dict(), ""
    elif isinstance(path_or_name, Mapping):
        data, source = copy.deepcopy(dict(path_or_name)), ""
    elif path_or_name is None:
        data, source = {}, ""
    else:
        path = resolve_scenario_path(path_or_name)
        data, source = read_toml(path), str(path)
        data.setdefault("name", path.stem)
    for key, value in (overrides or {}).items():
        _set_path(data, key, value)
    source = source + (" with overrides" if overrides and source else "")
    return _validate(data, source if source else ("overrides" if overrides else ""))
