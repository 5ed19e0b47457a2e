"""The calibrated nation table: schema, provenance, seed facts, validation and rebuild."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from adoption_model.data import DATA_DIR, load_blocs, load_borders, load_distances
from adoption_model.errors import InputError
from adoption_model.nations import (
    NATION_COLUMNS,
    NATIONS_CSV,
    load_nations,
    lookup_iso3,
    nation_provenance,
)

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "tools" / "build_data.py"


def _load_build_tool():
    """tools/build_data.py, the maintainer's data build (not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_data", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


BUILD = _load_build_tool()
#: The raw staged data, found as the build finds it ($ADOPTION_MODEL_RAW_DATA or the
#: nearest ../shared/data beside the repository or a parent of it).
RAW = BUILD.default_source()

SEED_HOLDINGS = {
    "USA": 207189,
    "CHN": 194000,
    "GBR": 61000,
    "UKR": 46351,
    "BTN": 13029,
    "SLV": 6089,
    "GEO": 66,
    "FIN": 1981,
    "DEU": 0,
}
MISSING_DEBT = ("CUB", "ERI", "LBY", "LIE", "MCO", "PRK", "SOM", "SYR", "VAT")


@pytest.fixture(scope="module")
def nations() -> pd.DataFrame:
    return load_nations()


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "nation_values.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def sources() -> dict:
    with (DATA_DIR / "sources.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_schema_and_ranges(nations: pd.DataFrame) -> None:
    assert list(nations.columns) == list(NATION_COLUMNS)
    assert len(nations) == 197 and nations.iso3.is_unique
    assert list(nations.iso3) == sorted(nations.iso3)
    for col, (kind, constraint) in NATION_COLUMNS.items():
        if kind == "float":
            assert nations[col].dtype == "float64", col
            if constraint == ">0":
                assert (nations[col] > 0).all(), col
            if constraint == ">=0":
                assert (nations[col] >= 0).all(), col
        elif kind == "bool":
            assert nations[col].dtype == bool, col
    assert set(nations.initial_state) <= {"none", "reserve", "mining", "both"}
    assert set(nations.btc_acquisition) <= {"", "seized", "mined", "bought", "donated", "mixed"}
    assert (nations.initial_mining_mw <= nations.energy_surplus_mw).all()
    # cover is reserves / monthly imports, to the table's 6 significant digits
    ratio = nations.reserves_usd / nations.imports_usd_month
    assert ((ratio - nations.reserves_months_imports).abs() <= 1e-4 * ratio + 1e-9).all()


def test_scope_includes_non_un_sovereigns_and_namibia(nations: pd.DataFrame) -> None:
    assert {"PSE", "VAT", "TWN", "XKX", "NAM"} <= set(nations.iso3)
    master = pd.read_csv(DATA_DIR / "nations.csv", keep_default_na=False, na_values=[""])
    assert "NAM" in set(master.iso3)
    assert lookup_iso3("nam") == "NAM"
    prov = nation_provenance("NAM").set_index("field")
    assert prov.at["gdp_usd", "source_id"] == "wdi"


def test_every_value_has_provenance(
    nations: pd.DataFrame, values: pd.DataFrame, sources: dict
) -> None:
    assert list(values.columns) == ["iso3", "field", "value", "year", "source_id", "imputation"]
    fields = [c for c in NATION_COLUMNS if c != "iso3"]
    assert len(values) == 197 * len(fields)
    keyed = values.set_index(["iso3", "field"])
    assert keyed.index.is_unique
    raw = pd.read_csv(NATIONS_CSV, dtype=str, keep_default_na=False)
    for row in raw.itertuples(index=False):
        for field in fields:
            entry = keyed.loc[(row.iso3, field)]
            assert entry.value == getattr(row, field), (row.iso3, field)
            assert entry.year.isdigit() and 1990 <= int(entry.year) <= 2025, (row.iso3, field)
            assert entry.source_id in sources["sources"], (row.iso3, field, entry.source_id)
    flags = set(values.imputation) - {""}
    assert flags <= set(sources["rules"]), flags - set(sources["rules"])
    for entry in sources["sources"].values():
        assert entry["title"] and entry["licence"] and entry["attribution"]


def test_licences_recorded(sources: dict) -> None:
    s = sources["sources"]
    assert s["wdi"]["licence"] == "CC-BY-4.0"
    assert s["ember_2021"]["licence"] == "CC-BY-4.0"
    assert s["geodatasource_borders"]["licence"] == "CC-BY-SA-4.0"
    assert "geodatasource.com" in s["geodatasource_borders"]["attribution"]
    assert s["world_countries"]["licence"] == "ODbL-1.0"
    assert "GPL" in s["country_converter"]["licence"]
    assert "IMF" in s["weo_apr2024"]["licence"]


def test_seed_holdings(nations: pd.DataFrame) -> None:
    held = nations.set_index("iso3").btc_holdings
    for iso3, btc in SEED_HOLDINGS.items():
        assert held[iso3] == btc, iso3
    assert held.sum() == 529705
    assert held[held > 0].index.sort_values().tolist() == sorted(
        k for k, v in SEED_HOLDINGS.items() if v
    )
    fin = nation_provenance("FIN").set_index("field").loc["btc_holdings"]
    assert fin.imputation == "inferred_from_seed_total"


def test_missing_debt_is_flagged(values: pd.DataFrame) -> None:
    debt = values[values.field == "debt_pct_gdp"].set_index("iso3")
    for iso3 in MISSING_DEBT:
        assert debt.at[iso3, "imputation"] in ("regional_median", "stale_pre2022"), iso3
    assert debt.at["PAK", "imputation"] == ""


def test_pakistan_and_bhutan_energy(nations: pd.DataFrame) -> None:
    by = nations.set_index("iso3")
    assert by.at["PAK", "energy_surplus_mw"] == 2000
    pak = nation_provenance("PAK").set_index("field")
    assert pak.at["energy_surplus_mw", "source_id"] == "seed_002"
    assert pak.at["energy_surplus_mw", "imputation"] == "seed_article_override"
    assert "seed article 002" in pak.at["energy_surplus_mw", "source"]
    assert by.at["BTN", "energy_surplus_mw"] == 600
    assert by.at["BTN", "initial_state"] == "mining" and by.at["BTN", "policy_since"] == "2019-04"


def test_policy_states_and_laws(nations: pd.DataFrame) -> None:
    by = nations.set_index("iso3")
    adopted = by[by.initial_state != "none"]
    assert adopted.initial_state.to_dict() == {
        "BTN": "mining",
        "PAK": "reserve",
        "SLV": "reserve",
        "USA": "reserve",
    }
    assert by.at["KAZ", "initial_state"] == "none"
    assert by[by.seized_sale_mandate].index.tolist() == ["DEU"]
    assert sorted(by[by.no_sell_pledge].index) == ["PAK", "USA"]
    assert by.at["SLV", "imf_programme_active"] and by.at["PAK", "imf_programme_active"]


def test_imf_non_members(values: pd.DataFrame, nations: pd.DataFrame) -> None:
    non = {"CUB", "LIE", "MCO", "PRK", "PSE", "TWN", "VAT"}
    by = nations.set_index("iso3")
    assert set(by[~by.imf_member].index) == non
    assert (by.loc[sorted(non), "imf_credit_pct_quota"] == 0).all()
    flagged = values[(values.field == "imf_member") & (values.imputation == "not_member")]
    assert set(flagged.iso3) == non


def test_waemu_reserves_are_flagged(values: pd.DataFrame, nations: pd.DataFrame) -> None:
    waemu = set(nations[nations.waemu_pooled].iso3)
    assert waemu == {"BEN", "BFA", "CIV", "GNB", "MLI", "NER", "SEN", "TGO"}
    res = values[values.field == "reserves_usd"].set_index("iso3")
    assert (res.loc[sorted(waemu), "imputation"] == "waemu_gdp_share").all()


def test_network_files() -> None:
    scope = set(load_nations().iso3)
    borders, dist, blocs = load_borders(), load_distances(), load_blocs()
    assert list(borders.columns) == ["iso3_a", "iso3_b"]
    assert list(dist.columns) == ["iso3_a", "iso3_b", "km"]
    assert list(blocs.columns) == ["iso3", "bloc"]
    assert len(borders) == 317 and len(dist) == 197 * 196 // 2
    for frame in (borders, dist):
        assert set(frame.iso3_a) | set(frame.iso3_b) <= scope
        assert (frame.iso3_a < frame.iso3_b).all()
    assert set(blocs.iso3) <= scope
    assert len(blocs[blocs.bloc == "G20"]) == 19
    assert ("NAM", "AU") in set(zip(blocs.iso3, blocs.bloc, strict=True))


def _damaged(tmp_path: Path, edit) -> Path:
    lines = NATIONS_CSV.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "nations.csv"
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return path


def _set(lines: list[str], iso3: str, column: str, value: str) -> list[str]:
    header = lines[0].split(",")
    out = []
    for line in lines:
        if line.startswith(iso3 + ","):
            row = next(csv.reader([line]))
            row[header.index(column)] = value
            line = ",".join(f'"{v}"' if "," in v else v for v in row)
        out.append(line)
    return out


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        (lambda ls: _set(ls, "PAK", "debt_pct_gdp", "-5"), ("PAK", "debt_pct_gdp")),
        (lambda ls: _set(ls, "DEU", "gdp_usd", "lots"), ("DEU", "gdp_usd")),
        (lambda ls: _set(ls, "USA", "imf_member", "maybe"), ("USA", "imf_member")),
        (lambda ls: _set(ls, "SLV", "initial_state", "hodl"), ("SLV", "initial_state")),
        (
            lambda ls: [line.rsplit(",", 1)[0] for line in ls],
            ("missing column", "energy_export_mw"),
        ),
        (lambda ls: _set(ls, "RUS", "sanctions_exposure", "2"), ("RUS", "sanctions_exposure")),
        (lambda ls: _set(ls, "JPN", "ara_class", "rich"), ("JPN", "ara_class")),
        (lambda ls: _set(ls, "FRA", "currency_union", ""), ("FRA", "currency_union")),
        (lambda ls: ls + [ls[1]], ("duplicate", "AFG")),
        (lambda ls: ls[:100], ("99 rows",)),
    ],
)
def test_damaged_file_gives_one_line_input_error(tmp_path: Path, edit, expect) -> None:
    path = _damaged(tmp_path, edit)
    with pytest.raises(InputError) as info:
        load_nations(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert "rebuild" in message
    for word in expect:
        assert word in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_nations(tmp_path / "nope.csv")


def test_load_returns_copy() -> None:
    first = load_nations()
    first.loc[0, "gdp_usd"] = -1
    assert load_nations().loc[0, "gdp_usd"] > 0


def test_lookup() -> None:
    assert lookup_iso3("pak") == "PAK"
    assert lookup_iso3("Pakistan") == "PAK"
    with pytest.raises(InputError, match="did you mean PAK"):
        lookup_iso3("PAKI")


@pytest.mark.skipif(
    not (RAW / BUILD.SOURCE_MARKER).is_file(),
    reason="raw staged data ../shared/data is not present (it is not part of the repository); "
    f"set {BUILD.SOURCE_ENV} to run the rebuild test",
)
def test_rebuild_is_byte_for_byte(tmp_path: Path) -> None:
    """``python tools/build_data.py`` reproduces every committed data file exactly."""
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--source", str(RAW), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for name in BUILD.GENERATED_FILES:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
    # its SHA256SUMS lists what it wrote, as the committed one does (which also lists the
    # panel's and the fits' files, written by their own tools)
    rebuilt = (tmp_path / "SHA256SUMS").read_text().splitlines()
    committed = set((DATA_DIR / "SHA256SUMS").read_text().splitlines())
    assert len(rebuilt) == len(BUILD.GENERATED_FILES) and set(rebuilt) <= committed


def test_build_without_raw_data_is_one_line_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--source", str(tmp_path), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert BUILD.SOURCE_MARKER in result.stderr and BUILD.SOURCE_ENV in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_source_id_resolves_in_the_registry_or_the_project_assumptions() -> None:
    published, project = BUILD._published_sources(), BUILD._project_sources()
    assert not set(published) & set(project)
    values = pd.read_csv(DATA_DIR / "nation_values.csv", dtype=str, keep_default_na=False)
    used = set(values["source_id"])
    assert used <= set(published) | set(project)


def test_the_package_does_not_ship_the_build() -> None:
    import adoption_model.data as data

    assert not (Path(data.__file__).parent / "build.py").exists()
