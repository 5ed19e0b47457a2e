"""Reports that travel: report tables in the IAMC format and as Excel-readable CSV.

The IAMC format (the Integrated Assessment Modeling Consortium's scenario template, read by
pyam's :class:`pyam.IamDataFrame`) has one row per model, scenario, region, variable and
unit, and one column per year (the *wide* layout, ``write_iamc(..., layout="wide")``) or
one ``year``/``value`` pair per row (the *long* layout, pyam's ``data`` frame). Regions are
ISO 3166-1 alpha-3 codes or ``World``; variables are ``|``-separated paths such as
``Sovereign Bitcoin|Adopters|Share of GDP``.

:func:`to_iamc` turns any report table into that long frame: name the columns that hold the
scenario, the region (or give one region for all rows), the time (a year, or a month/date
from which the calendar year is taken) and map each value column to a variable and unit.
:func:`export_iamc` writes several tables to one CSV or XLSX. :func:`write_excel_csv` writes
a table for spreadsheet programs: UTF-8 with a byte-order mark, dates as ISO 8601.

Monthly values are reduced to the value of the last month of each year (``how="last"``) or
the yearly mean (``how="mean"``); IAMC data are annual.

Examples
--------
>>> steps = pd.DataFrame({"scenario": ["baseline"] * 3,
...                       "date": ["2025-06", "2025-12", "2026-12"],
...                       "adoption_share": [0.02, 0.03, 0.05]})
>>> to_iamc(steps, {"adoption_share": ("Sovereign Bitcoin|Adopters|Share of Nations", "1")},
...         time="date")[["scenario", "year", "value"]].values.tolist()
[['baseline', 2025, 0.03], ['baseline', 2026, 0.05]]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from adoption_model.errors import InputError
from adoption_model.fileio import atomic_write

IAMC_COLUMNS = ["model", "scenario", "region", "variable", "unit", "year", "value"]
MODEL_NAME = "adoption-model"

#: Variables for the model frame's columns (``RunResult.model_frame``, ``steps`` tables).
MODEL_VARIABLES: dict[str, tuple[str, str]] = {
    "n_adopters": ("Sovereign Bitcoin|Adopters|Nations", "count"),
    "adoption_share": ("Sovereign Bitcoin|Adopters|Share of Nations", "1"),
    "gdp_weighted_share": ("Sovereign Bitcoin|Adopters|Share of GDP", "1"),
    "population_weighted_share": ("Sovereign Bitcoin|Adopters|Share of Population", "1"),
    "n_miners": ("Sovereign Bitcoin|Miners|Nations", "count"),
    "mining_mw": ("Sovereign Bitcoin|Mining|Power", "MW"),
    "btc_sovereign": ("Sovereign Bitcoin|Holdings", "BTC"),
    "btc_bought": ("Sovereign Bitcoin|Purchases", "BTC/month"),
    "btc_mined": ("Sovereign Bitcoin|Mined", "BTC/month"),
    "btc_sold": ("Sovereign Bitcoin|Sales", "BTC/month"),
    "btc_price": ("Price|Bitcoin", "USD/BTC"),
    "network_hashrate_ehs": ("Bitcoin Network|Hashrate", "EH/s"),
}


def _year(values: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(values):
        return values.astype(int)
    text = values.astype(str)
    years = pd.to_numeric(text.str.slice(0, 4), errors="coerce")
    if years.isna().any():
        bad = text[years.isna()].iloc[0]
        raise InputError(f"IAMC export: time value {bad!r} is not a year or an ISO date")
    return years.astype(int)


def to_iamc(
    table: pd.DataFrame,
    variables: Mapping[str, tuple[str, str]],
    *,
    model: str = MODEL_NAME,
    scenario: str = "scenario",
    region: str = "World",
    time: str = "year",
    how: str = "last",
) -> pd.DataFrame:
    """A report table as an IAMC long frame (``model, scenario, region, variable, unit,
    year, value``).

    Parameters
    ----------
    table : DataFrame
    variables : mapping
        Value column -> (IAMC variable, unit).
    model : str
        The model name (default ``adoption-model``).
    scenario : str
        The column holding the scenario name, or the scenario name itself when the table
        has no such column.
    region : str
        The column holding ISO3 codes, or one region for every row (default ``World``).
    time : str
        The column holding years or ISO dates/months (``2025-06``).
    how : {"last", "mean"}
        How monthly values become one value per year.
    """
    missing = [c for c in [*variables, time] if c not in table.columns]
    if missing:
        raise InputError(f"IAMC export: the table has no column {missing[0]!r}")
    if how not in ("last", "mean"):
        raise InputError(f"IAMC export: how={how!r}; use 'last' or 'mean'")
    frame = pd.DataFrame({
        "scenario": table[scenario].astype(str) if scenario in table else scenario,
        "region": table[region].astype(str) if region in table else region,
        "year": _year(table[time]),
        "_order": range(len(table)),
    })  # fmt: skip
    parts = []
    for column, (variable, unit) in variables.items():
        part = frame.assign(variable=variable, unit=unit, value=table[column].astype(float))
        parts.append(part)
    long = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable")
    keys = ["scenario", "region", "variable", "unit", "year"]
    grouped = long.groupby(keys, sort=False)["value"]
    out = (grouped.last() if how == "last" else grouped.mean()).reset_index()
    out.insert(0, "model", model)
    return out[IAMC_COLUMNS].sort_values(IAMC_COLUMNS[:6]).reset_index(drop=True)


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """The IAMC template layout: one column per year, capitalised index columns."""
    w = long.pivot_table(index=IAMC_COLUMNS[:5], columns="year", values="value", aggfunc="first")
    w = w.reset_index()
    w.columns = [c.capitalize() if isinstance(c, str) else int(c) for c in w.columns]
    w.columns.name = None
    return w


def export_iamc(
    tables: pd.DataFrame | list[pd.DataFrame] | Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    layout: str = "wide",
) -> pd.DataFrame:
    """Write IAMC long frames (from :func:`to_iamc`) to one ``.csv`` or ``.xlsx`` file.

    ``tables`` may be one frame, a list or a dict of frames (concatenated). ``layout="wide"``
    writes the IAMC template (years as columns; the sheet is named ``data`` in XLSX, as pyam
    expects); ``"long"`` writes pyam's long columns. Returns the long frame written.
    """
    if isinstance(tables, pd.DataFrame):
        frames = [tables]
    elif isinstance(tables, Mapping):
        frames = list(tables.values())
    else:
        frames = list(tables)
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=IAMC_COLUMNS)
    if list(long.columns) != IAMC_COLUMNS:
        raise InputError(f"IAMC export: tables must have the columns {', '.join(IAMC_COLUMNS)}")
    dup = long.duplicated(IAMC_COLUMNS[:6])
    if dup.any():
        row = long[dup].iloc[0]
        raise InputError(
            f"IAMC export: two values for {row['scenario']}/{row['region']}/{row['variable']}/"
            f"{row['year']}; give each table its own scenario or variable names"
        )
    if layout not in ("wide", "long"):
        raise InputError(f"IAMC export: layout={layout!r}; use 'wide' or 'long'")
    out = long if layout == "long" else wide(long)
    path = Path(path)
    if path.suffix == ".csv":
        atomic_write(path, lambda p: out.to_csv(p, index=False))
    elif path.suffix == ".xlsx":
        try:
            import openpyxl  # noqa: F401
        except ModuleNotFoundError:
            raise InputError(
                f"{path}: writing XLSX needs openpyxl (pip install openpyxl); or write .csv"
            ) from None
        atomic_write(path, lambda p: out.to_excel(p, sheet_name="data", index=False,
                                                  engine="openpyxl"))  # fmt: skip
    else:
        raise InputError(f"{path}: IAMC export writes .csv or .xlsx files")
    return long


def write_excel_csv(table: pd.DataFrame, path: str | Path) -> None:
    """A table as CSV that spreadsheet programs open correctly: UTF-8 with a byte-order
    mark (so accented nation names survive), dates and times as ISO 8601, no index."""
    out = table.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
        elif isinstance(out[c].dtype, pd.PeriodDtype):
            out[c] = out[c].astype(str)
    atomic_write(Path(path), lambda p: out.to_csv(p, index=False, encoding="utf-8-sig"))


def steps_to_iamc(
    steps: pd.DataFrame, *, scenario: str = "scenario", how: str = "last"
) -> pd.DataFrame:
    """A per-step model frame (one or many scenarios, a ``date`` column) as IAMC World rows,
    for every column in :data:`MODEL_VARIABLES` it has. Replicates, if any (a ``replicate``
    or ``run_id`` column), are averaged first."""
    cols = [c for c in MODEL_VARIABLES if c in steps.columns]
    keys = [k for k in (scenario, "date") if k in steps.columns]
    if "date" not in steps.columns:
        raise InputError("IAMC export: the steps table has no date column")
    frame = steps.groupby(keys, sort=False)[cols].mean().reset_index()
    return to_iamc(frame, {c: MODEL_VARIABLES[c] for c in cols}, scenario=scenario,
                   time="date", how=how)  # fmt: skip


#: Quantile columns of a comparison's fan table -> IAMC variable suffix (the AR6
#: scenario database's naming; the median is the plain variable).
FAN_QUANTILES = {"q50": "", "q05": "|5.0th Percentile", "q95": "|95.0th Percentile"}


def comparison_to_iamc(fan: pd.DataFrame, adoption: pd.DataFrame) -> pd.DataFrame:
    """A comparison's results as IAMC rows: each scenario's World trajectories from its
    fan table (the median, 5th and 95th percentiles over replicates, the last month of
    each year) and each nation's probability of having adopted by the horizon (region =
    ISO3, the horizon's year)."""
    parts = []
    for variable, rows in fan.groupby("variable", sort=False):
        if variable not in MODEL_VARIABLES:
            continue
        name, unit = MODEL_VARIABLES[str(variable)]
        mapping = {q: (name + suffix, unit) for q, suffix in FAN_QUANTILES.items()}
        parts.append(to_iamc(rows, mapping, scenario="scenario", time="date"))
    if len(adoption) and len(fan):
        last = fan.groupby("scenario")["date"].max()
        table = adoption.assign(date=adoption["scenario"].map(last))
        variables = {"p_adopted": ("Sovereign Bitcoin|Adoption Probability", "1")}
        parts.append(to_iamc(table, variables, scenario="scenario", region="nation", time="date"))
    if not parts:
        return pd.DataFrame(columns=IAMC_COLUMNS)
    return pd.concat(parts, ignore_index=True)
