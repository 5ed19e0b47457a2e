"""The ``adoption-model data`` commands, run as a user would (subprocess, real files)."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adoption_model", "data", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_show_unknown_code_is_one_line_exit_2() -> None:
    result = run("show", "PAKI")
    assert result.returncode == 2
    assert "did you mean PAK" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_show_pakistan_has_values_years_and_sources() -> None:
    result = run("show", "PAK")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in (
        "2000",  # energy surplus, MW
        "seed article 002",
        "seed_article_override",
        "debt_pct_gdp",
        "77.11",
        "2023",  # WEO debt year
        "reserves_usd",
        "2024",  # WDI reserves year, IMF credit (Jan 2024)
        "294.018",  # IMF credit % of quota
        "imf_programme_active",
        "World Economic Outlook",
        "Quarterly Report on IMF Finances",
    ):
        assert text in out, text


def test_show_accepts_names_case_insensitively() -> None:
    result = run("show", "bhutan")
    assert result.returncode == 0, result.stderr
    assert "Bhutan (BTN)" in result.stdout and "13,029" in result.stdout


def test_list_filters_and_csv() -> None:
    result = run("list", "--region", "southern asia", "--format", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("iso3,name,un_region")
    codes = {line.split(",")[0] for line in lines[1:]}
    assert {"PAK", "BTN", "IND"} <= codes and "USA" not in codes
    result = run("list", "--bloc", "eu")
    assert result.returncode == 0, result.stderr
    assert "27 nations" in result.stdout and "DEU" in result.stdout


def test_list_unknown_region_and_bloc() -> None:
    result = run("list", "--region", "Southern Asai")
    assert result.returncode == 2
    assert "did you mean Southern Asia" in result.stderr
    assert result.stderr.count("\n") == 1
    result = run("list", "--bloc", "BRICKS")
    assert result.returncode == 2
    assert "BRIC" in result.stderr and result.stderr.count("\n") == 1


def test_sources_lists_licences() -> None:
    result = run("sources")
    assert result.returncode == 0, result.stderr
    for text in ("CC-BY-4.0", "CC-BY-SA-4.0", "ODbL-1.0", "GPL-3.0", "IMF", "waemu_gdp_share"):
        assert text in result.stdout, text
