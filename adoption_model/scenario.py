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
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adoption_model.errors import InputError, did_you_mean
from adoption_model.market import mining_defaults, price_defaults

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
NonNeg = Annotated[float, Field(ge=0.0)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]


class ConfigModel(BaseModel):
    """A strict configuration table: unknown keys are errors, assignments are validated.

    The root models (:class:`Scenario`, and the experiment file's model) also get a plain
    dict, TOML and a digest of their resolved content from here.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

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
    adoption_model.errors.InputError: network.layers.border: Input should be greater than ...
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
    n: int = Field(1000, ge=2, le=5_000_000)
    mean_degree: float = Field(6.0, ge=0.0)
    m: int = Field(2, ge=1)
    k: int = Field(4, ge=2)
    p: Prob = 0.1
    attributes: Literal["sample", "constant"] = "sample"
    layers: LayerWeights = Field(default_factory=LayerWeights)
    allow_isolated: bool = False


class LogitCoefficients(_Strict):
    """Coefficients of the multinomial-logit utilities (docs/ODD.md section 7.2).

    ``U_hold = 0``; the three other options sum named terms
    (see :mod:`adoption_model.submodels.decision`).
    The intercepts ``a0`` and ``c0`` are calibrated so that the 2025-06 world, before
    contagion, expects the 2019-2025 rate of new policy starts (about 0.5 reserve and 0.3
    mining starts a year: BTN 2019, SLV 2021, USA and PAK 2025); the slopes are assumed;
    their rationale is in ``docs/ODD.md``.
    """

    a0: float = Field(
        -6.6,
        description="adopt: intercept; calibrated: 0.6 expected reserve starts a year in the "
        "2025-06 world before contagion (2019-2025: about 0.5 a year)",
    )
    a_fx: float = Field(
        1.0,
        description="adopt: FX-reserve stress (import cover below 3 months, credit-constrained "
        "and emerging economies only, unions at the union level); assumed",
    )
    a_debt: float = Field(
        0.75,
        description="adopt: debt stress (net debt against the class benchmark: none for "
        "reserve issuers and own-currency advanced economies); assumed",
    )
    a_peer: float = 2.0
    a_world: float = 1.0
    a_mom: float = 0.5
    a_imf: float = 3.0
    a_sanctions: float = Field(
        1.5,
        description="adopt: sanctions exposure (1 = reserves frozen or comprehensive "
        "sanctions). Assumed: sanctions raise the share of reserves held outside Western "
        "jurisdictions (Arslanalp, Eichengreen & Simpson-Bell 2023 on gold; Ferranti 2025 "
        "on sanctions risk and a gold/BTC share); e^1.5 ~ 4.5 times the odds. Not "
        "estimable: no sanctioned state started a reserve or state mining in the 2015-2025 "
        "panel",
    )
    c0: float = Field(
        -5.9,
        description="mine: intercept; calibrated: 0.35 expected mining starts a year in the "
        "2025-06 world (2019-2025: about 0.3 a year)",
    )
    c_margin: float = 3.0
    c_peer: float = 2.0
    c_imf: float = 1.5
    c_sanctions: float = Field(
        1.0,
        description="mine: sanctions exposure. Assumed: mining turns domestic power into a "
        "reserve asset outside the reach of sanctions (Iran licensed mining on tariffed "
        "power 2019 and pays imports in crypto; Russia's 2024 law allows mined coins in "
        "foreign trade); smaller than a_sanctions because it needs surplus power",
    )
    s0: float = -4.5
    s_debt: float = 1.0
    s_gain: float = 0.5
    s_imf: float = 1.0
    s_law: float = 8.0
    s_peer: float = 2.0


class ThresholdDistribution(_Strict):
    """Distribution of per-nation thresholds when ``rule.phi`` is not used."""

    kind: Literal["fixed", "uniform", "normal", "beta"] = "fixed"
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.18
    sd: float = 0.05
    a: float = Field(2.0, gt=0)
    b: float = Field(8.0, gt=0)


class RuleConfig(_Strict):
    """The decision rule and its parameters."""

    kind: Literal["logit", "threshold", "bass", "cascade"] = "logit"
    review_probability: Prob = Field(
        1.0 / 12.0, description="logit: probability a nation reviews its policy in a month"
    )
    choice_intensity: NonNeg = Field(1.0, description="logit: lambda")
    coef: LogitCoefficients = Field(default_factory=LogitCoefficients)
    phi: Prob = 0.18
    thresholds: list[float] | None = None
    threshold_distribution: ThresholdDistribution = Field(default_factory=ThresholdDistribution)
    p: Prob = 0.03
    q: NonNeg = 0.38
    transmission: Prob = 0.1

    @field_validator("thresholds")
    @classmethod
    def _thresholds_in_range(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            for i, t in enumerate(v):
                if not (0.0 <= t <= 1.0 or t == float("inf")):
                    raise ValueError(f"thresholds[{i}] = {t} must be in [0, 1]")
        return v


class InitialConfig(_Strict):
    """Who has adopted at step 0."""

    from_data: bool | None = Field(
        None, description="use the data's starting state (default: yes on the real graph)"
    )
    adopters: list[str | int] = Field(default_factory=list)
    seed_count: int = Field(0, ge=0)
    seed_fraction: Prob = 0.0


class PriceConfig(_Strict):
    """The BTC price process (annualised drift and volatility; monthly steps).

    Defaults are fitted to the 2014-2025 monthly series (``adoption_model/market.py``,
    docs/market.md): the GBM's volatility by maximum likelihood, its drift re-centred to an
    assumed long-run growth; the two-regime process likewise. The hand-set GBM of earlier
    versions is drift 0.25, volatility 0.55 (scenario ``price_handset``).
    """

    process: Literal["gbm", "regime", "path"] = "gbm"
    initial: float = Field(105_000.0, gt=0, description="USD per BTC at the start month")
    drift: float = Field(
        price_defaults()["drift"],
        description="annual drift of the GBM (median growth is drift - vol^2/2)",
    )
    volatility: NonNeg = Field(
        price_defaults()["volatility"], description="annual volatility of the GBM"
    )
    regime_drift: list[float] = Field(default_factory=lambda: price_defaults()["regime_drift"])
    regime_volatility: list[NonNeg] = Field(
        default_factory=lambda: price_defaults()["regime_volatility"]
    )
    regime_switch: list[Prob] = Field(
        default_factory=lambda: price_defaults()["regime_switch"],
        description="monthly probability of leaving each regime",
    )
    path: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=list, description="given monthly prices for steps 1..len(path)"
    )
    kappa: NonNeg = Field(
        3.5, description="price impact of net sovereign buying (d ln P per BTC / free float)"
    )
    free_float_btc: float = Field(14_000_000.0, gt=0)
    momentum_months: int = Field(6, ge=1)

    @model_validator(mode="after")
    def _regimes_consistent(self) -> PriceConfig:
        if not (len(self.regime_drift) == len(self.regime_volatility) == len(self.regime_switch)):
            raise ValueError(
                "regime_drift, regime_volatility and regime_switch need the same length"
            )
        if self.process == "path" and not self.path:
            raise ValueError("process 'path' needs price.path (a list of monthly prices)")
        return self


class MiningConfig(_Strict):
    """Mining economics (Bitcoin protocol constants and network assumptions)."""

    efficiency_j_per_th: float = Field(22.0, gt=0)
    network_hashrate_ehs: float = Field(900.0, gt=0, description="EH/s at the start month")
    hashrate_model: Literal["market", "exogenous"] = Field(
        "market", description="market: hashrate follows the hashprice (free entry); exogenous"
    )
    hashrate_growth: float = Field(
        0.20, description="exogenous model: annual growth of non-sovereign hashrate"
    )
    hashrate_response: NonNeg = Field(
        mining_defaults()["hashrate_response"],
        description="market: monthly hashrate growth per log point of hashprice above break-even",
    )
    hashrate_persistence: float = Field(
        mining_defaults()["hashrate_persistence"],
        ge=0,
        lt=1,
        description="market: share of last month's hashrate growth carried into this month",
    )
    hashrate_lag_months: int = Field(
        mining_defaults()["hashrate_lag_months"],
        ge=1,
        description="market: months between the hashprice and the hashrate it brings",
    )
    breakeven_usd_per_mwh: float = Field(
        mining_defaults()["breakeven_usd_per_mwh"],
        gt=0,
        description="market: all-in revenue per MWh private miners need (free-entry level)",
    )
    efficiency_improvement: float = Field(
        0.10, ge=0, lt=1, description="annual fall of fleet J/TH (machines get better)"
    )
    fees_btc_per_block: NonNeg = 0.03
    subsidy_btc: float = Field(3.125, gt=0, description="block subsidy at the start month")
    halvings: list[Month] = Field(default_factory=lambda: ["2028-04", "2032-04"])
    blocks_per_month: float = Field(4383.0, gt=0)
    circulating_supply_btc: float = Field(19_880_000.0, gt=0)
    allocation_share: Prob = Field(1.0, description="share of surplus MW a new miner allocates")
    stop_after_months: int = Field(6, ge=1, description="months of negative margin before stopping")


class AdoptionConfig(_Strict):
    """How a reserve is built once adopted."""

    target_share: Prob = Field(0.03, description="target BTC share of FX reserves")
    purchase_months: int = Field(24, ge=1)


class SellingConfig(_Strict):
    """How holdings are sold once a nation decides to sell."""

    months: int = Field(6, ge=1, description="equal monthly tranches of a discretionary sale")


class ImfConfig(_Strict):
    """IMF stance and audits of programme countries."""

    stance: Prob = 0.5
    exposure_full_at_pct_quota: float = Field(300.0, gt=0)
    programme_floor: Prob = Field(0.5, description="minimum exposure of a programme country")
    detection_probability: Prob = Field(
        0.5, description="monthly chance an audit detects accumulation in a programme country"
    )
    tranche_share_of_reserves: Prob = Field(
        0.05, description="reserves lost when a tranche is withheld"
    )
    freeze_months: int = Field(12, ge=0)


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
    name: str = ""
    nation: str | int | None = None
    nations: list[str | int] = Field(default_factory=list)
    change: float | None = Field(None, gt=-1.0, description="price_shock: relative change")
    stance: Prob | None = None
    mw: NonNeg | None = None
    btc: NonNeg | None = None
    months: int | None = Field(None, ge=1)
    fraction: Prob | None = None
    key: str | None = None
    value: float | bool | None = None
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


class Scenario(_Strict):
    """A complete, validated scenario. ``Scenario()`` is the baseline."""

    name: str = "baseline"
    description: str = ""
    assumptions: dict[str, str] = Field(default_factory=dict)
    start: Month = "2025-06"
    steps: int = Field(120, ge=0, le=100_000)
    seed: int | None = Field(None, ge=0)
    engine: Literal["vectorized", "agents"] = "vectorized"
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    rule: RuleConfig = Field(default_factory=RuleConfig)
    initial: InitialConfig = Field(default_factory=InitialConfig)
    price: PriceConfig = Field(default_factory=PriceConfig)
    mining: MiningConfig = Field(default_factory=MiningConfig)
    adoption: AdoptionConfig = Field(default_factory=AdoptionConfig)
    selling: SellingConfig = Field(default_factory=SellingConfig)
    imf: ImfConfig = Field(default_factory=ImfConfig)
    events: list[Event] = Field(default_factory=list)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @model_validator(mode="after")
    def _events_in_calendar(self) -> Scenario:
        for i, ev in enumerate(self.events):
            if ev.date < self.start:
                raise ValueError(
                    f"events[{i}].date {ev.date} is before start {self.start}; "
                    "move the event or the start"
                )
            if ev.kind == "set":
                _check_settable(ev.key or "", f"events[{i}].key")
        if self.rule.thresholds is not None and self.network.kind != "real":
            if len(self.rule.thresholds) != self.network.n:
                raise ValueError(
                    f"rule.thresholds has {len(self.rule.thresholds)} values for "
                    f"network.n = {self.network.n}; give one per node"
                )
        return self

    # -- conveniences -------------------------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """Return a new validated scenario with dotted-path overrides applied."""
        data = self.to_dict()
        for key, value in overrides.items():
            _set_path(data, key, value)
        return _validate(data, source="overrides")


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
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
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
    elif kind == "string_pattern_mismatch":
        msg = f"{path}: {given!r} is not a month; write it as YYYY-MM, for example '2025-06'"
    else:
        text = err["msg"].removeprefix("Value error, ")
        shown = "" if isinstance(given, dict | list) or given is None else f" (got {given!r})"
        msg = f"{path}: {text}{shown}"
    where = f" in {source}" if source else ""
    return f"{msg}{where}".replace("\n", " ")


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
    """Read a TOML file; unreadable or malformed files raise a one-line InputError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None


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
