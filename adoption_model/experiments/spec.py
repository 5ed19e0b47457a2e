"""Experiment files: a base scenario, what varies, how it is sampled, what is measured.

An experiment file is TOML validated by the pydantic models below, with the same one-line
errors as scenario files (``design.kind: 'sobl' is not one of ... (did you mean 'sobol'?)``).
Factors speak the policy analyst's vocabulary (EMA Workbench): ``uncertainties`` are what a
government cannot control, ``levers`` what it chooses. Each factor is keyed by a dotted
scenario path, as in ``--set``, and is either a range (``low``/``high`` with a distribution)
or a list of ``values``::

    name = "peer-effects"
    base = "baseline"              # bundled scenario name or a path relative to this file
    seed = 20250601                # experiment seed: every run seed derives from it
    replications = 2               # replicate r has the same seed at every point (CRN)

    [set]                          # fixed overrides applied to the base scenario
    steps = 60

    [design]
    kind = "sobol"                 # full_factorial | latin_hypercube | sobol | morris | points
    samples = 32                   # sobol: N (N*(D+2) points); lhs: points; morris: trajectories

    [uncertainties."rule.coef.a_peer"]
    low = 0.5
    high = 3.0

    [levers."imf.stance"]
    values = [0.0, 0.5, 1.0]

    [outcomes]
    final_share = "final(adoption_share)"
    t50 = "time_to(adoption_share, 0.5)"

References
----------
Kwakkel, J. H. (2017), "The Exploratory Modeling Workbench", Environmental Modelling &
Software 96, 239-250 (uncertainties, levers, outcomes).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from adoption_model.errors import InputError, did_you_mean
from adoption_model.experiments.outcomes import DEFAULT_OUTCOMES, parse_outcome
from adoption_model.scenario import (
    ConfigModel,
    Scenario,
    bundled_scenarios,
    format_validation_error,
    load_scenario,
    read_toml,
    resolve_scenario_path,
)

Scalar = bool | int | float | Annotated[str, Field(max_length=200)]

#: Most runs an experiment may hold (points x replications); the run table alone is ~1 GB.
MAX_RUNS = 10_000_000
#: Columns of the run table besides the factors and outcomes (an outcome may not reuse them).
RUN_COLUMNS = (
    "run_id", "scenario", "point", "replicate", "seed", "status", "error", "steps_run",
    "duration_s", "host",
)  # fmt: skip
_NAME = r"^[^/\\\x00-\x1f\x7f]+$"  # no path separators or control characters
_OUTCOME_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


_Strict = ConfigModel


class Factor(_Strict):
    """One varied scenario key: a range with a distribution, or a list of values.

    ``uniform`` uses ``low``/``high``; ``normal`` uses ``mean``/``sd`` (truncated to
    ``low``/``high`` when given, in full-factorial grids only); ``triangular`` uses
    ``low``/``high``/``mode``. ``levels`` is the number of grid values a range contributes to
    a full-factorial design. ``integer`` rounds sampled values (for counts such as
    ``network.n``).
    """

    values: list[Scalar] | None = Field(None, max_length=10_000)
    low: float | None = None
    high: float | None = None
    distribution: Literal["uniform", "normal", "triangular"] = "uniform"
    mean: float | None = None
    sd: float | None = Field(None, gt=0, description="normal: standard deviation; range (0, inf)")
    mode: float | None = None
    levels: int = Field(3, ge=2, le=1000)
    integer: bool = False

    @model_validator(mode="after")
    def _range_or_values(self) -> Factor:
        if self.values is not None:
            if not self.values:
                raise ValueError("values is empty; give at least one value")
            if self.low is not None or self.high is not None:
                raise ValueError("give either values or low/high, not both")
            return self
        if self.distribution == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("a normal factor needs mean and sd")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values = [...] or a range with low and high")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.distribution == "triangular":
            if self.mode is None or not self.low <= self.mode <= self.high:
                raise ValueError("a triangular factor needs mode between low and high")
        return self

    @property
    def is_discrete(self) -> bool:
        return self.values is not None


class DesignConfig(_Strict):
    """How design points are drawn from the factors.

    ``full_factorial``: every combination of values (ranges give ``levels`` evenly spaced
    values). ``latin_hypercube``: ``samples`` points. ``sobol``: Saltelli's scheme with
    ``samples`` = N base samples, N*(D+2) points (N*(2D+2) with ``second_order``); N should
    be a power of two. ``morris``: ``samples`` trajectories of D+1 points on a
    ``levels``-level grid. ``points``: the explicit list in ``points``.
    """

    kind: Literal["full_factorial", "latin_hypercube", "sobol", "morris", "points"] = (
        "full_factorial"
    )
    samples: int = Field(16, ge=1, le=MAX_RUNS, description="range [1, 1e7]")
    second_order: bool = False
    levels: int = Field(4, ge=2, le=100, description="morris grid levels; range [2, 100]")
    points: list[dict[str, Scalar]] | None = Field(None, max_length=MAX_RUNS)

    @model_validator(mode="after")
    def _points_given(self) -> DesignConfig:
        if self.kind == "points" and not self.points:
            raise ValueError("kind = 'points' needs a non-empty points = [{...}, ...] list")
        if self.kind != "points" and self.points:
            raise ValueError(f"points are only used with kind = 'points' (kind is {self.kind!r})")
        if self.kind == "morris" and self.levels % 2:
            raise ValueError(f"morris levels must be even (got {self.levels})")
        return self


class StoreConfig(_Strict):
    """What the results store keeps besides ``runs.parquet``."""

    steps: bool = True
    nations: bool = False
    #: per run and nation: first adoption step and whether it holds at the horizon (small;
    #: what compare's nation tables read)
    adoptions: bool = False
    chunk_runs: int = Field(50, ge=1, le=100_000)


class RunConfig(_Strict):
    """How runs execute; not part of the experiment's identity (results do not depend on it)."""

    #: runs per ensemble batch (None: chosen from the scenario's size and memory; 1: alone)
    batch_size: int | None = Field(None, ge=1, le=100_000)


