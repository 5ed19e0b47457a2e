"""Build the calibrated nation table and its provenance from the raw staged data.

A maintainer's tool, not part of the installed package. Run it from the repository::

    python tools/build_data.py [--source DIR] [--out DIR]

The default source is ``$ADOPTION_MODEL_RAW_DATA`` if set, else the first ``shared/data``
found beside the repository root or one of its parents (``../shared/data`` in the usual
checkout); the default output is the package's data directory ``adoption_model/data``.
The published sources are listed in ``sources_registry.toml`` beside this script. The
build is deterministic: rebuilding from the same raw files reproduces
the committed files byte for byte (fixed float formatting, sorted rows, declared column
order, ``"\\n"`` line endings).

Outputs
-------
``nations.csv``                one row per sovereign nation, columns as in
                               :data:`adoption_model.nations.NATION_COLUMNS`
``nation_values.csv``          long provenance: iso3, field, value, year, source_id, imputation
``sources.toml``               every source id and imputation rule, with licence and attribution
``land_borders.csv``           iso3_a, iso3_b, in_geodatasource, in_world_countries
``centroid_distances_km.csv``  iso3_a, iso3_b, km
``blocs.csv``                  iso3, bloc, source
``quality.md``                 imputed values per field and the weakest nations
``imf_programmes.toml``        rate, size and length of new IMF programmes (ODD 7.5)

Every rule is documented in ``adoption_model/data/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from adoption_model.data import DATA_DIR, update_checksums
from adoption_model.nations import NATION_COLUMNS

#: Repository root (the directory holding pyproject.toml).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Environment variable naming the raw data directory.
SOURCE_ENV = "ADOPTION_MODEL_RAW_DATA"
#: The file whose presence marks a raw data directory.
SOURCE_MARKER = "nation_seed_latest.csv"


def default_source() -> Path:
    """``$ADOPTION_MODEL_RAW_DATA``, else the nearest ``shared/data`` beside the repository
    root or one of its parents that holds the staged data (``../shared/data`` if none)."""
    if os.environ.get(SOURCE_ENV):
        return Path(os.environ[SOURCE_ENV])
    for parent in REPO_ROOT.parents:
        candidate = parent / "shared" / "data"
        if (candidate / SOURCE_MARKER).is_file():
            return candidate
    return REPO_ROOT.parent / "shared" / "data"


#: Simulation start month; policy states and IMF programmes are evaluated on its first day.
START_MONTH = "2025-06"
REFERENCE_DATE = pd.Timestamp("2025-06-01")
#: Values older than this year are kept but flagged ``stale_pre2022``.
FRESH_FROM = 2022
FIRST_YEAR = 2015
#: Last data year used: the last full year before the start month (no look-ahead; the WDI
#: mirror already holds partial 2025 values).
LAST_YEAR = 2024

# --- energy rules (documented in README.md and sources.toml [sources.assumption_energy]) --
#: Share of a net exporter's average net-export power counted as divertible to mining.
DIVERTIBLE_SHARE = 0.5
#: Ember 2021 database year used for net imports and hydro share (one consistent vintage).
EMBER_YEAR = 2019
HYDRO_SHARE_MIN = 0.5
COST_HYDRO_EXPORTER = 35.0
COST_NET_EXPORTER = 50.0
COST_HIGH_INCOME = 80.0
COST_DEFAULT = 65.0
#: World Bank FY2025 high-income threshold (GNI per capita, USD); GDP per capita is the proxy.
HIGH_INCOME_GDP_PC = 14005.0
#: Pakistan: fuel-only cost of idle imported-coal capacity (capacity payments are sunk).
COST_PAK_IDLE_COAL = 50.0
#: El Salvador's LaGeo geothermal pilot: about 300 machines (about 1 MW), 2021-10.
SLV_GEOTHERMAL_MW = 1.0
#: Announced allocations that override the Ember rule: iso3 -> (MW, year, source_id, flag).
ENERGY_OVERRIDES: dict[str, tuple[float, int, str, str]] = {
    "PAK": (2000.0, 2025, "seed_002", "seed_article_override"),
    "BTN": (600.0, 2023, "policy_events_curated", "announced_allocation_override"),
    "SLV": (SLV_GEOTHERMAL_MW, 2021, "sovereign_events_curated", "medium_confidence_event"),
}
#: State capacity to mine: a nation's Ember surplus counts only where the state controls
#: the power it would divert. Categories of sovereign events that show a state directing
#: power to mining (state utility sales to miners, state mining on state power).
STATE_ENERGY_CATEGORIES = ("energy_for_mining", "state_mining_start", "state_mining_expansion")
STATE_ENERGY_ACTORS = ("national_government", "state_owned_enterprise")
#: ARA classes whose hydro exporters count as state-controlled (state hydro utilities);
#: advanced economies' power markets are liberalised or provincial (Canada's hydro
#: provinces restricted crypto mining: Quebec 2018-19, Manitoba 2022, British Columbia 2022).
NON_ADVANCED = ("emerging_market", "low_income_or_credit_constrained")

# --- sanctions rule (documented in README.md, sources.toml [sources.assumption_sanctions]) -
#: Exposure of a nation to sanctions on its reserves, by the broadest scope in force; a
#: freeze of central-bank reserves in force is exposure 1 (the risk has materialised).
SANCTIONS_WEIGHTS = {"comprehensive": 1.0, "sectoral_financial": 0.6, "targeted": 0.25}
SANCTIONS_ORDER = ("", "targeted", "sectoral_financial", "comprehensive")

#: MW already mining at the start: iso3 -> (MW, year, source_id, flag).
INITIAL_MINING: dict[str, tuple[float, int, str, str]] = {
    "BTN": (100.0, 2023, "policy_events_curated", "medium_confidence_event"),
}

# --- reserves rules ----------------------------------------------------------------------
#: West African Economic and Monetary Union: reserves pooled at the BCEAO.
WAEMU = ("BEN", "BFA", "CIV", "GNB", "MLI", "NER", "SEN", "TGO")
#: Central African CFA zone (BEAC): the pooled-reserve peer whose members WDI does report.
CEMAC = ("CAF", "CMR", "COG", "GAB", "GNQ", "TCD")
#: Holy See resident population (no statistical source in the staged data).
VAT_POPULATION = 800.0

# --- policy-state rules --------------------------------------------------------------------
RESERVE_CATEGORIES = (
    "reserve_established",
    "reserve_announced",
    "reserve_purchases_start",
    "reserve_purchases_policy",
)
MINING_CATEGORIES = ("state_mining_start", "state_mining_expansion")

#: Imputation flag -> kind. "imputed" values are filled by a rule; "stale" are real but
#: older than FRESH_FROM; "fallback" come from a second real source; "override" replace a
#: rule value by a documented announcement; "rule" are assumption values; "status" flags
#: record a fact (not an IMF member, not in the seed list), not a gap.
FLAG_KINDS: dict[str, str] = {
    "regional_median": "imputed",
    "regional_median_gdp_per_capita": "imputed",
    "regional_median_months": "imputed",
    "regional_median_imports_pct_gdp": "imputed",
    "merch_imports_scaled": "imputed",
    "waemu_gdp_share": "imputed",
    "documented_assumption": "imputed",
    "no_data_zero": "imputed",
    "inferred_from_seed_total": "imputed",
    "derived_from_imputed": "imputed",
    "weo_fallback": "fallback",
    "schedule_projection": "imputed",
    "curated_unverified": "override",
    "stale_pre2022": "stale",
    "seed_article_override": "override",
    "announced_allocation_override": "override",
    "medium_confidence_event": "override",
    "rule_hydro_exporter": "rule",
    "rule_net_exporter": "rule",
    "rule_high_income": "rule",
    "rule_default": "rule",
    "rule_pak_idle_coal": "rule",
    "rule_state_hydro": "rule",
    "rule_state_directed": "rule",
    "rule_not_state_controlled": "rule",
    "no_net_debt_published": "status",
    "confidence_medium": "status",
    "confidence_low": "status",
    "not_member": "status",
    "not_in_seed_list": "status",
}


@dataclass(frozen=True)
class Cell:
    """One value of the nation table with its provenance."""

    value: Any
    year: int
    source_id: str
    imputation: str = ""


Table = dict[str, dict[str, Cell]]


# ----------------------------------------------------------------------------- formatting
def fmt_float(x: float) -> str:
    """Format a float with 6 significant digits, positional, no trailing zeros."""
    x = float(x)
    if x == 0:
        return "0"
    return np.format_float_positional(x, precision=6, unique=False, fractional=False, trim="-")


def round6(x: float) -> float:
    """Round to the precision written to disk, so derived values agree with the file."""
    return float(fmt_float(x))


def fmt_value(value: Any) -> str:
    """Format a table value as written to CSV."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | int | np.floating | np.integer):
        return fmt_float(value)
    return str(value)


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write a CSV deterministically (UTF-8, ``\\n`` line endings, minimal quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([fmt_value(v) for v in row])
    path.write_bytes(buf.getvalue().encode("utf-8"))


# ----------------------------------------------------------------------------- reading
def read(source: Path, name: str) -> pd.DataFrame:
    """Read a staged CSV without turning codes such as Namibia's ``NA`` into missing."""
    return pd.read_csv(source / name, keep_default_na=False, na_values=[""])


def latest(
    frame: pd.DataFrame, col: str, min_year: int = FIRST_YEAR
) -> dict[str, tuple[float, int]]:
    """Latest non-missing value of ``col`` per iso3 (year >= min_year): {iso3: (value, year)}."""
    keep = frame[col].notna() & frame["year"].between(min_year, LAST_YEAR)
    sub = frame.loc[keep, ["iso3", "year", col]]
    sub = sub.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    return {r.iso3: (float(getattr(r, col)), int(r.year)) for r in sub.itertuples()}


def stale_flag(year: int) -> str:
    return "stale_pre2022" if year < FRESH_FROM else ""


def group_median(
    cells: dict[str, Cell],
    value_of: Callable[[str, Cell], float],
    iso3: str,
    master: pd.DataFrame,
) -> tuple[float, int]:
    """Median over observed nations of iso3's UN region (then continent, then world).

    Only cells with no imputation (or only a stale flag) contribute. Returns the median and
    the most common year among the contributors.
    """
    observed = {k: c for k, c in cells.items() if c.imputation in ("", "stale_pre2022")}
    region = master.at[iso3, "UNregion"]
    continent = master.at[iso3, "continent"]
    for key, want in (("UNregion", region), ("continent", continent), (None, None)):
        members = [k for k in observed if key is None or master.at[k, key] == want]
        if members:
            values = [value_of(k, observed[k]) for k in members]
            years = Counter(observed[k].year for k in members)
            year = max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]
            return float(np.median(values)), year
    raise ValueError(f"no observed values to impute {iso3}")


