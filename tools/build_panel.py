"""Build the historical nation-month panel and its provenance from the staged raw data.

Run ``python tools/build_panel.py [--source ../shared/data] [--out adoption_model/data]``.
The build is deterministic: rebuilding from the same raw files with the same pyarrow
version reproduces ``panel.parquet`` and ``panel_provenance.json`` byte for byte.

One row per nation (the 197 ISO3 codes of ``adoption_model/data/nations.csv``, in that order)
and month (2015-01 .. 2025-06). Timing conventions (every coding decision is documented in
``adoption_model/data/README.md``, section "Historical panel"):

- **states** (policy state, holdings, legal status, sanctions, IMF programme) are those at the
  *start* of the month: they reflect what happened in earlier months only;
- **actions** are what a nation did *during* the month (hold, adopt, mine, sell), coded from
  the staged event history; an action in month m changes the state of month m+1;
- **yearly covariates** (WDI, WEO, Ember) use the latest value of a year strictly before the
  month's year (no look-ahead), with that year recorded beside each value;
- **market data** (Coin Metrics) are those of the previous month (known at the start of the
  month);
- **neighbours' states** use the month in which a fact became public (``[public:YYYY-MM]``
  tags of the event file): a nation cannot react to what it cannot see.

The Bitcoin market columns derive from Coin Metrics Community Data, CC BY-NC 4.0 (see
:data:`COINMETRICS_ATTRIBUTION`); the licence travels with the panel in its provenance.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from adoption_model.data import update_checksums  # noqa: E402
from adoption_model.errors import InputError  # noqa: E402
from adoption_model.network import real_network  # noqa: E402
from adoption_model.scenario import Scenario  # noqa: E402
from tools.build_data import sanctions_score  # noqa: E402

FIRST_MONTH = "2015-01"
LAST_MONTH = "2025-06"
#: Oldest data year a covariate may come from (older values are too stale to carry).
OLDEST_YEAR = 2005
#: A vintage more than this many years before the month's previous year is flagged stale.
STALE_AFTER_YEARS = 2
#: Share of a net exporter's average net-export power counted as divertible to mining
#: (the rule of the nation-table build, adoption_model/data/README.md "energy").
DIVERTIBLE_SHARE = 0.5
#: West African Economic and Monetary Union: national reserves pooled at the BCEAO.
WAEMU = ("BEN", "BFA", "CIV", "GNB", "MLI", "NER", "SEN", "TGO")

#: Power made available for mining by a dated state decision, effective the month after:
#: (iso3, event month) -> (MW, flag, note). Other energy_for_mining events sell power to
#: private miners and do not change the state's own surplus.
ENERGY_DECISIONS: dict[tuple[str, str], tuple[float, str, str]] = {
    ("PAK", "2025-05"): (2000.0, "event_stated_mw", "2,000 MW allocated (Finance Division)"),
    ("BTN", "2023-05"): (
        600.0,
        "event_planned_mw",
        "DHI-Bitdeer partnership, planned to grow toward 600 MW (as the nation table)",
    ),
    ("SLV", "2021-06"): (
        1.0,
        "event_assumed_mw",
        "LaGeo geothermal pilot of about 300 machines (about 1 MW; no MW stated)",
    ),
}
#: Executive reserve announcements that are not a commitment to hold BTC: key -> reason.
NOT_A_COMMITMENT: dict[tuple[str, str], str] = {
    ("USA", "2025-01"): "evaluation mandate (EO 14178), no commitment; the reserve is EO 14233",
    ("CZE", "2025-01"): "governor's proposal; the CNB board approved only an analysis",
}

ACTIONS = ("hold", "adopt", "mine", "sell")
CONF_RANK = {"high": 2, "medium": 1, "low": 0}

COINMETRICS_ATTRIBUTION = (
    "Bitcoin market and network data: Coin Metrics, Inc., Coin Metrics Community Data "
    "(github.com/coinmetrics/data), licensed under CC BY-NC 4.0 "
    "(https://creativecommons.org/licenses/by-nc/4.0/). Changes: daily values aggregated to "
    "calendar months; log returns, realised volatility and hashprice derived; lagged one "
    "month in the panel."
)

INPUT_FILES = (
    "sovereign_events_2013_2025_curated.csv",
    "gov_btc_holdings_history_curated.csv",
    "crypto_legal_status_curated.csv",
    "sanctions_programmes_curated.csv",
    "nation_institutions_curated.csv",
    "imf_arrangements_2024-01-31.csv",
    "imf_credit_outstanding_2024-01-31.csv",
    "imf_program_updates_post2024-01_curated.csv",
    "btc_market_monthly_coinmetrics.csv",
    "macro_weo_apr2024.csv",
    "electricity_ember2021_2015_2020.csv",
    "countries_master.csv",
    "original/WEOApr2024all__clovispp_Memoire_R.csv",
    "original/ember_2021_annual_database.csv",
    "original/wdi/fi.res.totl.cd.csv",
    "original/wdi/ny.gdp.mktp.cd.csv",
    "original/wdi/sp.pop.totl.csv",
    "original/wdi/ne.imp.gnfs.zs.csv",
)


# ----------------------------------------------------------------------------- helpers
def read(source: Path, name: str) -> pd.DataFrame:
    """Read a staged CSV keeping codes such as Namibia's ``NA``."""
    path = source / name
    if not path.is_file():
        raise InputError(f"{path}: missing; pass --source pointing at ../shared/data")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def months(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def shift_month(month: str, k: int) -> str:
    return str(pd.Period(month, freq="M") + k)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def public_month(row: pd.Series) -> str:
    m = re.search(r"\[public:(\d{4}-\d{2})\]", str(row["event"]))
    return m.group(1) if m else str(row["date"])


def weakest(confidences: list[str]) -> str:
    confidences = [c for c in confidences if c]
    return min(confidences, key=lambda c: CONF_RANK[c]) if confidences else ""


# ----------------------------------------------------------------------------- yearly data
def wdi_long(source: Path, code: str, name: str) -> pd.DataFrame:
    frame = read(source, f"original/wdi/{code}.csv")
    frame = frame.rename(columns={"Country Code": "iso3", "Year": "year", "Value": name})
    return frame[["iso3", "year", name]].dropna()


def weo_long(source: Path) -> pd.DataFrame:
    """WEO April 2024: the staged long file (2015-2023) plus earlier years from the original."""
    staged = read(source, "macro_weo_apr2024.csv")
    names = dict(zip(staged.weo_name, staged.iso3, strict=False))
    raw = pd.read_csv(
        source / "original/WEOApr2024all__clovispp_Memoire_R.csv",
        sep=";",
        encoding="latin-1",
        dtype=str,
        keep_default_na=False,
    )
    wanted = {
        ("General government gross debt", "Percent of GDP"): "gg_gross_debt_pct_gdp",
        ("General government net debt", "Percent of GDP"): "gg_net_debt_pct_gdp",
        ("Gross domestic product, current prices", "U.S. dollars"): "gdp_usd_bn",
        ("Population", "Persons"): "population_m",
    }
    rows = []
    for r in raw.itertuples(index=False):
        key = (r[1], r[2])
        if key not in wanted or r[0] not in names:
            continue
        for year in range(OLDEST_YEAR, 2015):
            text = getattr(r, f"_{4 + year - 2000}").replace(",", "")
            if text not in ("", "n/a", "--"):
                rows.append((names[r[0]], year, wanted[key], float(text)))
    early = pd.DataFrame(rows, columns=["iso3", "year", "field", "value"])
    early = early.pivot_table(index=["iso3", "year"], columns="field", values="value")
    early = early.reset_index()
    cols = ["iso3", "year", *wanted.values()]
    return pd.concat([early.reindex(columns=cols), staged[cols]], ignore_index=True)


def ember_net_imports(source: Path) -> pd.DataFrame:
    """Net electricity imports (TWh): Ember 2021 database (one vintage), 2005-2020."""
    raw = read(source, "original/ember_2021_annual_database.csv")
    raw = raw[raw.variable == "Net imports"].copy()
    raw["year"] = raw.date.str[:4].astype(int)
    raw = raw.rename(columns={"alpha_3": "iso3", "generation_twh": "net_imports_twh"})
    return raw[["iso3", "year", "net_imports_twh"]].dropna()


def vintage(
    frame: pd.DataFrame, col: str, iso: list[str], year: int
) -> tuple[dict[str, float], dict[str, int]]:
    """Latest value of ``col`` per nation from a year strictly before ``year``."""
    sub = frame[frame[col].notna() & frame.year.between(OLDEST_YEAR, year - 1)]
    sub = sub[sub.iso3.isin(iso)].sort_values(["iso3", "year"]).groupby("iso3").tail(1)
    return dict(zip(sub.iso3, sub[col].astype(float), strict=True)), dict(
        zip(sub.iso3, sub.year.astype(int), strict=True)
    )


def regional_median(
    values: dict[str, float], iso: str, master: pd.DataFrame, observed: set[str]
) -> float:
    """Median of observed values in iso's UN region, then continent, then the world."""
    for key in ("UNregion", "continent", None):
        want = None if key is None else master.at[iso, key]
        members = [k for k in observed if key is None or master.at[k, key] == want]
        if members:
            return float(np.median([values[k] for k in members]))
    raise InputError(f"no observed value to impute {iso}")


def yearly_covariates(
    source: Path, iso: list[str], master: pd.DataFrame, nations: pd.DataFrame
) -> pd.DataFrame:
    """One row per nation and calendar year 2015..2025 with the values known in that year."""
    wdi = {
        "reserves_usd": wdi_long(source, "fi.res.totl.cd", "reserves_usd"),
        "gdp_usd": wdi_long(source, "ny.gdp.mktp.cd", "gdp_usd"),
        "population": wdi_long(source, "sp.pop.totl", "population"),
        "imports_pct_gdp": wdi_long(source, "ne.imp.gnfs.zs", "imports_pct_gdp"),
    }
    weo = weo_long(source)
    ember = ember_net_imports(source)
    static_pop = dict(zip(nations.iso3, nations.population, strict=True))
    out = []
    for year in range(int(FIRST_MONTH[:4]), int(LAST_MONTH[:4]) + 1):
        rec: dict[str, dict[str, Any]] = {k: {"iso3": k, "year": year} for k in iso}

        def put(field: str, values: dict, years: dict, src: str, rec=rec, year=year) -> None:
            for k in iso:
                if k in values and f"{field}" not in rec[k]:
                    rec[k][field] = values[k]
                    rec[k][f"{field}_year"] = years[k]
                    stale = year - 1 - years[k] > STALE_AFTER_YEARS
                    rec[k][f"{field}_source"] = src
                    rec[k][f"{field}_flag"] = "stale" if stale else ""

        # population and GDP: WDI, then WEO
        put("population", *vintage(wdi["population"], "population", iso, year), "wdi")
        v, y = vintage(weo, "population_m", iso, year)
        put("population", {k: x * 1e6 for k, x in v.items()}, y, "weo_apr2024")
        for k in iso:
            if "population" not in rec[k]:  # VAT: the nation table's documented assumption
                rec[k].update(
                    population=float(static_pop[k]),
                    population_year=year - 1,
                    population_source="nation_table",
                    population_flag="documented_assumption",
                )
        put("gdp_usd", *vintage(wdi["gdp_usd"], "gdp_usd", iso, year), "wdi")
        v, y = vintage(weo, "gdp_usd_bn", iso, year)
        put("gdp_usd", {k: x * 1e9 for k, x in v.items()}, y, "weo_apr2024")
        pc = {k: r["gdp_usd"] / r["population"] for k, r in rec.items() if "gdp_usd" in r}
        obs = {k for k, r in rec.items() if "gdp_usd" in r and r["gdp_usd_flag"] == ""}
        for k in iso:
            if "gdp_usd" not in rec[k]:
                rec[k].update(
                    gdp_usd=regional_median(pc, k, master, obs) * rec[k]["population"],
                    gdp_usd_year=year - 1,
                    gdp_usd_source="wdi",
                    gdp_usd_flag="regional_median_gdp_per_capita",
                )
        # debt (WEO gross; net debt is carried without imputation)
        put("debt_pct_gdp", *vintage(weo, "gg_gross_debt_pct_gdp", iso, year), "weo_apr2024")
        vals = {k: r["debt_pct_gdp"] for k, r in rec.items() if "debt_pct_gdp" in r}
        obs = {k for k, r in rec.items() if "debt_pct_gdp" in r}
        for k in iso:
            if "debt_pct_gdp" not in rec[k]:
                rec[k].update(
                    debt_pct_gdp=regional_median(vals, k, master, obs),
                    debt_pct_gdp_year=year - 1,
                    debt_pct_gdp_source="weo_apr2024",
                    debt_pct_gdp_flag="regional_median",
                )
        v, y = vintage(weo, "gg_net_debt_pct_gdp", iso, year)
        for k in iso:
            rec[k]["net_debt_pct_gdp"] = v.get(k, math.nan)
            rec[k]["net_debt_pct_gdp_year"] = y.get(k, -1)
        # imports of goods and services per month: WDI % of GDP x GDP of the same vintage
        share, share_y = vintage(wdi["imports_pct_gdp"], "imports_pct_gdp", iso, year)
        for k in iso:
            if k in share:
                rec[k].update(
                    imports_share=share[k] / 100.0,
                    imports_usd_month_year=share_y[k],
                    imports_usd_month_source="wdi",
                    imports_usd_month_flag="stale"
                    if year - 1 - share_y[k] > STALE_AFTER_YEARS
                    else "",
                )
        vals = {k: r["imports_share"] for k, r in rec.items() if "imports_share" in r}
        obs = set(vals)
        for k in iso:
            if "imports_share" not in rec[k]:
                rec[k].update(
                    imports_share=regional_median(vals, k, master, obs),
                    imports_usd_month_year=year - 1,
                    imports_usd_month_source="wdi",
                    imports_usd_month_flag="regional_median_imports_pct_gdp",
                )
            rec[k]["imports_usd_month"] = rec[k].pop("imports_share") * rec[k]["gdp_usd"] / 12
        # reserves incl. gold (WDI); WAEMU members have none of their own (BCEAO pool)
        v, y = vintage(wdi["reserves_usd"], "reserves_usd", iso, year)
        put("reserves_usd", {k: x for k, x in v.items() if k not in WAEMU}, y, "wdi")
        cover = {
            k: r["reserves_usd"] / r["imports_usd_month"]
            for k, r in rec.items()
            if "reserves_usd" in r
        }
        obs = {k for k, r in rec.items() if "reserves_usd" in r and r["reserves_usd_flag"] == ""}
        for k in iso:
            if "reserves_usd" not in rec[k]:
                rec[k].update(
                    reserves_usd=regional_median(cover, k, master, obs)
                    * rec[k]["imports_usd_month"],
                    reserves_usd_year=year - 1,
                    reserves_usd_source="wdi",
                    reserves_usd_flag="waemu_regional_median_months"
                    if k in WAEMU
                    else "regional_median_months",
                )
        # energy surplus from Ember net exports (one vintage), MW
        v, y = vintage(ember, "net_imports_twh", iso, year)
        for k in iso:
            net = v.get(k)
            rec[k]["energy_surplus_mw"] = (
                0.0 if net is None else max(0.0, -net) * 1e6 / 8760 * DIVERTIBLE_SHARE
            )
            rec[k]["energy_surplus_mw_year"] = y.get(k, -1)
            rec[k]["energy_surplus_mw_flag"] = "no_data_zero" if net is None else ""
        out.extend(rec.values())
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- events
def classify_events(events: pd.DataFrame) -> pd.DataFrame:
    """Map every event to a candidate action (or none) with the reason, row by row."""
    rows = []
    for i, r in events.iterrows():
        cat, actor, conf, text = r.category, r.actor, r.confidence, str(r.event)
        action, reason = "", ""
        if actor == "subnational":
            reason = "subnational actor: not a sovereign policy (kept as context)"
        elif cat == "seizure":
            reason = "seizure: coins in court custody add to holdings, not a reserve policy"
        elif cat in ("reserve_established", "reserve_law_passed"):
            action, reason = "adopt", "enacted reserve (executive instrument or national law)"
        elif cat == "reserve_purchases_start":
            if "[ETF]" in text:
                reason = "ETF shares bought by a state fund: an investment, not BTC in reserves"
            else:
                action, reason = "adopt", "enacted: purchases of BTC with public money start"
        elif cat == "reserve_announced":
            key = (r.iso3, r.date)
            if actor == "legislature":
                reason = "a bill tabled in a legislature, not enacted"
            elif key in NOT_A_COMMITMENT:
                reason = NOT_A_COMMITMENT[key]
            elif conf != "high":
                reason = f"announcement of {conf} confidence (announcements count when high)"
            else:
                action, reason = "adopt", "announced: executive commitment to a national reserve"
        elif cat == "state_mining_start":
            action, reason = "mine", "a state entity starts mining on its own account"
        elif cat in ("sale_of_seized", "sale_of_mined_or_reserve"):
            if conf == "low":
                reason = "low confidence (on-chain transfer or unconfirmed sale)"
            else:
                action, reason = "sell", "sale of government-held BTC"
        else:
            reason = f"{cat}: context, not an action of the decision rule"
        if action and conf == "low":
            action, reason = "", "low confidence"
        rows.append(
            {
                "event_id": f"ev{i + 1:03d}",
                "date": r.date,
                "public": public_month(r),
                "iso3": r.iso3,
                "actor": actor,
                "category": cat,
                "btc_amount": None if pd.isna(r.btc_amount) else float(r.btc_amount),
                "confidence": conf,
                "candidate": action,
                "reason": reason,
                "event": text,
            }
        )
    return pd.DataFrame(rows)


def pledge_months(events: pd.DataFrame) -> dict[str, str]:
    """Month of the first high-confidence no-sell pledge per nation."""
    hit = events[
        (events.confidence == "high")
        & events.event.str.contains(r"not to be sold|never to sell", regex=True)
    ]
    return hit.groupby("iso3").date.min().to_dict()


# ----------------------------------------------------------------------------- holdings
def holdings_ledger(
    holdings: pd.DataFrame, ev: pd.DataFrame, market: pd.DataFrame, iso: list[str]
) -> tuple[dict, pd.DataFrame]:
    """End-of-month holdings and cost basis, 2013-01..2025-06, from snapshots and events.

    Snapshots of high or medium confidence set the level (those marked STALE in their note
    are skipped: the seed table lags the trackers); between snapshots, dated seizures add
    and sales subtract (high/medium rows with an amount). Coins entering the ledger are
    valued at the month's mean price (the model values seized coins at the start price).
    """
    use = holdings[
        holdings.confidence.isin(["high", "medium"]) & ~holdings.source_note.str.contains("STALE")
    ]
    snap = {(r.iso3, r.date): float(r.btc) for r in use.itertuples()}
    flows: dict[tuple[str, str], float] = defaultdict(float)
    for r in ev.itertuples():
        if r.confidence == "low" or r.btc_amount is None or pd.isna(r.btc_amount):
            continue
        if r.category == "seizure":
            flows[(r.iso3, r.date)] += r.btc_amount
        elif r.candidate == "sell":
            flows[(r.iso3, r.date)] -= r.btc_amount
    price = dict(zip(market.month, market.price_usd_mean, strict=True))
    conf = {(r.iso3, r.date): r.confidence for r in use.itertuples()}
    out: dict[tuple[str, str], tuple[float, float, str]] = {}
    for k in iso:
        h, cost, tag = 0.0, 0.0, ""
        for m in months("2013-01", LAST_MONTH):
            new = snap.get((k, m))
            if new is None:
                new = max(0.0, h + flows.get((k, m), 0.0))
            else:
                tag = conf[(k, m)]
            if new > h:
                cost += (new - h) * price[m]
            elif new < h:
                cost *= new / h
            h = new
            out[(k, m)] = (h, cost, tag)
    return out, use


# ----------------------------------------------------------------------------- legal status
def legal_states(legal: pd.DataFrame, iso: list[str], month_list: list[str]) -> pd.DataFrame:
    """Legal status at the start of each month (rows dated in earlier months)."""
    legal = legal.sort_values(["iso3", "date"], kind="stable")
    rows = []
    for k in iso:
        mine = list(legal[legal.iso3 == k].itertuples())
        for m in month_list:
            st = dict.fromkeys(
                (
                    "ban_absolute",
                    "ban_implicit",
                    "ban_mining",
                    "ban_mining_regional",
                    "tender",
                    "regulated",
                ),
                False,
            )
            last_conf = ""
            for r in (r for r in mine if r.date < m):
                last_conf = r.confidence
                s = r.status
                if s == "absolute_ban":
                    st["ban_absolute"] = True
                elif s == "implicit_ban":
                    st["ban_implicit"] = True
                elif s == "ban_lifted":
                    st["ban_absolute"] = st["ban_implicit"] = st["ban_mining"] = False
                elif s == "mining_ban":
                    regional = str(r.scope_note).lower().startswith("regional")
                    st["ban_mining_regional" if regional else "ban_mining"] = True
                elif s == "mining_legalised":
                    st["ban_mining"] = False
                elif s == "legal_tender":
                    st["tender"] = True
                elif s == "legal_tender_repealed":
                    st["tender"] = False
                elif s == "regulated_legal":
                    st["regulated"] = True
                else:
                    raise InputError(f"crypto_legal_status_curated.csv: unknown status {s!r}")
            rows.append(
                {
                    "iso3": k,
                    "month": m,
                    **{f"legal_{a}": b for a, b in st.items()},
                    "legal_status_confidence": last_conf,
                }
            )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- IMF, sanctions
def imf_programmes(
    arr: pd.DataFrame, upd: pd.DataFrame
) -> list[tuple[str, pd.Timestamp, pd.Timestamp, str]]:
    """(iso3, start, end, source) of financing arrangements (FCL and PCI excluded)."""
    out = []
    for r in arr.itertuples():
        if r.facility == "Flexible Credit Line Arrangements":
            continue  # no ex-post conditionality
        out.append(
            (r.iso3, pd.Timestamp(r.arrangement_date), pd.Timestamp(r.expiration_date), "qfr")
        )
    for r in upd.itertuples():
        if str(r.facility).strip() == "PCI":
            continue  # non-financing instrument
        start = pd.Timestamp(r.approval_date)
        text = "" if pd.isna(r.duration) else str(r.duration).strip()
        if m := re.fullmatch(r"(\d+) months", text):
            end = start + pd.DateOffset(months=int(m.group(1)))
        elif m := re.fullmatch(r"(\d+) years", text):
            end = start + pd.DateOffset(years=int(m.group(1)))
        elif m := re.fullmatch(r"to (\d{4}-\d{2})", text):
            end = pd.Timestamp(m.group(1)) + pd.offsets.MonthEnd(0)
        elif not text:
            end = pd.Timestamp("2100-01-01")
        else:
            raise InputError(f"imf_program_updates_post2024-01_curated.csv: duration {text!r}")
        out.append((r.iso3, start, end, "curated"))
    return out


# ----------------------------------------------------------------------------- build
def build(source: Path, out: Path) -> dict[str, Any]:
    nations = pd.read_csv(
        REPO_ROOT / "adoption_model/data/nations.csv", keep_default_na=False, na_values=[""]
    )
    iso = nations.iso3.tolist()
    idx = {k: i for i, k in enumerate(iso)}
    master = read(source, "countries_master.csv").set_index("ISO3").loc[iso]
    month_list = months(FIRST_MONTH, LAST_MONTH)
    n, t = len(iso), len(month_list)
    sc = Scenario()

    # --- market (previous month's values)
    market = read(source, "btc_market_monthly_coinmetrics.csv")
    mk = market.set_index("month")
    k_mom = sc.price.momentum_months
    mrows = []
    for m in month_list:
        prev, back = shift_month(m, -1), shift_month(m, -1 - k_mom)
        r = mk.loc[prev]
        mrows.append(
            {
                "month": m,
                "btc_price_usd": float(r.price_usd_close),
                "btc_price_mean_usd": float(r.price_usd_mean),
                "btc_log_return_momentum": math.log(
                    float(r.price_usd_close) / float(mk.loc[back].price_usd_close)
                ),
                "btc_realised_vol": float(r.realised_vol_annual),
                "btc_hashrate_ths": float(r.hashrate_ths_mean),
                "btc_reward_per_block": float((r.issuance_btc + r.fees_btc) / r.blocks),
                "btc_blocks": float(r.blocks),
                "btc_hashprice_usd_per_ths_day": float(r.revenue_usd_per_ths_day),
                "market_month": prev,
            }
        )
    mframe = pd.DataFrame(mrows)

    # --- yearly covariates, by month's year
    yearly = yearly_covariates(source, iso, master, nations)

    # --- events and actions
    events = read(source, "sovereign_events_2013_2025_curated.csv")
    ev = classify_events(events)
    unknown = sorted(set(ev.iso3) - set(iso))
    if unknown:
        raise InputError(f"sovereign_events_2013_2025_curated.csv: unknown iso3 {unknown}")
    holdings = read(source, "gov_btc_holdings_history_curated.csv")
    ledger, used_snapshots = holdings_ledger(holdings, ev, market, iso)
    pledges = pledge_months(events)

    # state machine over 2013-01..2025-06 in month order: actual and public states
    all_months = months("2013-01", LAST_MONTH)
    reserve = np.zeros(n, bool)
    mining = np.zeros(n, bool)
    sold_before = np.zeros(n, bool)
    by_month = defaultdict(list)
    for r in ev.itertuples():
        by_month[r.date].append(r)
    counted = {}
    state_rec = {}
    public_start: dict[tuple[int, str], str] = {}  # (i, "reserve"/"mining") -> public month
    for m in all_months:
        if m >= FIRST_MONTH:
            state_rec[m] = (reserve.copy(), mining.copy(), sold_before.copy())
        acts: dict[int, list] = defaultdict(list)
        for r in by_month.get(m, []):
            i = idx[r.iso3]
            a, why = r.candidate, r.reason
            if a == "adopt" and reserve[i]:
                a, why = "", "already a reserve holder: a programme under the existing reserve"
            if a == "mine" and mining[i]:
                a, why = "", "already mining"
            if a and m < FIRST_MONTH:
                why = f"{why} (before the panel starts: sets the initial state)"
            counted[r.event_id] = (a, why)
            if a:
                acts[i].append((a, r))
        for i, lst in acts.items():
            kinds = {a for a, _ in lst}
            if len(kinds) > 1:
                raise InputError(f"{iso[i]} {m}: two action kinds in one month {sorted(kinds)}")
            a, r = lst[0]
            if a == "adopt":
                reserve[i] = True
                public_start.setdefault((i, "reserve"), max(r.public, m))
            elif a == "mine":
                mining[i] = True
                public_start.setdefault((i, "mining"), max(r.public, m))
            else:
                reserve[i] = False
                sold_before[i] = True
    ev["action"] = [counted[e][0] for e in ev.event_id]
    ev["reason"] = [counted[e][1] for e in ev.event_id]

    # --- assemble the panel
    rows = []
    legal = legal_states(read(source, "crypto_legal_status_curated.csv"), iso, month_list)
    legal = {(r.pop("iso3"), r.pop("month")): r for r in legal.to_dict("records")}
    sanctions = read(source, "sanctions_programmes_curated.csv")
    inst = read(source, "nation_institutions_curated.csv").set_index("iso3").loc[iso]
    programmes = imf_programmes(
        read(source, "imf_arrangements_2024-01-31.csv"),
        read(source, "imf_program_updates_post2024-01_curated.csv"),
    )
    credit = read(source, "imf_credit_outstanding_2024-01-31.csv").set_index("iso3")
    yearly = {(r["iso3"], r["year"]): r for r in yearly.to_dict("records")}
    sanc_by = defaultdict(list)
    for r in sanctions.itertuples():
        sanc_by[r.iso3].append(r)
    action_ids = defaultdict(list)
    for r in ev[ev.action != ""].itertuples():
        action_ids[(r.iso3, r.date, r.action)].append(r.event_id)
    static = nations.set_index("iso3")
    energy_from: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    for (k, m), (mw, flag, _note) in ENERGY_DECISIONS.items():
        energy_from[k].append((shift_month(m, 1), mw, flag))
    net = real_network(nations)
    action_rows = {(r.iso3, r.date): r for r in ev[ev.action != ""].itertuples()}
    context = defaultdict(list)
    for r in ev[ev.action == ""].itertuples():
        context[(r.iso3, r.date)].append(r.event_id)

    for m in month_list:
        res, mine, sold = state_rec[m]
        year = int(m[:4])
        first_day = pd.Timestamp(m + "-01")
        pub_res = np.array([public_start.get((i, "reserve"), "9999") < m for i in range(n)])
        pub_mine = np.array([public_start.get((i, "mining"), "9999") < m for i in range(n)])
        pub_adopted = (pub_res | pub_mine).astype(float)
        gdp = np.array([yearly[(k, year)]["gdp_usd"] for k in iso])
        world = float((gdp * pub_adopted).sum() / gdp.sum())
        peer = {
            "peer_adopted": net.signal(pub_adopted),
            "peer_reserve": net.signal(pub_res.astype(float)),
            "peer_mining": net.signal(pub_mine.astype(float)),
        }
        prev = shift_month(m, -1)
        for i, k in enumerate(iso):
            y = yearly[(k, year)]
            h, cost, hconf = ledger[(k, prev)]
            hflag = ""
            act = action_rows.get((k, m))
            action = act.action if act is not None else "hold"
            if action == "sell":
                amount = act.btc_amount if act.btc_amount is not None else 0.0
                amount = 0.0 if pd.isna(amount) else amount
                if h < max(amount, 1e-9):
                    # a sale evidences holdings the ledger missed (untracked forfeitures,
                    # donations of unknown size): at least the amount sold, else 1 BTC
                    extra = max(amount, 1.0) - h
                    cost += extra * float(mk.loc[prev].price_usd_mean)
                    h = h + extra
                    hflag = (
                        "evidenced_by_sale" if amount > 0 else "evidenced_by_sale_amount_unknown"
                    )
            if not hflag and mine[i] and h == 0.0:
                hflag = "untracked_mined_coins"
            mw, mw_flag = float(y["energy_surplus_mw"]), str(y["energy_surplus_mw_flag"])
            for since, value, flag in energy_from.get(k, []):
                if m >= since:
                    mw, mw_flag = value, flag
            in_force = [
                r for r in sanc_by.get(k, []) if r.start < m and (pd.isna(r.end) or r.end >= m)
            ]
            s_scope, _, s_exposure, _ = sanctions_score(sanctions.loc[[r.Index for r in in_force]])
            progs = [p for p in programmes if p[0] == k and p[1] <= first_day <= p[2]]
            euro_since = inst.at[k, "euro_area_since"]
            pre_euro = not pd.isna(euro_since) and year < int(euro_since)
            lg = legal[(k, m)]
            rows.append(
                {
                    "iso3": k,
                    "month": m,
                    "year": year,
                    # yearly covariates and their vintage
                    **{
                        f: float(y[f])
                        for f in (
                            "gdp_usd",
                            "population",
                            "debt_pct_gdp",
                            "net_debt_pct_gdp",
                            "reserves_usd",
                            "imports_usd_month",
                        )
                    },
                    **{
                        f"{f}_year": int(y[f"{f}_year"])
                        for f in (
                            "gdp_usd",
                            "population",
                            "debt_pct_gdp",
                            "net_debt_pct_gdp",
                            "reserves_usd",
                            "imports_usd_month",
                            "energy_surplus_mw",
                        )
                    },
                    **{
                        f"{f}_flag": str(y[f"{f}_flag"])
                        for f in (
                            "gdp_usd",
                            "population",
                            "debt_pct_gdp",
                            "reserves_usd",
                            "imports_usd_month",
                        )
                    },
                    "energy_surplus_mw": mw,
                    "energy_surplus_mw_flag": mw_flag,
                    "energy_cost_usd_mwh": float(static.at[k, "energy_cost_usd_mwh"]),
                    # IMF
                    "imf_programme_active": bool(progs),
                    "imf_programme_source": ";".join(sorted({p[3] for p in progs})),
                    "imf_credit_pct_quota": float(credit.at[k, "credit_pct_of_quota"])
                    if m >= "2024-02" and k in credit.index
                    else math.nan,
                    # institutions (2025-06 classification; euro membership by year)
                    "currency_regime": "own_managed_or_peg"
                    if pre_euro
                    else str(inst.at[k, "currency_regime"]),
                    "currency_union": ""
                    if pre_euro or pd.isna(inst.at[k, "currency_union"])
                    else str(inst.at[k, "currency_union"]),
                    "reserve_currency_issuer": False
                    if pre_euro
                    else bool(inst.at[k, "reserve_currency_issuer"]),
                    "ara_class": "emerging_market" if pre_euro else str(inst.at[k, "ara_class"]),
                    "income_group_wb": ""
                    if pd.isna(inst.at[k, "income_group_wb"])
                    else str(inst.at[k, "income_group_wb"]),
                    "institutions_confidence": str(inst.at[k, "confidence"]),
                    "institutions_flag": "pre_euro_rule" if pre_euro else "",
                    # sanctions in force at the start of the month
                    "sanctions_programmes": len(in_force),
                    "sanctions_comprehensive": any(r.scope == "comprehensive" for r in in_force),
                    "sanctions_reserves_frozen": any(
                        str(r.central_bank_reserves_frozen) == "True" for r in in_force
                    ),
                    "sanctions_confidence": weakest([r.confidence for r in in_force]),
                    # the nation table's rule (tools/build_data.py, data README)
                    "sanctions_scope": s_scope,
                    "sanctions_exposure": s_exposure,
                    # legal status at the start of the month
                    **{c: bool(v) for c, v in lg.items() if c != "legal_status_confidence"},
                    "legal_status_confidence": str(lg["legal_status_confidence"]),
                    # observed policy state at the start of the month
                    "state_reserve": bool(res[i]),
                    "state_mining": bool(mine[i]),
                    "state_selling": False,
                    "state_sold_out": bool(sold[i] and h == 0.0 and not res[i] and not mine[i]),
                    "holdings_btc": float(h),
                    "cost_basis_usd": float(cost),
                    "holdings_confidence": hconf,
                    "holdings_flag": hflag,
                    "seized_sale_mandate": bool(static.at[k, "seized_sale_mandate"]),
                    "no_sell_pledge": k in pledges and pledges[k] < m,
                    # what the nation could see of others (public months)
                    "public_reserve": bool(pub_res[i]),
                    "public_mining": bool(pub_mine[i]),
                    **{c: float(v[i]) for c, v in peer.items()},
                    "world_share_adopted": world,
                    # the observed action of this month
                    "action": action,
                    "action_code": ACTIONS.index(action),
                    "action_events": ";".join(action_ids.get((k, m, action), [])),
                    "action_confidence": "" if act is None else str(act.confidence),
                    "action_basis": "" if act is None else str(act.category),
                    "context_events": ";".join(context.get((k, m), [])),
                }
            )
    panel = pd.DataFrame(rows).merge(mframe, on="month", how="left")
    panel = panel.sort_values(["iso3", "month"], kind="stable").reset_index(drop=True)

    out.mkdir(parents=True, exist_ok=True)
    write_parquet(panel, out / "panel.parquet")
    prov = provenance(source, panel, ev, holdings, used_snapshots, n, t, sc)
    text = json.dumps(prov, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (out / "panel_provenance.json").write_text(text, encoding="utf-8")
    update_checksums(out, ["panel.parquet", "panel_provenance.json"])  # checked on load
    return prov


def write_parquet(panel: pd.DataFrame, path: Path) -> None:
    """Deterministic Parquet: no pandas metadata, zstd, fixed row-group size."""
    table = pa.Table.from_pandas(panel, preserve_index=False).replace_schema_metadata(None)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=1 << 20)
    path.write_bytes(buf.getvalue())


def starts_by_year(panel: pd.DataFrame) -> dict[str, dict[str, int]]:
    acts = panel[panel.action != "hold"]
    out: dict[str, dict[str, int]] = {a: {} for a in ACTIONS[1:]}
    for (a, y), c in acts.groupby(["action", "year"]).size().items():
        out[a][str(y)] = int(c)
    return out


def provenance(
    source: Path,
    panel: pd.DataFrame,
    ev: pd.DataFrame,
    holdings: pd.DataFrame,
    used: pd.DataFrame,
    n: int,
    t: int,
    sc: Scenario,
) -> dict[str, Any]:
    used_keys = {(r.iso3, r.date) for r in used.itertuples()}
    hold_rows = []
    for r in holdings.itertuples():
        hold_rows.append(
            {
                "iso3": r.iso3,
                "date": r.date,
                "btc": float(r.btc),
                "confidence": r.confidence,
                "used": (r.iso3, r.date) in used_keys,
                "reason": ""
                if (r.iso3, r.date) in used_keys
                else ("low confidence" if r.confidence == "low" else "seed snapshot marked STALE"),
            }
        )
    in_panel = ev[(ev.date >= FIRST_MONTH) & (ev.date <= LAST_MONTH)]
    file_counts: dict[str, dict[str, int]] = {a: {} for a in ACTIONS[1:]}
    for (a, y), c in (
        in_panel[in_panel.action != ""]
        .groupby([in_panel.action, in_panel.date.str[:4]])
        .size()
        .items()
    ):
        file_counts[a][y] = int(c)
    events = []
    for r in ev.itertuples():
        events.append(
            {
                "event_id": r.event_id,
                "date": r.date,
                "public": r.public,
                "iso3": r.iso3,
                "actor": r.actor,
                "category": r.category,
                "btc_amount": r.btc_amount,
                "confidence": r.confidence,
                "action": r.action,
                "reason": r.reason,
            }
        )
    return {
        "panel": {
            "file": "panel.parquet",
            "rows": int(len(panel)),
            "nations": n,
            "months": t,
            "first_month": FIRST_MONTH,
            "last_month": LAST_MONTH,
            "columns": list(panel.columns),
            "pyarrow": pa.__version__,
            "pandas": pd.__version__,
        },
        "inputs": {
            name: {"sha256": sha256(source / name), "bytes": (source / name).stat().st_size}
            for name in INPUT_FILES
        },
        "parameters": {
            "oldest_year": OLDEST_YEAR,
            "stale_after_years": STALE_AFTER_YEARS,
            "divertible_share": DIVERTIBLE_SHARE,
            "momentum_months": sc.price.momentum_months,
            "energy_decisions": {
                f"{k}:{m}": {"mw": mw, "flag": flag, "note": note}
                for (k, m), (mw, flag, note) in ENERGY_DECISIONS.items()
            },
            "not_a_commitment": {f"{k}:{m}": why for (k, m), why in NOT_A_COMMITMENT.items()},
            "network": "adoption_model.network.real_network(nations.csv), default layer weights",
        },
        "starts_by_year": starts_by_year(panel),
        "event_file_starts_by_year": file_counts,
        "events": events,
        "holdings_rows": hold_rows,
        "licences": {
            "btc_*": COINMETRICS_ATTRIBUTION,
            "gdp_usd, population, reserves_usd, imports_usd_month": "World Bank WDI, CC BY 4.0",
            "debt_pct_gdp, net_debt_pct_gdp, gdp/population fallback": (
                "IMF World Economic Outlook April 2024, IMF terms (attribution)"
            ),
            "energy_surplus_mw": "Ember 2021 annual database, CC BY 4.0",
            "imf_*": (
                "IMF Quarterly Report on IMF Finances (2024-01-31), IMF terms; curated updates"
            ),
            "events, holdings, legal status, sanctions, institutions": (
                "hand-curated facts (see ../shared/data notes); verify medium and low rows"
            ),
        },
    }


def find_source(explicit: str | None) -> Path:
    """--source, else ADOPTION_SHARED_DATA, else shared/data in a parent of the repository."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ADOPTION_SHARED_DATA")
    if env:
        return Path(env)
    for parent in REPO_ROOT.parents:
        cand = parent / "shared" / "data"
        if (cand / "sovereign_events_2013_2025_curated.csv").is_file():
            return cand
    raise InputError("no ../shared/data found: pass --source DIR or set ADOPTION_SHARED_DATA")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", help="raw staged data (default: ../shared/data)")
    p.add_argument("--out", default=str(REPO_ROOT / "adoption_model" / "data"))
    args = p.parse_args(argv)
    try:
        prov = build(find_source(args.source), Path(args.out))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = Counter({a: sum(v.values()) for a, v in prov["starts_by_year"].items()})
    print(
        f"panel: {prov['panel']['rows']} rows ({prov['panel']['nations']} nations x "
        f"{prov['panel']['months']} months); actions {dict(counts)} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
