"""``adoption-model data``: inspect the calibrated nation table and its sources.

Subcommands
-----------
``data show ISO3``      every attribute of one nation with its year, source and imputation flag
``data list``           the nations, optionally filtered by ``--region`` or ``--bloc``
``data sources``        the data sources with their licences, and the imputation rules
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import TYPE_CHECKING

from adoption_model.errors import InputError, did_you_mean

if TYPE_CHECKING:  # imported where used, so that --help stays fast
    import pandas as pd
    from rich.console import Console

#: Units shown beside each field in ``data show``.
FIELD_UNITS = {
    "lat": "deg",
    "lng": "deg",
    "gdp_usd": "USD",
    "population": "persons",
    "debt_pct_gdp": "% of GDP",
    "reserves_usd": "USD",
    "reserves_months_imports": "months",
    "imports_usd_month": "USD/month",
    "energy_surplus_mw": "MW",
    "energy_cost_usd_mwh": "USD/MWh",
    "imf_credit_pct_quota": "% of quota",
    "btc_holdings": "BTC",
    "initial_mining_mw": "MW",
    "policy_since": "YYYY-MM",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command group to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "data",
        help="inspect the calibrated nation table, its provenance and sources",
        description="Inspect the calibrated nation table (197 nations), where each value "
        "comes from, and the data sources and their licences.",
    )
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _help(parser))

    show = sub.add_parser(
        "show", help="show one nation's attributes with year, source and imputation flag"
    )
    show.add_argument("nation", help="ISO3 code or name, e.g. PAK or Pakistan")
    show.set_defaults(func=show_nation)

    lst = sub.add_parser("list", help="list nations (filter by UN region/continent or bloc)")
    lst.add_argument("--region", help="UN region or continent, e.g. 'Southern Asia' or Africa")
    lst.add_argument("--bloc", help="bloc code, e.g. EU, BRICS_member_2025, AU")
    lst.add_argument("--format", choices=("table", "csv"), default="table", help="output format")
    lst.set_defaults(func=list_nations)

    src = sub.add_parser("sources", help="list data sources, licences and imputation rules")
    src.set_defaults(func=list_sources)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _console() -> Console:
    from rich.console import Console

    # Wide enough that source titles are not folded when output is piped.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def show_nation(args: argparse.Namespace) -> int:
    """Print one nation's attributes with value, unit, year, source and imputation flag."""
    from rich.table import Table

    from adoption_model.nations import lookup_iso3, nation_provenance

    iso3 = lookup_iso3(args.nation)
    prov = nation_provenance(iso3)
    name = prov.loc[prov.field == "name", "value"].iloc[0]
    table = Table(title=f"{name} ({iso3})", title_justify="left")
    for col in ("field", "value", "unit", "year", "source", "imputation"):
        table.add_column(col, overflow="fold")
    for row in prov.itertuples():
        table.add_row(
            row.field,
            _readable(row.value),
            FIELD_UNITS.get(row.field, ""),
            str(row.year),
            f"{row.source_id}: {row.source}",
            row.imputation,
        )
    console = _console()
    console.print(table)
    console.print("Sources and licences: adoption-model data sources")
    return 0


def _readable(value: str) -> str:
    """Thousands separators for large numbers (371747000000 -> 371,747,000,000)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if abs(number) >= 10_000 and number == int(number):
        return f"{int(number):,}"
    return value


def _filter(nations: pd.DataFrame, region: str | None, bloc: str | None) -> pd.DataFrame:
    """Filter by UN region or continent and by bloc, case-insensitively."""
    from adoption_model.nations import load_nations

    if region:
        choices = sorted(set(nations.un_region) | set(nations.continent))
        lowered = {c.lower(): c for c in choices}
        if region.lower() not in lowered:
            hint = did_you_mean(region, choices) or "; valid: " + ", ".join(choices)
            raise InputError(f"--region {region!r} is not a UN region or continent{hint}")
        want = lowered[region.lower()]
        nations = nations[(nations.un_region == want) | (nations.continent == want)]
    if bloc:
        member_of = nations.blocs.str.split(";")
        choices = sorted({b for codes in load_nations().blocs.str.split(";") for b in codes} - {""})
        lowered = {c.lower(): c for c in choices}
        if bloc.lower() not in lowered:
            hint = did_you_mean(bloc, choices) or "; valid: " + ", ".join(choices)
            raise InputError(f"--bloc {bloc!r} is not a bloc code{hint}")
        want = lowered[bloc.lower()]
        nations = nations[member_of.map(lambda codes: want in codes)]
    return nations


def list_nations(args: argparse.Namespace) -> int:
    """List nations as a table or as CSV (all columns of the nation table)."""
    from rich.table import Table

    from adoption_model.nations import NATIONS_CSV, load_nations

    nations = _filter(load_nations(), args.region, args.bloc)
    if args.format == "csv":
        # Emit the committed rows verbatim so numbers keep the table's exact formatting.
        wanted = set(nations.iso3)
        try:
            with NATIONS_CSV.open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                writer = csv.writer(sys.stdout, lineterminator="\n")
                writer.writerow(next(reader))
                writer.writerows(row for row in reader if row and row[0] in wanted)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head
            sys.stderr.close()
        return 0
    table = Table(title=f"{len(nations)} nations", title_justify="left")
    columns = (
        ("iso3", "left"),
        ("name", "left"),
        ("UN region", "left"),
        ("GDP bn USD", "right"),
        ("debt % GDP", "right"),
        ("reserves months", "right"),
        ("surplus MW", "right"),
        ("IMF prog.", "left"),
        ("BTC", "right"),
        ("state", "left"),
    )
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for r in nations.itertuples():
        table.add_row(
            r.iso3,
            r.name,
            r.un_region,
            f"{r.gdp_usd / 1e9:,.1f}",
            f"{r.debt_pct_gdp:.1f}",
            f"{r.reserves_months_imports:.1f}",
            f"{r.energy_surplus_mw:,.0f}",
            "yes" if r.imf_programme_active else "",
            f"{r.btc_holdings:,.0f}",
            r.initial_state,
        )
    _console().print(table)
    return 0


def list_sources(args: argparse.Namespace) -> int:
    """List the data sources with their licences, then the imputation rules."""
    from rich.table import Table

    from adoption_model.nations import SOURCES_TOML, load_sources

    sources = load_sources()
    table = Table(title="Data sources", title_justify="left")
    for col in ("id", "title", "licence", "origin"):
        table.add_column(col, overflow="fold")
    for sid, entry in sources.items():
        origin = entry.get("repository", "")
        if entry.get("commit"):
            origin += f"@{entry['commit'][:12]}"
        elif entry.get("edition"):
            origin += f" {entry['edition']}".lstrip()
        table.add_row(sid, entry.get("title", ""), entry.get("licence", ""), origin)
    console = _console()
    console.print(table)
    import tomllib

    with SOURCES_TOML.open("rb") as handle:
        rules = tomllib.load(handle).get("rules", {})
    rtable = Table(title="Imputation and rule flags", title_justify="left")
    for col in ("flag", "kind", "rule"):
        rtable.add_column(col, overflow="fold")
    for flag, entry in rules.items():
        rtable.add_row(flag, entry.get("kind", ""), entry.get("description", ""))
    console.print(rtable)
    console.print("Attribution texts and licence notices: adoption_model/data/README.md")
    return 0