# ----------------------------------------------------------------------------- fields
def identity(master: pd.DataFrame, blocs: pd.DataFrame, table: Table) -> None:
    """Name, region, continent, centroid, landlocked and bloc list."""
    by_iso = blocs.groupby("iso3")["bloc"].apply(lambda s: ";".join(sorted(set(s))))
    for iso3, row in master.iterrows():
        table["name"][iso3] = Cell(row["name_short"], 2025, "country_converter")
        table["un_region"][iso3] = Cell(row["UNregion"], 2025, "country_converter")
        table["continent"][iso3] = Cell(row["continent"], 2025, "country_converter")
        table["lat"][iso3] = Cell(float(row["lat"]), 2025, "world_countries")
        table["lng"][iso3] = Cell(float(row["lng"]), 2025, "world_countries")
        table["landlocked"][iso3] = Cell(bool(row["landlocked"]), 2025, "world_countries")
        table["blocs"][iso3] = Cell(str(by_iso.get(iso3, "")), 2025, "bloc_memberships")


def size(master: pd.DataFrame, wdi: pd.DataFrame, weo: pd.DataFrame, table: Table) -> None:
    """Population and GDP: WDI, then WEO, then stale values, then a stated rule."""
    wdi_pop, weo_pop = latest(wdi, "population"), latest(weo, "population_m")
    wdi_gdp, weo_gdp = latest(wdi, "gdp_usd"), latest(weo, "gdp_usd_bn")
    for field, primary, fallback, scale in (
        ("population", wdi_pop, weo_pop, 1e6),
        ("gdp_usd", wdi_gdp, weo_gdp, 1e9),
    ):
        for iso3 in master.index:
            cell = None
            p, f = primary.get(iso3), fallback.get(iso3)
            if p and p[1] >= FRESH_FROM:
                cell = Cell(p[0], p[1], "wdi")
            elif f and f[1] >= FRESH_FROM:
                cell = Cell(round6(f[0] * scale), f[1], "weo_apr2024", "weo_fallback")
            elif p or f:
                if p and (not f or p[1] >= f[1]):
                    cell = Cell(p[0], p[1], "wdi", "stale_pre2022")
                else:
                    assert f is not None
                    cell = Cell(round6(f[0] * scale), f[1], "weo_apr2024", "stale_pre2022")
            if cell is not None:
                table[field][iso3] = cell
    for iso3 in master.index:
        if iso3 not in table["population"]:
            if iso3 != "VAT":
                raise ValueError(f"no population for {iso3}: add a documented rule")
            table["population"][iso3] = Cell(
                VAT_POPULATION, 2025, "assumption_population", "documented_assumption"
            )
    pops = table["population"]
    for iso3 in master.index:
        if iso3 in table["gdp_usd"]:
            continue
        pc, year = group_median(
            table["gdp_usd"], lambda k, c: c.value / pops[k].value, iso3, master
        )
        table["gdp_usd"][iso3] = Cell(
            round6(pc * pops[iso3].value), year, "wdi", "regional_median_gdp_per_capita"
        )


def debt(master: pd.DataFrame, weo: pd.DataFrame, table: Table) -> None:
    """General government gross debt, % of GDP (IMF WEO Apr 2024); else regional median."""
    obs = latest(weo, "gg_gross_debt_pct_gdp")
    cells = table["debt_pct_gdp"]
    for iso3 in master.index:
        if iso3 in obs:
            value, year = obs[iso3]
            cells[iso3] = Cell(value, year, "weo_apr2024", stale_flag(year))
    for iso3 in master.index:
        if iso3 not in cells:
            med, year = group_median(cells, lambda k, c: c.value, iso3, master)
            cells[iso3] = Cell(round6(med), year, "weo_apr2024", "regional_median")


