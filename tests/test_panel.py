"""The shipped historical panel: byte-identical rebuild from ../shared/data (when present) and
its invariants (no look-ahead, actions backed by events, states consistent with actions,
counts matching the provenance)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from adoption_model.calibration.panel import (
    PANEL_PARQUET,
    PANEL_PROVENANCE,
    find_shared_data,
    load_panel,
    load_provenance,
)
from adoption_model.nations import load_nations

ROOT = Path(__file__).resolve().parents[1]
SHARED = find_shared_data(ROOT)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return load_panel()


@pytest.fixture(scope="module")
def prov() -> dict:
    return load_provenance()


@pytest.mark.slow
@pytest.mark.skipif(
    SHARED is None,
    reason="no ../shared/data (set ADOPTION_SHARED_DATA to the staged raw data to rebuild)",
)
def test_rebuild_is_byte_identical(tmp_path, prov):
    out = tmp_path / "data"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "build_panel.py"),
            "--source",
            str(SHARED),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "panel_provenance.json").read_bytes() == PANEL_PROVENANCE.read_bytes()
    if prov["panel"]["pyarrow"] == pa.__version__:
        assert (out / "panel.parquet").read_bytes() == PANEL_PARQUET.read_bytes()
    else:  # another Parquet writer: same content, bytes may differ
        pd.testing.assert_frame_equal(load_panel(out / "panel.parquet"), load_panel())


def test_shape_keys_and_licence(panel, prov):
    nations = load_nations().iso3.tolist()
    assert sorted(panel.iso3.unique()) == sorted(nations)
    months = [str(p) for p in pd.period_range("2015-01", "2025-06", freq="M")]
    assert sorted(panel.month.unique()) == months
    assert len(panel) == len(nations) * len(months) == prov["panel"]["rows"]
    assert not panel.duplicated(["iso3", "month"]).any()
    assert "CC BY-NC 4.0" in prov["licences"]["btc_*"]
    assert "Coin Metrics" in prov["licences"]["btc_*"]


def test_no_look_ahead(panel):
    for col in [c for c in panel.columns if c.endswith("_year") and c != "year"]:
        known = panel[col] >= 0
        assert (panel.loc[known, col] < panel.loc[known, "year"]).all(), col
    # market values are those of the previous month
    prev = (pd.PeriodIndex(panel.month, freq="M") - 1).astype(str)
    assert (panel.market_month == prev).all()
    # IMF credit is a 2024-01-31 snapshot: unknown before 2024-02
    assert panel.loc[panel.month < "2024-02", "imf_credit_pct_quota"].isna().all()


def test_every_action_matches_a_counted_event(panel, prov):
    events = {e["event_id"]: e for e in prov["events"]}
    acts = panel[panel.action != "hold"]
    assert len(acts) > 0
    for r in acts.itertuples():
        ids = r.action_events.split(";")
        assert ids and all(i in events for i in ids), r
        for i in ids:
            e = events[i]
            assert (e["iso3"], e["date"], e["action"]) == (r.iso3, r.month, r.action)
            assert e["confidence"] == r.action_confidence or len(ids) > 1
            assert e["confidence"] in ("high", "medium")
    # and every counted event inside the panel's window is an action row
    for e in events.values():
        if e["action"] and "2015-01" <= e["date"] <= "2025-06":
            row = panel[(panel.iso3 == e["iso3"]) & (panel.month == e["date"])]
            assert row.action.item() == e["action"]
            assert e["event_id"] in row.action_events.item().split(";")
    # every event keeps its confidence tag and a reason, counted or not
    assert all(e["confidence"] in ("high", "medium", "low") and e["reason"] for e in prov["events"])


def test_states_consistent_with_actions(panel):
    p = panel.sort_values(["iso3", "month"])
    for _, g in p.groupby("iso3"):
        res, mine, act = g.state_reserve.to_numpy(), g.state_mining.to_numpy(), g.action.to_numpy()
        for t in range(len(g)):
            if act[t] == "adopt":
                assert not res[t]
            if act[t] == "mine":
                assert not mine[t]
            if act[t] == "sell":
                assert g.holdings_btc.iloc[t] > 0
            if t + 1 < len(g):
                if act[t] == "adopt":
                    assert res[t + 1]
                elif act[t] == "sell":
                    assert not res[t + 1]
                else:
                    assert res[t + 1] == res[t]
                assert mine[t + 1] == (mine[t] or act[t] == "mine")
    # an observed policy is public to the neighbours no earlier than it exists
    assert not (p.public_reserve & ~p.state_reserve).any()
    assert not (p.public_mining & ~p.state_mining).any()
    assert p.peer_adopted.between(0, 1).all() and p.world_share_adopted.between(0, 1).all()


def test_start_counts_match_the_provenance(panel, prov):
    acts = panel[panel.action != "hold"]
    got = {a: {} for a in ("adopt", "mine", "sell")}
    for (a, y), c in acts.groupby(["action", "year"]).size().items():
        got[a][str(y)] = int(c)
    assert got == prov["starts_by_year"] == prov["event_file_starts_by_year"]
    # the well-known starts
    starts = {(r.iso3, r.month, r.action) for r in acts.itertuples() if r.action != "sell"}
    assert starts == {
        ("BTN", "2019-04", "mine"),
        ("SLV", "2021-09", "adopt"),
        ("SLV", "2021-10", "mine"),
        ("USA", "2025-03", "adopt"),
        ("PAK", "2025-05", "adopt"),
    }


def test_seizures_and_subnational_rows_are_never_actions(prov):
    for e in prov["events"]:
        if e["category"] == "seizure" or e["actor"] == "subnational":
            assert e["action"] == "", e