class Experiment(_Strict):
    """A validated experiment file."""

    name: str = Field(
        "experiment",
        min_length=1,
        max_length=100,
        pattern=_NAME,
        description="names results/<name>: no / or \\, no control characters, not . or ..",
    )
    description: str = Field("", max_length=20_000)
    base: Annotated[str, Field(max_length=4096)] | dict[str, Any] = "baseline"
    #: several base scenarios run with the same design and replicate seeds (a comparison);
    #: ``set`` applies to each, runs.parquet gets a ``scenario`` column (index in this list)
    scenarios: list[Annotated[str, Field(max_length=4096)] | dict[str, Any]] = Field(
        default_factory=list, max_length=1000
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="range [0, 2**63 - 1]")
    replications: int = Field(1, ge=1, le=1_000_000, description="range [1, 1e6]")
    set: dict[str, Any] = Field(default_factory=dict, max_length=1000)
    uncertainties: dict[str, Factor] = Field(default_factory=dict, max_length=1000)
    levers: dict[str, Factor] = Field(default_factory=dict, max_length=1000)
    design: DesignConfig = Field(default_factory=DesignConfig)
    outcomes: dict[
        Annotated[str, Field(max_length=64, pattern=_OUTCOME_NAME)],
        Annotated[str, Field(max_length=200)],
    ] = Field(default_factory=lambda: dict(DEFAULT_OUTCOMES), max_length=200)
    store: StoreConfig = Field(default_factory=StoreConfig)
    #: parameter uncertainty: "shipped" (the bundled posterior sample) or the path of a
    #: posterior Parquet; every run draws its rule.coef.* from it by its seed
    #: (adoption_model/experiments/posterior.py). Empty: the scenarios' own coefficients.
    posterior: str = ""
    run: RunConfig = Field(default_factory=RunConfig)

    def digest(self) -> str:
        """The digest of what the results depend on (``[run]`` is left out)."""
        data = self.to_dict()
        data.pop("run", None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @model_validator(mode="after")
    def _factors_consistent(self) -> Experiment:
        both = set(self.uncertainties) & set(self.levers)
        if both:
            raise ValueError(f"{sorted(both)[0]!r} is both an uncertainty and a lever; keep one")
        if not self.factors and self.design.kind != "points" and not self.scenarios:
            raise ValueError("no uncertainties or levers; add at least one factor to vary")
        if self.design.kind in ("sobol", "morris"):
            discrete = [k for k, f in self.factors.items() if f.is_discrete]
            if self.design.kind == "morris" and discrete:
                raise ValueError(
                    f"morris needs ranges; {discrete[0]!r} is a list of values (use low/high)"
                )
        if self.name in (".", ".."):
            raise ValueError(f"name: {self.name!r} is not a name; results go to results/<name>")
        clash = [k for k in self.outcomes if k in RUN_COLUMNS or k in self.factors]
        if clash:
            raise ValueError(
                f"outcomes.{clash[0]}: the run table already has a column {clash[0]!r}; "
                "rename the outcome"
            )
        runs = self.run_count()
        if runs > MAX_RUNS:
            per = f" x {len(self.scenarios)} scenarios" if self.scenarios else ""
            raise ValueError(
                f"design: {self.design_size():,} points x {self.replications:,} replications"
                f"{per} = {runs:,} runs; at most {MAX_RUNS:,} in one experiment: lower "
                "design.samples, levels or replications, or split the experiment"
            )
        if self.design.kind == "points":
            known = set(self.factors)
            for i, point in enumerate(self.design.points or []):
                if known and set(point) != known:
                    raise ValueError(
                        f"design.points[{i}] sets {sorted(point)}; every point must set the "
                        f"factors {sorted(known)}"
                    )
        return self

    def run_count(self) -> int:
        """Number of runs: design points x replications (x base scenarios)."""
        return self.design_size() * self.replications * max(1, len(self.scenarios))

    def design_size(self) -> int:
        """Number of design points, computed without drawing them."""
        d, kind, n = len(self.factors), self.design.kind, self.design.samples
        if kind == "points":
            return len(self.design.points or [])
        if kind == "full_factorial":
            return math.prod(
                len(f.values) if f.values is not None else f.levels for f in self.factors.values()
            )
        if kind == "sobol":
            return n * (2 * d + 2 if self.design.second_order else d + 2)
        if kind == "morris":
            return n * (d + 1)
        return n

    @property
    def factors(self) -> dict[str, Factor]:
        """Uncertainties then levers, in file order."""
        return {**self.uncertainties, **self.levers}

    def base_scenario(self) -> Scenario:
        """The base scenario with ``set`` applied."""
        return load_scenario(self.base if isinstance(self.base, dict) else None, self.set)

    def base_scenarios(self) -> list[Scenario]:
        """Every base scenario with ``set`` applied: ``scenarios``, or ``[base]``."""
        if not self.scenarios:
            return [self.base_scenario()]
        return [load_scenario(s if isinstance(s, dict) else None, self.set) for s in self.scenarios]


def load_experiment(path_or_data: str | Path | dict[str, Any] | Experiment) -> Experiment:
    """Read and validate an experiment; every error is a one-line :class:`InputError`.

    The base scenario is resolved (a bundled name, or a path relative to the experiment
    file) and stored expanded in ``base``, so the experiment's digest covers every scenario
    key. Every factor is checked against the scenario schema at its bounds or values.

    Examples
    --------
    >>> exp = load_experiment({"uncertainties": {"rule.coef.a_peer": {"low": 0, "high": 3}}})
    >>> exp.design.kind, list(exp.factors)
    ('full_factorial', ['rule.coef.a_peer'])
    """
    if isinstance(path_or_data, Experiment):
        return path_or_data
    if isinstance(path_or_data, dict):
        data, source, here = dict(path_or_data), "", Path.cwd()
    else:
        path = Path(path_or_data)
        if path.suffix != ".toml" and not path.exists():
            path = _bundled_experiment(str(path_or_data))
        data, source, here = read_toml(path), str(path), path.resolve().parent
        data.setdefault("name", path.stem)
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, source, Experiment)) from None
    where = f" in {source}" if source else ""
    base = exp.base
    if isinstance(base, str):
        base_dict = _resolve_base(base, here, where)
    else:
        base_dict = load_scenario(base).to_dict()
    try:
        scenario = load_scenario(base_dict, exp.set)
    except InputError as exc:
        raise InputError(f"set: {exc}{where}") from None
    _check_factors(exp, scenario, where)
    expanded = []
    for i, item in enumerate(exp.scenarios):
        try:
            data = _resolve_base(item, here, where) if isinstance(item, str) else item
            expanded.append(load_scenario(data, exp.set).to_dict())
        except InputError as exc:
            raise InputError(f"scenarios[{i}]: {exc}{where}") from None
    if exp.posterior:
        from adoption_model.experiments.posterior import load_sample, posterior_path

        post = posterior_path(exp.posterior)
        if exp.posterior != "shipped" and not post.is_absolute():
            post = here / post
        load_sample(str(post))  # fails now, naming the file, not in every run
        exp = exp.model_copy(update={"posterior": str(post)})
    for name, text in exp.outcomes.items():
        try:
            parse_outcome(text)
        except InputError as exc:
            raise InputError(f"outcomes.{name}: {exc}{where}") from None
    resolved = exp.model_copy(update={"base": scenario.to_dict(), "set": {}, "scenarios": expanded})
    return resolved


