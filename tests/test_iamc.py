"""IAMC export: pyam's documented format (and pyam itself when it is installed)."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from adoption_model.discovery.iamc import (
    IAMC_COLUMNS,
    export_iamc,
    steps_to_iamc,
    to_iamc,
    write_excel_csv,
)
from adoption_model.errors import InputError
from adoption_model.runner import run


@pytest.fixture(scope="module")
def steps() -> pd.DataFrame:
    a = run("baseline", seed=1, overrides={"steps": 30}).model_frame.assign(scenario="baseline")
    b = run("price_crash", seed=1, overrides={"steps": 30}).model_frame
    return pd.concat([a, b.assign(scenario="price crash")], ignore_index=True)


def test_steps_become_yearly_world_rows(steps):
    long = steps_to_iamc(steps)
    assert list(long.columns) == IAMC_COLUMNS
    assert set(long["region"]) == {"World"} and sorted(set(long["year"])) == [2025, 2026, 2027]
    share = long[(long["variable"] == "Sovereign Bitcoin|Adopters|Share of GDP")
                 & (long["scenario"] == "baseline")].set_index("year")["value"]  # fmt: skip
    base = steps[steps["scenario"] == "baseline"]
    dec = base[base["date"].astype(str) == "2026-12"]["gdp_weighted_share"].iloc[0]
    assert share[2026] == pytest.approx(dec)  # the last month of the year


def test_files_follow_the_iamc_template(steps, tmp_path):
    long = steps_to_iamc(steps)
    export_iamc(long, tmp_path / "out.csv")
    export_iamc({"a": long}, tmp_path / "out.xlsx")
    export_iamc([long], tmp_path / "long.csv", layout="long")
    w = pd.read_csv(tmp_path / "out.csv")
    assert list(w.columns) == ["Model", "Scenario", "Region", "Variable", "Unit",
                               "2025", "2026", "2027"]  # fmt: skip
    x = pd.read_excel(tmp_path / "out.xlsx", sheet_name="data")
    assert len(x) == len(w) == long.groupby(["scenario", "variable"]).ngroups
    assert list(pd.read_csv(tmp_path / "long.csv").columns) == IAMC_COLUMNS
    if importlib.util.find_spec("pyam") is None:
        pytest.skip(
            "pyam not installed (not a test dependency: it pins SQLAlchemy < 2.1 "
            "through ixmp4); checked against its documented columns above"
        )
    import pyam

    for f in ("out.csv", "out.xlsx", "long.csv"):
        df = pyam.IamDataFrame(tmp_path / f)
        assert set(df.scenario) == {"baseline", "price crash"} and len(df.data) == len(long)


def test_regions_and_duplicates(tmp_path):
    t = pd.DataFrame({"nation": ["DEU", "FRA"], "gain": [2.0, 1.5], "year": [2035, 2035]})
    long = to_iamc(t, {"gain": ("Key Players|Extra Adopters", "count")}, scenario="s",
                   region="nation")  # fmt: skip
    assert long["region"].tolist() == ["DEU", "FRA"]
    with pytest.raises(InputError, match="two values"):
        export_iamc([long, long], tmp_path / "dup.csv")
    with pytest.raises(InputError, match=".csv or .xlsx"):
        export_iamc(long, tmp_path / "x.json")


def test_excel_csv_has_bom_and_iso_dates(tmp_path):
    t = pd.DataFrame({"name": ["Côte d'Ivoire"], "when": pd.to_datetime(["2025-06-01"])})
    write_excel_csv(t, tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"2025-06-01" in raw and b"00:00" not in raw
    assert pd.read_csv(tmp_path / "t.csv")["name"].iloc[0] == "Côte d'Ivoire"
