"""Run a scenario to its horizon and keep the results: ``run(scenario, seed) -> RunResult``.

A :class:`RunResult` holds the per-step model frame, the optional per-nation frame, a
summary, the resolved scenario and the seed; :meth:`RunResult.save` writes them atomically
(each file is written to a temporary name in the target directory, then renamed).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.fileio import atomic_dir
from adoption_model.model import AdoptionModel
from adoption_model.provenance import provenance_record
from adoption_model.scenario import Scenario, load_scenario


@dataclass
class RunResult:
    """Everything one run produced."""

    model_frame: pd.DataFrame
    nation_frame: pd.DataFrame | None
    summary: dict[str, Any]
    scenario: Scenario
    seed: int
    first_adoptions: pd.DataFrame
    events: list[dict[str, Any]] = field(default_factory=list)
    started: str = ""
    finished: str = ""

    def save(self, directory: str | Path) -> Path:
        """Write ``model.parquet``, ``nations.parquet`` (if kept), ``scenario.toml``,
        ``first_adoptions.csv``, ``summary.json`` and ``provenance.json`` into ``directory``.

        The files are written into a temporary directory beside ``directory`` that then
        takes its place (:func:`~adoption_model.fileio.atomic_dir`): a failure, a full disk
        included, leaves the previous result (or nothing) and is a one-line InputError.
        Other files a previous ``directory`` holds are kept.
        """
        fix = "free some space or choose another --out; nothing was changed"
        with atomic_dir(directory, self.FILES, fix=fix) as out:
            self.model_frame.to_parquet(out / "model.parquet", index=False)
            if self.nation_frame is not None:
                self.nation_frame.to_parquet(out / "nations.parquet", index=False)
            self.first_adoptions.to_csv(out / "first_adoptions.csv", index=False)
            (out / "scenario.toml").write_text(self.scenario.to_toml(), encoding="utf-8")
            summary = json.dumps(self.summary, indent=2, default=_json)
            (out / "summary.json").write_text(summary, encoding="utf-8")
            provenance = json.dumps(self.provenance(), indent=2)
            (out / "provenance.json").write_text(provenance, encoding="utf-8")
        return Path(directory)

    #: The files :meth:`save` writes (a previous result's copies are replaced).
    FILES = (
        "model.parquet", "nations.parquet", "first_adoptions.csv", "scenario.toml",
        "summary.json", "provenance.json",
    )  # fmt: skip

    def provenance(self) -> dict[str, Any]:
        """Versions, git commit, seed, scenario hash and timestamps of this run."""
        return provenance_record(
            seed=self.seed,
            scenario_digest=self.scenario.digest(),
            started=self.started,
            finished=self.finished,
        )


def _json(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def summarize(model: AdoptionModel, frame: pd.DataFrame) -> dict[str, Any]:
    """A short, JSON-ready summary of a finished run."""
    from adoption_model.record import time_to as first_hit

    first, last = frame.iloc[0], frame.iloc[-1]

    def time_to(share: float) -> int | None:  # JSON: an int step, or null if never reached
        t = first_hit(frame["adoption_share"], share)
        return None if math.isnan(t) else int(frame["step"].iloc[int(t)])

    return {
        "scenario": model.scenario.name,
        "seed": model.seed,
        "engine": model.engine,
        "rule": model.scenario.rule.kind,
        "network": model.scenario.network.kind,
        "nations": model.n,
        "steps_run": int(last["step"]),
        "stopped_early": bool(getattr(model, "stopped_early", False)),
        "start": str(first["date"]),
        "end": str(last["date"]),
        "adopters_start": int(first["n_adopters"]),
        "adopters_end": int(last["n_adopters"]),
        "adoption_share_end": float(last["adoption_share"]),
        "gdp_weighted_share_end": float(last["gdp_weighted_share"]),
        "miners_end": int(last["n_miners"]),
        "mining_mw_end": float(last["mining_mw"]),
        "btc_sovereign_start": float(first["btc_sovereign"]),
        "btc_sovereign_end": float(last["btc_sovereign"]),
        "btc_bought_total": float(frame["btc_bought"].sum()),
        "btc_mined_total": float(frame["btc_mined"].sum()),
        "btc_sold_total": float(frame["btc_sold"].sum()),
        "supply_share_end": float(last["supply_share"]),
        "btc_price_end": float(last["btc_price"]),
        "imf_detections_total": int(frame["imf_detections"].sum()),
        "time_to_25pct": time_to(0.25),
        "time_to_50pct": time_to(0.50),
        "scenario_digest": model.scenario.digest(),
    }


def run(
    scenario: Any = None,
    seed: int | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run a scenario to its horizon (or until a deterministic rule can change nothing).

    Parameters
    ----------
    scenario : Scenario, str, Path, dict or None
        As :func:`adoption_model.load_scenario` takes it; None is the baseline.
    seed : int, optional
        Overrides ``scenario.seed``; without either a fresh seed is drawn and recorded.
    overrides : dict, optional
        Dotted-key overrides.
    progress : callable, optional
        Called as ``progress(step, total)`` after every step.

    Returns
    -------
    RunResult

    Examples
    --------
    >>> r = run(overrides={"steps": 12}, seed=3)
    >>> len(r.model_frame), r.seed
    (13, 3)
    """
    sc = (
        scenario
        if isinstance(scenario, Scenario) and not overrides
        else load_scenario(scenario, overrides)
    )
    started = _now()
    model = AdoptionModel(sc, seed=seed)
    total = model.scenario.steps
    while model.running and model.steps < total:
        model.step()
        if progress is not None:
            progress(model.steps, total)
    frame = model.model_frame()
    result = RunResult(
        model_frame=frame,
        nation_frame=model.nation_frame(),
        summary=summarize(model, frame),
        scenario=model.scenario,
        seed=model.seed,
        first_adoptions=model.first_adoptions(),
        events=list(model.fired_events),
        started=started,
        finished=_now(),
    )
    return result


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