#: The example experiments shipped with the package (``adoption-model sweep NAME``).
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"


def bundled_experiments() -> dict[str, Path]:
    """Names and paths of the example experiments shipped with the package."""
    if not EXAMPLES_DIR.is_dir():
        raise RuntimeError(f"{EXAMPLES_DIR} is missing: the installation is broken; reinstall")
    return {p.stem: p for p in sorted(EXAMPLES_DIR.glob("*.toml"))}


def _bundled_experiment(name: str) -> Path:
    bundled = bundled_experiments()
    if name in bundled:
        return bundled[name]
    hint = did_you_mean(name, bundled)
    raise InputError(
        f"{name}: no such experiment file or bundled experiment{hint}"
        f"{'' if hint else '; give a .toml file or one of ' + ', '.join(bundled)}"
    )


def _resolve_base(base: str, here: Path, where: str) -> dict[str, Any]:
    if base == "baseline" and "baseline" not in bundled_scenarios():
        return Scenario().to_dict()
    candidate = here / base
    try:
        path = candidate if candidate.exists() else resolve_scenario_path(base)
        return load_scenario(path).to_dict()
    except InputError as exc:
        raise InputError(f"base: {exc}{where}") from None


def _check_factors(exp: Experiment, scenario: Scenario, where: str) -> None:
    from adoption_model.experiments.design import factor_probe_values

    for group, factors in (("uncertainties", exp.uncertainties), ("levers", exp.levers)):
        for key, factor in factors.items():
            for value in factor_probe_values(factor):
                try:
                    scenario.with_overrides({key: value})
                except InputError as exc:
                    msg = str(exc).removesuffix(" in overrides")
                    if "expected a whole number" in msg and not factor.is_discrete:
                        msg += " (add integer = true to the factor)"
                    raise InputError(f'{group}."{key}": {msg}{where}') from None
    for i, point in enumerate(exp.design.points or []):
        try:
            scenario.with_overrides(point)
        except InputError as exc:
            msg = str(exc).removesuffix(" in overrides")
            raise InputError(f"design.points[{i}]: {msg}{where}") from None
