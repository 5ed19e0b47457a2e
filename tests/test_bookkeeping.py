"""Regression tests for the bookkeeping defects of issue 10 (part 6).

Each test names the defect it pins: nations that adopt through a dated event count as new
adopters and transmit under the cascade rule; classic runs do not stop early while a dated
event is pending; the Bass coefficients are per step with the annual defaults converted.
"""

from __future__ import annotations

import numpy as np
import pytest

from adoption_model.model import AdoptionModel
from adoption_model.scenario import BASS_P_YEAR, BASS_Q_YEAR, RuleConfig, load_scenario

BRICS = ["ARE", "BRA", "CHN", "EGY", "ETH", "IDN", "IND", "IRN", "RUS", "ZAF"]


def test_event_adopters_count_as_new_with_their_date() -> None:
    """brics_coordination: the 2027-01 jump is counted as new adopters, dated 2027-01."""
    m = AdoptionModel("brics_coordination", seed=5, overrides={"steps": 24})
    m.run_model()
    first = m.first_adoptions().set_index("nation")
    frame = m.model_frame().set_index("date")
    assert set(BRICS) <= set(first.index)
    before = [c for c in BRICS if first.loc[c, "date"] < "2027-01"]
    on_date = [c for c in BRICS if first.loc[c, "date"] == "2027-01"]
    assert len(before) + len(on_date) == len(BRICS)  # nobody's first adoption is later
    assert len(on_date) >= 5  # the coordinated move, not earlier decisions, adopts most
    assert frame.loc["2027-01", "n_new_adopters"] >= len(on_date)
    jump = frame.loc["2027-01", "n_adopters"] - frame.loc["2026-12", "n_adopters"]
    assert frame.loc["2027-01", "n_new_adopters"] >= jump


def _ring_run(kind: str, **extra: object) -> AdoptionModel:
    over = {
        "steps": 30,
        "network.kind": "ring",
        "network.n": 20,
        "network.k": 2,
        "network.attributes": "constant",
        "rule.kind": kind,
        "events": [{"date": "2025-09", "kind": "adopt", "nation": 0}],  # step 3
        **extra,
    }
    m = AdoptionModel(seed=1, overrides=over)
    m.run_model()
    return m


def test_cascade_event_adopter_transmits_and_run_waits_for_the_event() -> None:
    """No seeds: a cascade would stop at step 1; the pending event keeps it running, and
    the event's adopter converts its two ring neighbours the next step (T = 1)."""
    m = _ring_run("cascade", **{"rule.transmission": 1.0})
    first = m.first_adoptions().set_index("nation")["step"]
    assert first["0"] == 3
    assert first["1"] == 4 and first["19"] == 4
    assert first["2"] == 5 and first["18"] == 5
    assert m.model_frame()["n_adopters"].iloc[-1] == 20


def test_threshold_run_does_not_stop_before_a_pending_event() -> None:
    m = _ring_run("threshold", **{"rule.phi": 0.5})
    first = m.first_adoptions().set_index("nation")["step"]
    assert first["0"] == 3  # the event fired although steps 1-2 added nobody
    # events fire before nations look at their neighbours (ODD 7.7): the neighbours see
    # the event's adopter the same month (one of two neighbours = 0.5 >= phi)
    assert first["1"] == 3 and first["19"] == 3
    assert first["2"] == 4 and first["18"] == 4
    assert m.model_frame()["n_adopters"].iloc[-1] == 20


def test_classic_runs_still_stop_early_after_the_last_event() -> None:
    m = _ring_run("threshold", **{"rule.phi": 0.9})  # nobody follows one neighbour in two
    assert m.steps == 4 and m.stopped_early  # the event at step 3, no new adopter at step 4
    assert m.model_frame()["n_adopters"].iloc[-1] == 1


def test_bass_defaults_are_per_month_conversions_of_the_annual_estimates() -> None:
    r = RuleConfig()
    assert r.p == pytest.approx(1.0 - (1.0 - BASS_P_YEAR) ** (1.0 / 12.0))
    assert r.q == pytest.approx(BASS_Q_YEAR / 12.0)
    # twelve monthly innovation hazards reproduce the annual one: with q = 0, the share
    # that adopted after a year is the annual p = 0.03
    shares = []
    for seed in range(4):
        m = AdoptionModel(
            seed=seed,
            overrides={
                "steps": 12,
                "network.kind": "complete",
                "network.n": 5000,
                "network.attributes": "constant",
                "rule.kind": "bass",
                "rule.q": 0.0,
            },
        )
        m.run_model()
        shares.append(m.model_frame()["adoption_share"].iloc[-1])
    assert np.mean(shares) == pytest.approx(BASS_P_YEAR, abs=0.003)  # s.e. about 0.0012
    # the bundled Bass scenario uses the converted values too
    sc = load_scenario("bass_complete")
    assert (sc.rule.p, sc.rule.q) == (r.p, r.q)