def imports_and_reserves(master: pd.DataFrame, wdi: pd.DataFrame, table: Table) -> None:
    """Monthly imports, reserves (incl. gold) and months of import cover."""
    gdp = table["gdp_usd"]
    both = wdi.dropna(subset=["imports_gns_pct_gdp", "gdp_usd"])
    both = (
        both[both.year.between(FIRST_YEAR, LAST_YEAR)]
        .sort_values(["iso3", "year"])
        .groupby("iso3")
        .tail(1)
    )
    gns = {
        r.iso3: (r.imports_gns_pct_gdp / 100 * r.gdp_usd / 12, int(r.year))
        for r in both.itertuples()
    }
    merch = latest(wdi, "merch_imports_usd")
    # Ratio of goods-and-services imports to merchandise imports, same country and year.
    paired = wdi.dropna(subset=["imports_gns_pct_gdp", "gdp_usd", "merch_imports_usd"])
    paired = paired[paired.year.between(FIRST_YEAR, LAST_YEAR) & paired.iso3.isin(master.index)]
    paired = paired.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    ratio = float(
        np.median(paired.imports_gns_pct_gdp / 100 * paired.gdp_usd / paired.merch_imports_usd)
    )
    imports = table["imports_usd_month"]
    for iso3 in master.index:
        if iso3 in gns:
            value, year = gns[iso3]
            flag = stale_flag(year)
            if gdp[iso3].imputation not in ("", "stale_pre2022", "weo_fallback"):
                flag = "derived_from_imputed"
            imports[iso3] = Cell(round6(value), year, "wdi", flag)
        elif iso3 in merch:
            value, year = merch[iso3]
            imports[iso3] = Cell(round6(value * ratio / 12), year, "wdi", "merch_imports_scaled")
    for iso3 in master.index:
        if iso3 not in imports:
            share, _ = group_median(imports, lambda k, c: c.value * 12 / gdp[k].value, iso3, master)
            imports[iso3] = Cell(
                round6(share * gdp[iso3].value / 12),
                gdp[iso3].year,
                "wdi",
                "regional_median_imports_pct_gdp",
            )

    reserves = table["reserves_usd"]
    obs = latest(wdi, "reserves_incl_gold_usd")
    for iso3 in master.index:
        if iso3 in obs and iso3 not in WAEMU:
            value, year = obs[iso3]
            reserves[iso3] = Cell(value, year, "wdi", stale_flag(year))
    # WAEMU: the BCEAO pool is sized at the CEMAC (BEAC) median months of cover times the
    # union's monthly imports, and shared among members by GDP.
    cemac_cover = float(np.median([reserves[k].value / imports[k].value for k in CEMAC]))
    pool = cemac_cover * sum(imports[k].value for k in WAEMU)
    union_gdp = sum(gdp[k].value for k in WAEMU)
    pool_year = max(reserves[k].year for k in CEMAC)
    for iso3 in WAEMU:
        reserves[iso3] = Cell(
            round6(pool * gdp[iso3].value / union_gdp), pool_year, "wdi", "waemu_gdp_share"
        )
    for iso3 in master.index:
        if iso3 not in reserves:
            months, year = group_median(
                reserves, lambda k, c: c.value / imports[k].value, iso3, master
            )
            reserves[iso3] = Cell(
                round6(months * imports[iso3].value), year, "wdi", "regional_median_months"
            )
    cover = table["reserves_months_imports"]
    for iso3 in master.index:
        r, m = reserves[iso3], imports[iso3]
        flags = {r.imputation, m.imputation} - {""}
        if flags - {"stale_pre2022"}:
            flag = "derived_from_imputed"
        else:
            flag = "stale_pre2022" if flags else ""
        cover[iso3] = Cell(round6(r.value / m.value), r.year, "wdi", flag)


def energy(
    master: pd.DataFrame, ember: pd.DataFrame, inst: pd.DataFrame, ev: pd.DataFrame, table: Table
) -> None:
    """Energy: net-export power, the state-controlled surplus (MW) and its cost (USD/MWh).

    ``energy_export_mw`` is the Ember rule (half the average net-export power).
    ``energy_surplus_mw``, what a state can divert to mining, is that power only where the
    state controls it: an announced allocation (override), a state that directed power to
    mining in the curated sovereign events, or a non-advanced hydro exporter (state hydro
    utilities); otherwise 0 (data README, energy rules).
    """
    sub = ember[(ember.year <= EMBER_YEAR) & ember.net_imports_twh.notna()]
    sub = sub.sort_values(["iso3", "year"]).groupby("iso3").tail(1).set_index("iso3")
    directed = ev[
        ev.category.isin(STATE_ENERGY_CATEGORIES)
        & ev.actor.isin(STATE_ENERGY_ACTORS)
        & ev.confidence.isin(("high", "medium"))
        & (ev.date <= START_MONTH)
    ]
    directed_year = directed.groupby("iso3").date.min().str[:4].astype(int).to_dict()
    surplus, cost = table["energy_surplus_mw"], table["energy_cost_usd_mwh"]
    export = table["energy_export_mw"]
    gdp, pop = table["gdp_usd"], table["population"]
    for iso3 in master.index:
        exporter, hydro = False, 0.0
        if iso3 in sub.index:
            row = sub.loc[iso3]
            net = float(row.net_imports_twh)
            exporter = net < 0
            prod = float(row.production_twh)
            hydro = float(row.gen_twh_hydro) / prod if prod > 0 else 0.0
            mw = round6(max(0.0, -net) * 1e6 / 8760 * DIVERTIBLE_SHARE)
            export[iso3] = Cell(mw, int(row.year), "ember_2021")
        else:
            export[iso3] = Cell(0.0, EMBER_YEAR, "ember_2021", "no_data_zero")
        hydro_exporter = exporter and hydro >= HYDRO_SHARE_MIN
        e = export[iso3]
        if iso3 in ENERGY_OVERRIDES:
            mw, year, src, flag = ENERGY_OVERRIDES[iso3]
            surplus[iso3] = Cell(mw, year, src, flag)
        elif e.imputation == "no_data_zero":
            surplus[iso3] = e
        elif iso3 in directed_year:
            surplus[iso3] = Cell(
                e.value, directed_year[iso3], "sovereign_events_curated", "rule_state_directed"
            )
        elif hydro_exporter and inst.at[iso3, "ara_class"] in NON_ADVANCED:
            surplus[iso3] = Cell(e.value, e.year, "ember_2021", "rule_state_hydro")
        else:
            flag = "rule_not_state_controlled" if e.value > 0 else ""
            surplus[iso3] = Cell(0.0, e.year, "ember_2021", flag)
        if iso3 == "PAK":
            value, flag = COST_PAK_IDLE_COAL, "rule_pak_idle_coal"
        elif hydro_exporter:
            value, flag = COST_HYDRO_EXPORTER, "rule_hydro_exporter"
        elif gdp[iso3].value / pop[iso3].value >= HIGH_INCOME_GDP_PC:
            value, flag = COST_HIGH_INCOME, "rule_high_income"
        elif exporter:
            value, flag = COST_NET_EXPORTER, "rule_net_exporter"
        else:
            value, flag = COST_DEFAULT, "rule_default"
        cost[iso3] = Cell(value, 2025, "assumption_energy", flag)


#: USD per SDR used to convert IMF amounts (the SDR was worth USD 1.33-1.37 over 2024-25;
#: IMF SDR valuation). An assumption entry in sources.toml.
USD_PER_SDR = 1.35
#: Facilities with ex-post conditionality and money behind it: upper-credit-tranche GRA
#: arrangements and PRGT loans. The FCL has no ex-post conditionality; the RSF's
#: disbursements are tied to climate reform measures and reviewed with the underlying
#: programme, so its amounts are left out; the PCI/PSI are non-financing.
FINANCING_FACILITIES = {
    "Stand-By Arrangements": "SBA",
    "Extended Fund Facilities": "EFF",
    "Precautionary and Liquidity Line Arrangements": "PLL",
    "ECF": "ECF",
    "SCF": "SCF",
}
#: Months between programme reviews (most EFF/ECF arrangements are reviewed semi-annually;
#: a tranche is disbursed at approval and at each review, in equal parts).
REVIEW_MONTHS = 6
#: The window before the QFR date whose approvals give the rate of new programmes.
HAZARD_WINDOW = (pd.Timestamp("2023-02-01"), pd.Timestamp("2024-01-31"))
QFR_DATE = pd.Timestamp("2024-01-31")


def _months(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def tranche_months(start: pd.Timestamp, end: pd.Timestamp) -> list[int]:
    """Month offsets from ``start`` of a programme's tranches: approval, then every review.

    >>> tranche_months(pd.Timestamp("2024-09-25"), pd.Timestamp("2027-10-25"))
    [0, 6, 12, 18, 24, 30, 36]
    """
    return list(range(0, _months(start, end) + 1, REVIEW_MONTHS))


def _undisbursed(
    start: pd.Timestamp, end: pd.Timestamp, left: float, anchor: pd.Timestamp
) -> float:
    """``left`` undisbursed at ``anchor``, spread in equal tranches over the later tranche
    months; the part still undisbursed after the start month (``REFERENCE_DATE``)."""
    months = [start + pd.DateOffset(months=k) for k in tranche_months(start, end)]
    ref = REFERENCE_DATE.to_period("M")
    after_anchor = [m for m in months if m.to_period("M") > anchor.to_period("M")]
    after_ref = [m for m in after_anchor if m.to_period("M") > ref]
    return left * len(after_ref) / len(after_anchor) if after_anchor else 0.0


def _amount_usd(text: str) -> float:
    """``~SDR 5.32bn (~USD 7bn)`` -> USD; the first amount given, SDR converted."""
    m = re.search(r"(SDR|USD) ([\d.]+)\s*(bn|m)", text)
    if not m:
        raise ValueError(f"unparsed IMF programme size {text!r}")
    value = float(m.group(2)) * (1e9 if m.group(3) == "bn" else 1e6)
    return value * (USD_PER_SDR if m.group(1) == "SDR" else 1.0)


def _financing_groups(arr: pd.DataFrame) -> pd.DataFrame:
    """One row per nation and programme: blended arrangements (EFF + ECF with the same
    dates) are one programme; facility names joined, amounts summed."""
    fin = arr[arr.facility.isin(FINANCING_FACILITIES)].copy()
    fin["short"] = fin.facility.map(FINANCING_FACILITIES)
    return (
        fin.groupby(["iso3", "arrangement_date", "expiration_date"], as_index=False)
        .agg(
            facility=("short", lambda x: "/".join(sorted(set(x)))),
            committed_sdr_m=("amount_committed_sdr_m", "sum"),
            undrawn_sdr_m=("undrawn_2024-01-31_sdr_m", "sum"),
        )
        .assign(
            start=lambda d: pd.to_datetime(d.arrangement_date),
            end=lambda d: pd.to_datetime(d.expiration_date),
        )
    )


def imf_hazard(credit: pd.DataFrame, arr: pd.DataFrame) -> dict[str, Any]:
    """The rate of new financing programmes, their size and length, from the QFR.

    Rate: nation-level financing programmes approved in the twelve months to 31 January
    2024 (``HAZARD_WINDOW``), divided by the nations at risk at the window's start (IMF
    members with credit outstanding and no financing programme in force on 1 February
    2023). Size (% of quota) and length (months): medians over every financing programme
    in the QFR. Arrangements approved and expired inside the window are not in the QFR (a
    small undercount).
    """
    groups = _financing_groups(arr)
    quota = credit.set_index("iso3").quota_sdr_m
    lo, hi = HAZARD_WINDOW
    approved = groups[(groups.start >= lo) & (groups.start <= hi)]
    in_force = set(groups[(groups.start < lo) & (groups.end >= lo)].iso3)
    borrowers = set(credit[credit.total_imf_credit_outstanding_sdr_m > 0].iso3)
    at_risk = borrowers - in_force
    new = approved[approved.iso3.isin(at_risk)]
    months = [_months(r.start, r.end) for r in groups.itertuples()]
    pct = [100 * r.committed_sdr_m / quota[r.iso3] for r in groups.itertuples()]
    return {
        "new_programmes_in_window": int(new.iso3.nunique()),
        "nations_at_risk": len(at_risk),
        "rate_per_year": round(new.iso3.nunique() / len(at_risk), 6),
        "size_pct_quota_median": round(float(np.median(pct)), 6),
        "months_median": int(np.median(months)),
        "window": f"{lo.date()}..{hi.date()}",
        "usd_per_sdr": USD_PER_SDR,
        "review_months": REVIEW_MONTHS,
    }


# ----------------------------------------------------------------------------- institutions
def _confidence_flag(confidence: str) -> str:
    """The curated files' confidence tag as a provenance flag (high: no flag)."""
    return {"high": "", "medium": "confidence_medium", "low": "confidence_low"}[confidence]


def institutions(master: pd.DataFrame, inst: pd.DataFrame, table: Table) -> None:
    """Currency regime and union, reserve-currency issuer, ARA class, income group (2025-06)."""
    if sorted(inst.index) != list(master.index):
        raise ValueError("nation_institutions_curated.csv and countries_master.csv disagree")
    for iso3 in master.index:
        row = inst.loc[iso3]
        flag = _confidence_flag(str(row.confidence))
        union = "" if pd.isna(row.currency_union) else str(row.currency_union)
        income = "" if pd.isna(row.income_group_wb) else str(row.income_group_wb)
        for field, value, year in (
            ("currency_regime", str(row.currency_regime), 2025),
            ("currency_union", union, 2025),
            ("reserve_currency_issuer", str(row.reserve_currency_issuer) == "True", 2025),
            ("ara_class", str(row.ara_class), 2025),
            ("income_group", income, 2024),
        ):
            table[field][iso3] = Cell(value, year, "institutions_curated", flag)


def net_debt(master: pd.DataFrame, weo: pd.DataFrame, table: Table) -> None:
    """General government net debt, % of GDP (WEO Apr 2024, years <= 2024); else empty."""
    obs = latest(weo, "gg_net_debt_pct_gdp")
    for iso3 in master.index:
        if iso3 in obs:
            value, year = obs[iso3]
            table["net_debt_pct_gdp"][iso3] = Cell(value, year, "weo_apr2024", stale_flag(year))
        else:
            table["net_debt_pct_gdp"][iso3] = Cell(
                "", LAST_YEAR, "weo_apr2024", "no_net_debt_published"
            )


def _months_after(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def sanctions_in_force(rows: pd.DataFrame, month: str) -> pd.DataFrame:
    """Programmes in force at the start of ``month``: started before it, not ended before.

    The panel's convention (tools/build_panel.py): a programme that starts in month s is
    in force from s + 1; one that ends in month e is in force through e.
    """
    end = rows.end.fillna("9999-12")
    return rows[(rows.start < month) & (end >= month)]


def sanctions_score(rows: pd.DataFrame) -> tuple[str, bool, float, str]:
    """Broadest scope, reserves frozen, exposure and weakest confidence of ``rows`` in force."""
    if rows.empty:
        return "", False, 0.0, "high"
    scope = max(rows.scope, key=SANCTIONS_ORDER.index)
    frozen = bool((rows.central_bank_reserves_frozen.astype(str) == "True").any())
    exposure = 1.0 if frozen else SANCTIONS_WEIGHTS[scope]
    weakest = (
        "low"
        if "low" in set(rows.confidence)
        else ("medium" if "medium" in set(rows.confidence) else "high")
    )
    return scope, frozen, exposure, weakest


def sanctions(master: pd.DataFrame, sanc: pd.DataFrame, table: Table) -> list[list[Any]]:
    """Sanctions exposure at the start month, and its dated changes after it."""
    unknown = sorted(set(sanc.iso3) - set(master.index))
    if unknown:
        raise ValueError(f"sanctions_programmes_curated.csv: unknown iso3 {unknown}")
    changes: list[list[Any]] = []
    for iso3 in master.index:
        rows = sanc[sanc.iso3 == iso3]
        now = sanctions_in_force(rows, START_MONTH)
        scope, frozen, exposure, conf = sanctions_score(now)
        flag = _confidence_flag(conf)
        year = 2025  # the programmes in force at the start month
        table["sanctions_scope"][iso3] = Cell(scope, year, "sanctions_curated", flag)
        table["sanctions_reserves_frozen"][iso3] = Cell(frozen, year, "sanctions_curated", flag)
        table["sanctions_exposure"][iso3] = Cell(exposure, year, "sanctions_curated", flag)
        later = sorted(
            {_months_after(m) for m in pd.concat([rows.start, rows.end.dropna()])} - {""}
        )
        prev = (scope, frozen, exposure)
        for month in (m for m in later if m > START_MONTH):
            sc, fr, ex, cf = sanctions_score(sanctions_in_force(rows, month))
            if (sc, fr, ex) != prev:
                changes.append(
                    [iso3, month, "sanctions_exposure", ex, sc, fr, "sanctions_curated", cf]
                )
                prev = (sc, fr, ex)
    return changes


#: Legal statuses of crypto_legal_status_curated.csv and what each sets (None: no change).
LEGAL_EFFECTS: dict[str, dict[str, bool]] = {
    "absolute_ban": {"crypto_absolute_ban": True},
    "implicit_ban": {"crypto_implicit_ban": True},
    "ban_lifted": {
        "crypto_absolute_ban": False,
        "crypto_implicit_ban": False,
        "crypto_mining_ban": False,
    },
    "mining_ban": {"crypto_mining_ban": True},
    "mining_legalised": {"crypto_mining_ban": False},
    "legal_tender": {"crypto_legal_tender": True},
    "legal_tender_repealed": {"crypto_legal_tender": False},
    "regulated_legal": {},
}
LEGAL_FIELDS = ("crypto_absolute_ban", "crypto_implicit_ban", "crypto_mining_ban")


def legal_status(master: pd.DataFrame, legal: pd.DataFrame, table: Table) -> list[list[Any]]:
    """Crypto legal status at the start month (rows dated before it), and later changes.

    Regional measures (a scope note starting "regional", Russia 2025) are not national
    bans and are not applied. Rows dated after the start month become dated changes.
    """
    unknown = sorted(set(legal.status) - set(LEGAL_EFFECTS))
    if unknown:
        raise ValueError(f"crypto_legal_status_curated.csv: unknown status {unknown}")
    legal = legal.sort_values(["iso3", "date"], kind="stable")
    changes: list[list[Any]] = []
    for iso3 in master.index:
        state = dict.fromkeys((*LEGAL_FIELDS, "crypto_legal_tender"), False)
        cells: dict[str, Cell] = {f: Cell(False, 2025, "crypto_legal_curated") for f in state}
        for r in legal[legal.iso3 == iso3].itertuples():
            if str(r.scope_note).lower().startswith("regional"):
                continue
            effects = LEGAL_EFFECTS[r.status]
            if r.date < START_MONTH:
                for f, v in effects.items():
                    state[f] = v
                    cells[f] = Cell(
                        v, int(r.date[:4]), "crypto_legal_curated", _confidence_flag(r.confidence)
                    )
            else:
                for f, v in effects.items():
                    if f in ("crypto_absolute_ban", "crypto_mining_ban"):
                        changes.append(
                            [iso3, r.date, f, v, "", False, "crypto_legal_curated", r.confidence]
                        )
        for f, c in cells.items():
            table[f][iso3] = c
    return changes


DATED_CHANGES_HEADER = [
    "iso3",
    "date",
    "field",
    "value",
    "sanctions_scope",
    "sanctions_reserves_frozen",
    "source_id",
    "confidence",
]


def imf(
    master: pd.DataFrame, credit: pd.DataFrame, arr: pd.DataFrame, upd: pd.DataFrame, table: Table
) -> None:
    """IMF membership, credit, quota and the programme in force at the start month.

    A nation's programme is its financing arrangement in force on ``REFERENCE_DATE`` (the
    QFR's, replaced by a later curated one); its undisbursed amount at the start is what
    the equal-tranche schedule leaves after the start month (from the QFR's undrawn amount
    on 31 January 2024, or the curated size). Non-financing instruments (Paraguay's PCI)
    are recorded with ``imf_financing`` false and no money.
    """
    credit = credit.set_index("iso3")
    prog: dict[str, dict[str, Cell]] = {}

    def put(iso3: str, year: int, src: str, flag: str, **values: Any) -> None:
        prog[iso3] = {k: Cell(v, year, src, flag) for k, v in values.items()}

    groups = _financing_groups(arr)
    for r in groups.sort_values("start").itertuples():
        if r.start <= REFERENCE_DATE <= r.end:
            left = _undisbursed(r.start, r.end, r.undrawn_sdr_m * 1e6 * USD_PER_SDR, QFR_DATE)
            put(
                r.iso3,
                2024,
                "imf_qfr_2024_01",
                "schedule_projection",
                imf_facility=r.facility,
                imf_financing=True,
                imf_programme_start=r.start.strftime("%Y-%m"),
                imf_programme_end=r.end.strftime("%Y-%m"),
                imf_programme_usd=round6(r.committed_sdr_m * 1e6 * USD_PER_SDR),
                imf_undisbursed_usd=round6(left),
            )
    for r in upd.itertuples():
        start, end = _update_window(r.approval_date, r.duration)
        facility = str(r.facility)
        if not (start <= REFERENCE_DATE <= end) or facility == "RSF":
            continue  # RSF amounts are left out (see FINANCING_FACILITIES)
        flag = "curated_unverified"
        if facility.startswith("PCI"):  # non-financing: no money, no disbursement reviews
            put(
                r.iso3,
                start.year,
                "imf_updates_curated",
                flag,
                imf_facility="PCI",
                imf_financing=False,
                imf_programme_start=start.strftime("%Y-%m"),
                imf_programme_end=end.strftime("%Y-%m"),
                imf_programme_usd=0.0,
                imf_undisbursed_usd=0.0,
            )
            continue
        if r.iso3 in prog and "ongoing" in str(r.note):
            continue  # the QFR row is the same arrangement, with its amounts
        size = _amount_usd(str(r.size))
        if "augmentation" in facility:  # the QFR arrangement, with a larger total
            base = groups[(groups.iso3 == r.iso3) & (groups.end >= REFERENCE_DATE)].iloc[-1]
            drawn = (base.committed_sdr_m - base.undrawn_sdr_m) * 1e6 * USD_PER_SDR
            start, end = base.start, base.end
            left = _undisbursed(start, end, max(size - drawn, 0.0), QFR_DATE)
            name = base.facility
        else:
            left = _undisbursed(start, end, size, start - pd.DateOffset(months=1))
            name = facility.split()[0]
        put(
            r.iso3,
            start.year,
            "imf_updates_curated",
            flag,
            imf_facility=name,
            imf_financing=True,
            imf_programme_start=start.strftime("%Y-%m"),
            imf_programme_end=end.strftime("%Y-%m"),
            imf_programme_usd=round6(size),
            imf_undisbursed_usd=round6(left),
        )
    none = {
        "imf_facility": "",
        "imf_financing": False,
        "imf_programme_start": "",
        "imf_programme_end": "",
        "imf_programme_usd": 0.0,
        "imf_undisbursed_usd": 0.0,
    }
    for iso3 in master.index:
        if iso3 in credit.index:
            table["imf_member"][iso3] = Cell(True, 2024, "imf_qfr_2024_01")
            pct = float(credit.at[iso3, "credit_pct_of_quota"])
            table["imf_credit_pct_quota"][iso3] = Cell(pct, 2024, "imf_qfr_2024_01")
            quota = round6(float(credit.at[iso3, "quota_sdr_m"]) * 1e6 * USD_PER_SDR)
            table["imf_quota_usd"][iso3] = Cell(quota, 2024, "imf_qfr_2024_01")
            cells = prog.get(iso3) or {k: Cell(v, 2024, "imf_qfr_2024_01") for k, v in none.items()}
            for field, cell in cells.items():
                table[field][iso3] = cell
            fin = cells["imf_financing"]
            table["imf_programme_active"][iso3] = Cell(
                bool(fin.value), fin.year, fin.source_id, fin.imputation
            )
        else:
            values = {**none, "imf_member": False, "imf_credit_pct_quota": 0.0}
            values.update(imf_quota_usd=0.0, imf_programme_active=False)
            for field, value in values.items():
                table[field][iso3] = Cell(value, 2024, "imf_qfr_2024_01", "not_member")


def _update_window(approval: str, duration: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start and end of a curated IMF arrangement ("37 months", "4 years", "to 2026-10")."""
    start = pd.Timestamp(approval)
    text = "" if pd.isna(duration) else str(duration).strip()
    if m := re.fullmatch(r"(\d+) months", text):
        return start, start + pd.DateOffset(months=int(m.group(1)))
    if m := re.fullmatch(r"(\d+) years", text):
        return start, start + pd.DateOffset(years=int(m.group(1)))
    if m := re.fullmatch(r"to (\d{4}-\d{2})", text):
        return start, pd.Timestamp(m.group(1)) + pd.offsets.MonthEnd(0)
    if not text:  # no duration stated: active from approval (e.g. PAK RSF, May 2025)
        return start, pd.Timestamp.max
    raise ValueError(f"unparsed IMF arrangement duration {duration!r}")


def bitcoin(
    master: pd.DataFrame, holdings: pd.DataFrame, events: pd.DataFrame, table: Table
) -> None:
    """Holdings, acquisition channel, sale mandate, no-sell pledge and initial policy state."""
    seed = holdings[holdings.snapshot.str.startswith("seed_2025")].set_index("iso3")
    events = events.copy()
    events["year"] = events.date.str[:4].astype(int)
    high = events[(events.confidence == "high") & (events.date <= START_MONTH)]
    for iso3 in master.index:
        if iso3 in seed.index:
            row = seed.loc[iso3]
            flag = "inferred_from_seed_total" if "[inferred]" in row.snapshot else ""
            table["btc_holdings"][iso3] = Cell(float(row.btc), 2025, "btc_seed_2025", flag)
            channel = _channel(str(row.acquisition_channel))
            table["btc_acquisition"][iso3] = Cell(channel, 2025, "btc_seed_2025", flag)
        else:
            table["btc_holdings"][iso3] = Cell(0.0, 2025, "btc_seed_2025", "not_in_seed_list")
            table["btc_acquisition"][iso3] = Cell("", 2025, "btc_seed_2025", "not_in_seed_list")
        mine = high[high.iso3 == iso3]
        mandate = mine[(mine.category == "sale") & mine.event.str.contains("mandatory")]
        table["seized_sale_mandate"][iso3] = _event_flag(mandate)
        pledge = mine[mine.event.str.contains(r"not to be sold|never to sell", regex=True)]
        table["no_sell_pledge"][iso3] = _event_flag(pledge)
        reserve = mine[mine.category.isin(RESERVE_CATEGORIES)]
        mining = mine[mine.category.isin(MINING_CATEGORIES)]
        state = {(False, False): "none", (True, False): "reserve", (False, True): "mining"}.get(
            (not reserve.empty, not mining.empty), "both"
        )
        setting = pd.concat([reserve, mining]).sort_values("date")
        if setting.empty:
            table["initial_state"][iso3] = Cell("none", 2025, "policy_events_curated")
            table["policy_since"][iso3] = Cell("", 2025, "policy_events_curated")
        else:
            first = setting.iloc[0]
            table["initial_state"][iso3] = Cell(state, int(first.year), "policy_events_curated")
            table["policy_since"][iso3] = Cell(first.date, int(first.year), "policy_events_curated")
        if iso3 in INITIAL_MINING:
            mw, year, src, flag = INITIAL_MINING[iso3]
            table["initial_mining_mw"][iso3] = Cell(mw, year, src, flag)
        else:
            table["initial_mining_mw"][iso3] = Cell(0.0, 2025, "policy_events_curated")
        table["waemu_pooled"][iso3] = Cell(iso3 in WAEMU, 2025, "waemu_membership")


def _channel(text: str) -> str:
    """Map the curated acquisition text to one of seized, mined, bought, donated, mixed."""
    text = text.lower()
    found = [
        name
        for key, name in (
            ("seiz", "seized"),
            ("mining", "mined"),
            ("purchase", "bought"),
            ("donation", "donated"),
        )
        if key in text
    ]
    if "+" in text or len(found) > 1:
        return "mixed"
    return found[0] if found else ""


def _event_flag(rows: pd.DataFrame) -> Cell:
    if rows.empty:
        return Cell(False, 2025, "policy_events_curated")
    return Cell(True, int(rows.iloc[0].year), "policy_events_curated")


# ----------------------------------------------------------------------------- networks
def network_files(source: Path, scope: list[str], out: Path) -> pd.DataFrame:
    """Write land_borders.csv, centroid_distances_km.csv and blocs.csv; return blocs."""
    keep = set(scope)
    borders = read(source, "land_borders_undirected.csv")
    borders = borders[borders.iso3_a.isin(keep) & borders.iso3_b.isin(keep)].copy()
    a, b = borders[["iso3_a", "iso3_b"]].min(axis=1), borders[["iso3_a", "iso3_b"]].max(axis=1)
    borders["iso3_a"], borders["iso3_b"] = a, b
    borders = borders.sort_values(["iso3_a", "iso3_b"])
    write_csv(
        out / "land_borders.csv",
        ["iso3_a", "iso3_b", "in_geodatasource", "in_world_countries"],
        (
            (r.iso3_a, r.iso3_b, bool(r.in_geodatasource), bool(r.in_world_countries))
            for r in borders.itertuples()
        ),
    )
    dist = read(source, "centroid_distances_km.csv")
    dist = dist[dist.iso3_a.isin(keep) & dist.iso3_b.isin(keep)].copy()
    a, b = dist[["iso3_a", "iso3_b"]].min(axis=1), dist[["iso3_a", "iso3_b"]].max(axis=1)
    dist["iso3_a"], dist["iso3_b"] = a, b
    dist = dist.sort_values(["iso3_a", "iso3_b"])
    write_csv(
        out / "centroid_distances_km.csv",
        ["iso3_a", "iso3_b", "km"],
        ((r.iso3_a, r.iso3_b, float(r.centroid_distance_km)) for r in dist.itertuples()),
    )
    blocs = read(source, "bloc_memberships_long.csv")
    blocs = blocs[blocs.iso3.isin(keep)].copy()
    # country_converter's G20 lists every EU member (the EU is a G20 member); the bloc here
    # is the 19 member countries, taken from Ember's g20 flag. Other ember_* flags duplicate
    # EU/G7/OECD and are dropped.
    g20 = blocs[blocs.bloc == "ember_g20_flag"].assign(bloc="G20")
    blocs = pd.concat([blocs[~blocs.bloc.str.startswith("ember_") & (blocs.bloc != "G20")], g20])
    blocs["source_id"] = blocs.source.map(_bloc_source)
    blocs = blocs.drop_duplicates(["iso3", "bloc"]).sort_values(["iso3", "bloc"])
    write_csv(
        out / "blocs.csv",
        ["iso3", "bloc", "source"],
        ((r.iso3, r.bloc, r.source_id) for r in blocs.itertuples()),
    )
    return blocs


def _bloc_source(text: str) -> str:
    if text.startswith("country_converter"):
        return "country_converter"
    if text.startswith("Ember"):
        return "ember_api"
    return "blocs_curated"


# ----------------------------------------------------------------------------- sources
#: The published sources (titles, commits, licences, attributions), kept as a data file.
SOURCES_REGISTRY = Path(__file__).resolve().with_name("sources_registry.toml")


def _published_sources() -> dict[str, dict[str, Any]]:
    """The entries of :data:`SOURCES_REGISTRY`, by source id."""
    with SOURCES_REGISTRY.open("rb") as handle:
        return tomllib.load(handle)["sources"]


def _project_sources() -> dict[str, dict[str, Any]]:
    """The project's own assumptions, stated from the constants this build applies."""
    return {
        "waemu_membership": {
            "title": "WAEMU (UEMOA) membership; reserves pooled at the BCEAO",
            "publisher": "project",
            "licence": "facts",
            "attribution": "Members: " + " ".join(WAEMU) + ".",
        },
        "assumption_energy": {
            "title": "Energy surplus and opportunity-cost rules (project assumption)",
            "publisher": "project",
            "licence": "project (MIT)",
            "attribution": "adoption-model data README, energy rules.",
            "divertible_share": DIVERTIBLE_SHARE,
            "ember_year": EMBER_YEAR,
            "hydro_share_min": HYDRO_SHARE_MIN,
            "cost_hydro_exporter_usd_mwh": COST_HYDRO_EXPORTER,
            "cost_net_exporter_usd_mwh": COST_NET_EXPORTER,
            "cost_high_income_usd_mwh": COST_HIGH_INCOME,
            "cost_default_usd_mwh": COST_DEFAULT,
            "cost_pak_idle_coal_usd_mwh": COST_PAK_IDLE_COAL,
            "high_income_gdp_per_capita_usd": HIGH_INCOME_GDP_PC,
        },
        "assumption_sanctions": {
            "title": "Sanctions exposure by scope (project assumption)",
            "publisher": "project",
            "licence": "project (MIT)",
            "attribution": "adoption-model data README, sanctions rule: exposure = 1 where "
            "central-bank reserves are frozen, else the weight of the broadest scope in force.",
            **{f"weight_{k}": v for k, v in SANCTIONS_WEIGHTS.items()},
        },
        "assumption_population": {
            "title": "Holy See resident population (project assumption)",
            "publisher": "project",
            "licence": "project (MIT)",
            "attribution": "Order of magnitude (about 800 residents) as commonly reported.",
            "value": VAT_POPULATION,
        },
    }


def sources_registry() -> dict[str, Any]:
    """Every source id and imputation rule, as written to sources.toml."""
    src = _published_sources()
    src.update(_project_sources())
    rules: dict[str, str] = {
        "regional_median": "Median of the observed values in the nation's UN region "
        "(continent, then world, if the region has none).",
        "regional_median_gdp_per_capita": "Population times the UN-region median GDP per capita.",
        "regional_median_months": "Monthly imports times the UN-region median months of "
        "import cover.",
        "regional_median_imports_pct_gdp": "GDP times the UN-region median imports share of "
        "GDP, divided by 12.",
        "merch_imports_scaled": "WDI merchandise imports times the median ratio of goods-and-"
        "services to merchandise imports across nations, divided by 12.",
        "waemu_gdp_share": "BCEAO pool = CEMAC median months of cover x WAEMU monthly "
        "imports; each member gets its GDP share.",
        "documented_assumption": "A stated value from an assumption entry in this file.",
        "no_data_zero": "No electricity data: zero surplus.",
        "inferred_from_seed_total": "Seed total 529,705 minus the listed nations (Finland).",
        "derived_from_imputed": "Computed from inputs at least one of which is imputed.",
        "weo_fallback": "WDI has no value for 2022+: IMF WEO value used.",
        "stale_pre2022": "Latest available value is older than 2022; kept as is.",
        "seed_article_override": "Announced allocation from a seed article replaces the rule.",
        "announced_allocation_override": "Announced allocation (curated policy event) "
        "replaces the rule.",
        "medium_confidence_event": "Magnitude from a medium-confidence policy event.",
        "rule_hydro_exporter": f"Net exporter in Ember {EMBER_YEAR} with hydro >= "
        f"{HYDRO_SHARE_MIN:.0%} of generation: USD {COST_HYDRO_EXPORTER:g}/MWh.",
        "rule_high_income": f"Otherwise, GDP per capita >= USD {HIGH_INCOME_GDP_PC:g}: "
        f"USD {COST_HIGH_INCOME:g}/MWh.",
        "rule_net_exporter": f"Otherwise, a net exporter: USD {COST_NET_EXPORTER:g}/MWh.",
        "rule_default": f"Everyone else: USD {COST_DEFAULT:g}/MWh.",
        "rule_pak_idle_coal": "Pakistan, idle coal capacity (seed article 002): fuel-only "
        f"cost USD {COST_PAK_IDLE_COAL:g}/MWh.",
        "rule_state_hydro": "Non-advanced net exporter with hydro >= "
        f"{HYDRO_SHARE_MIN:.0%} of generation: its net-export surplus is state-controlled "
        "(state hydro utilities).",
        "rule_state_directed": "The state directed power to mining (curated sovereign events: "
        + ", ".join(STATE_ENERGY_CATEGORIES)
        + "): its net-export surplus is state-controlled.",
        "rule_not_state_controlled": "Net exporter whose power the state does not direct "
        "(advanced economy, or no state action in the events): no state surplus.",
        "no_net_debt_published": "WEO Apr 2024 has no net debt for this nation (years <= "
        f"{LAST_YEAR}): empty; the model uses gross debt.",
        "confidence_medium": "Hand-curated value tagged medium confidence: a working "
        "assumption, not a verified fact.",
        "confidence_low": "Hand-curated value tagged low confidence: a working assumption "
        "(an analogy or an uncertain classification).",
        "not_member": "Not an IMF member: not a member, zero credit, no programme.",
        "schedule_projection": "IMF programme in force on the start date; its undisbursed "
        "amount at the start month spreads the QFR's undrawn amount (31 January 2024) in "
        f"equal tranches over the reviews every {REVIEW_MONTHS} months to its end date.",
        "curated_unverified": "IMF programme from the hand-curated updates after January "
        "2024 (IMF press releases, not a dataset; verify): size as stated (SDR at "
        f"USD {USD_PER_SDR:g}), equal tranches at approval and every {REVIEW_MONTHS} months.",
        "not_in_seed_list": "Not in the seed holdings table: zero holdings.",
    }
    return {
        "sources": {k: src[k] for k in sorted(src)},
        "rules": {k: {"kind": FLAG_KINDS[k], "description": rules[k]} for k in sorted(rules)},
    }


# ----------------------------------------------------------------------------- quality
def quality_report(table: Table, scope: list[str]) -> str:
    """Markdown: flagged values per field by kind, and the weakest nations."""
    fields = [f for f in NATION_COLUMNS if f != "iso3"]
    kinds = ["imputed", "fallback", "stale", "override", "rule", "status"]
    lines = [
        "# Data quality (generated by `python tools/build_data.py`; do not edit)",
        "",
        "## Imputed values per field",
        "",
        "Counts of nations (of 197) whose value carries each kind of flag (see README.md).",
        "",
        "| field | " + " | ".join(kinds) + " | flags |",
        "|---|" + "---|" * (len(kinds) + 1),
    ]
    for field in fields:
        flags = Counter(table[field][i].imputation for i in scope)
        flags.pop("", None)
        if not flags:
            continue
        by_kind = Counter()
        for flag, n in flags.items():
            by_kind[FLAG_KINDS[flag]] += n
        detail = ", ".join(f"{f} {n}" for f, n in sorted(flags.items()))
        lines.append(
            f"| {field} | " + " | ".join(str(by_kind[k]) for k in kinds) + f" | {detail} |"
        )
    lines += [
        "",
        "## Weakest nations",
        "",
        "Nations with the most imputed fields (then stale fields).",
        "",
        "| iso3 | name | imputed | stale | imputed fields | stale fields |",
        "|---|---|---|---|---|---|",
    ]
    scores = []
    for iso3 in scope:
        imp = [f for f in fields if FLAG_KINDS.get(table[f][iso3].imputation) == "imputed"]
        stale = [f for f in fields if table[f][iso3].imputation == "stale_pre2022"]
        if imp or stale:
            scores.append((-len(imp), -len(stale), iso3, imp, stale))
    for _, _, iso3, imp, stale in sorted(scores)[:20]:
        lines.append(
            f"| {iso3} | {table['name'][iso3].value} | {len(imp)} | {len(stale)} | "
            f"{', '.join(imp)} | {', '.join(stale)} |"
        )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- main
def build(source: Path | None = None, out: Path = DATA_DIR) -> Table:
    """Build every data file from the raw staged data in ``source`` into ``out``.

    ``source`` defaults to :func:`default_source`.
    """
    source = default_source() if source is None else Path(source)
    out = Path(out)
    if not (source / SOURCE_MARKER).is_file():
        raise FileNotFoundError(
            f"{source} does not hold the staged data ({SOURCE_MARKER}); "
            f"pass --source DIR or set {SOURCE_ENV}"
        )
    out.mkdir(parents=True, exist_ok=True)
    master = read(source, "countries_master.csv")
    master = master[master.sovereign_scope.notna()].rename(columns={"ISO3": "iso3"})
    master = master.set_index("iso3").sort_index()
    scope = list(master.index)
    seed = read(source, "nation_seed_latest.csv")
    if sorted(seed.iso3) != scope or len(scope) != 197:
        raise ValueError("nation_seed_latest.csv and countries_master.csv disagree on scope")
    if master.at["NAM", "ISO2"] != "NA":
        raise ValueError("Namibia's ISO2 'NA' was read as missing")
    wdi = read(source, "wdi_selected_2015_2025.csv")
    weo = read(source, "macro_weo_apr2024.csv")
    ember = read(source, "electricity_ember2021_2015_2020.csv")

    table: Table = {f: {} for f in NATION_COLUMNS if f != "iso3"}
    blocs = network_files(source, scope, out)
    identity(master, blocs, table)
    size(master, wdi, weo, table)
    debt(master, weo, table)
    imports_and_reserves(master, wdi, table)
    inst = read(source, "nation_institutions_curated.csv").set_index("iso3").sort_index()
    institutions(master, inst, table)
    net_debt(master, weo, table)
    energy(master, ember, inst, read(source, "sovereign_events_2013_2025_curated.csv"), table)
    changes = sanctions(master, read(source, "sanctions_programmes_curated.csv"), table)
    changes += legal_status(master, read(source, "crypto_legal_status_curated.csv"), table)
    credit = read(source, "imf_credit_outstanding_2024-01-31.csv")
    arrangements = read(source, "imf_arrangements_2024-01-31.csv")
    imf(
        master,
        credit,
        arrangements,
        read(source, "imf_program_updates_post2024-01_curated.csv"),
        table,
    )
    hazard = imf_hazard(credit, arrangements)
    (out / "imf_programmes.toml").write_bytes(
        (
            "# Generated by python tools/build_data.py from the IMF QFR of 31 January 2024; "
            "do not edit.\n# The defaults of the scenario's imf.new_programme_* keys "
            "(docs/ODD.md 7.5).\n" + tomli_w.dumps({"new_programmes": hazard})
        ).encode()
    )
    bitcoin(
        master,
        read(source, "gov_btc_holdings_curated.csv"),
        read(source, "policy_events_curated.csv"),
        table,
    )
    for field, cells in table.items():
        missing = set(scope) - set(cells)
        if missing:
            raise ValueError(f"{field}: no value for {sorted(missing)}")

    fields = list(table)
    write_csv(
        out / "nations.csv",
        list(NATION_COLUMNS),
        ([iso3] + [table[f][iso3].value for f in fields] for iso3 in scope),
    )
    write_csv(
        out / "nation_values.csv",
        ["iso3", "field", "value", "year", "source_id", "imputation"],
        (
            [iso3, f, fmt_value(c.value), str(c.year), c.source_id, c.imputation]
            for iso3 in scope
            for f in fields
            for c in [table[f][iso3]]
        ),
    )
    write_csv(
        out / "dated_changes.csv",
        DATED_CHANGES_HEADER,
        sorted(changes, key=lambda r: (r[1], r[0], r[2])),
    )
    (out / "sources.toml").write_bytes(
        (
            "# Generated by python tools/build_data.py; do not edit.\n"
            + tomli_w.dumps(sources_registry())
        ).encode("utf-8")
    )
    (out / "quality.md").write_bytes(quality_report(table, scope).encode("utf-8"))
    write_checksums(out)
    return table


def write_checksums(out: Path) -> None:
    """Write ``SHA256SUMS`` (``sha256sum`` format) of the generated files, which the package
    checks on first load of each (``adoption_model.data.verify``); ``sha256sum -c SHA256SUMS``
    checks them by hand."""
    update_checksums(out, DATA_FILES)  # the other tools' entries (panel, fits) are kept


#: Data files written by :func:`build` and listed in ``SHA256SUMS``.
DATA_FILES = (
    "nations.csv",
    "nation_values.csv",
    "sources.toml",
    "quality.md",
    "dated_changes.csv",
    "land_borders.csv",
    "centroid_distances_km.csv",
    "blocs.csv",
    "imf_programmes.toml",
)
#: Files written by :func:`build` (the byte-for-byte rebuild test compares these, and
#: their entries in ``SHA256SUMS``).
GENERATED_FILES = DATA_FILES


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python tools/build_data.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help=f"raw staged data directory (default: ${SOURCE_ENV}, else ../shared/data)",
    )
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    args = parser.parse_args(argv)
    try:
        build(args.source, args.out)
    except FileNotFoundError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(GENERATED_FILES)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
