"""Regression corpus of issue 15: every bad input found by hand stays a one-line error.

Each case runs the real command line in this process (``adoption_model.cli.main`` with
stderr captured) in a fresh directory and asserts exit code 2, no traceback, one line that
names the right key (and the file, when there is one), and nothing written to ``--out``.
A few cases that need a real process (a FIFO, ``/dev/zero``) run as subprocesses with a
timeout, so a hang fails the test instead of the suite.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adoption_model.cli import main
from adoption_model.errors import InputError
from adoption_model.guards import check_finite, check_seed
from adoption_model.model import AdoptionModel

EXPERIMENT = """
name = "corpus"
[set]
steps = 2
[levers."imf.stance"]
values = [0.0, 1.0]
"""


def run_cli(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """``main(args)`` in ``cwd``: exit code, stdout, stderr (argparse exits become codes)."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# (name, file content or None, extra arguments, expected substrings)
SCENARIO_CASES = [
    ("set-nan", None, ["--set", "price.drift=nan"], ["price.drift", "finite"]),
    ("toml-1e400", "[price]\ndrift = 1e400\n", [], ["price.drift", "finite", "{file}"]),
    ("coef-inf", "[rule.coef]\na_peer = -inf\n", [], ["rule.coef.a_peer", "{file}"]),
    ("steps-true", "steps = true\n", [], ["steps", "whole number", "{file}"]),
    ("steps-string", 'steps = "12"\n', [], ["steps", "whole number"]),
    (
        "nation-0-real",
        '[[events]]\ndate = "2026-01"\nkind = "adopt"\nnation = 0\n',
        [],
        ["events[0].nation", "node number", "{file}"],
    ),
    (
        "uniform-low-above-high",
        '[rule.threshold_distribution]\nkind = "uniform"\nlow = 0.9\nhigh = 0.1\n',
        [],
        ["rule.threshold_distribution.low", "above high"],
    ),
    ("negative-sd", "[rule.threshold_distribution]\nsd = -0.1\n", [], ["sd", ">= 0"]),
    (
        "empty-regimes",
        '[price]\nprocess = "regime"\nregime_drift = []\nregime_volatility = []\n'
        "regime_switch = []\n",
        [],
        ["price", "regime"],
    ),
    ("drift-1e308", "[price]\ndrift = 1e308\n", [], ["price.drift", "<= 10"]),
    ("volatility-12", "[price]\nvolatility = 12.0\n", [], ["price.volatility", "<= 5"]),
    ("kappa-1e30", "[price]\nkappa = 1e30\n", [], ["price.kappa"]),
    (
        "price-shock-1e308",
        '[[events]]\ndate = "2026-01"\nkind = "price_shock"\nchange = 1e308\n',
        [],
        ["events[0].change"],
    ),
    ("hashrate-growth", "[mining]\nhashrate_growth = -1e308\n", [], ["mining.hashrate_growth"]),
    (
        "purchase-months-huge",
        "[adoption]\npurchase_months = 1000000000000000000000000000000\n",
        [],
        ["adoption.purchase_months"],
    ),
    (
        "set-event-key",
        '[[events]]\ndate = "2026-01"\nkind = "set"\nkey = "adoption.nope.deep"\nvalue = 1\n',
        [],
        ["events[0].key", "adoption.nope.deep", "{file}"],
    ),
    (
        "set-event-value",
        '[[events]]\ndate = "2026-01"\nkind = "set"\nkey = "imf.stance"\nvalue = 7.0\n',
        [],
        ["events[0].value", "imf.stance", "{file}"],
    ),
    ("seed-negative", None, ["--seed", "-1"], ["--seed -1"]),
    ("name-100kb", "name = '" + "x" * 100_000 + "'\n", [], ["name", "200 characters"]),
    ("not-utf8", b"name = '\xff\xfe'\n", [], ["not UTF-8", "offset 8", "{file}"]),
    ("nesting-1000", "a = " + "[" * 1000 + "]" * 1000 + "\n", [], ["nested", "{file}"]),
    ("directory", "<dir>", [], ["is a directory"]),
    ("50mb", "<big>", [], ["larger than"]),
    ("out-too-long", None, ["--out", "o" * 300], ["--out", "longer than 255"]),
    (
        "er-5m-nodes",
        None,
        [
            "--set",
            "network.kind=erdos_renyi",
            "--set",
            "network.n=5000000",
            "--set",
            "network.mean_degree=1000",
        ],
        ["network", "edge ends"],
    ),  # fmt: skip
    (
        "soft-bound",
        None,
        [
            "--set",
            "network.kind=erdos_renyi",
            "--set",
            "network.n=5000000",
            "--set",
            "network.mean_degree=20",
            "--set",
            "steps=1000",
        ],
        ["--yes"],
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("content", "extra", "needles"),
    [c[1:] for c in SCENARIO_CASES],
    ids=[c[0] for c in SCENARIO_CASES],
)
def test_bad_scenario_is_one_line_and_writes_nothing(
    tmp_path: Path, content: str | bytes | None, extra: list[str], needles: list[str]
) -> None:
    args = ["run", "--quiet"]
    path = tmp_path / "bad.toml"
    if content == "<dir>":
        path.mkdir()
    elif content == "<big>":
        with path.open("wb") as f:
            f.truncate(50 * 1024 * 1024)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    if content is not None:
        args.append(str(path))
    if "--out" not in extra:
        extra = [*extra, "--out", str(tmp_path / "out")]
    code, _, err = run_cli([*args, *extra], tmp_path)
    assert_one_line(code, err, *(n.replace("{file}", "bad.toml") for n in needles))
    assert not (tmp_path / "out").exists()


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfsteps = 2\n")
    code, out, err = run_cli(["run", str(path), "--quiet", "--seed", "1"], tmp_path)
    assert code == 0, err


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "baseline", "price_crash", "--seed", "-1"],
        ["explain", "PAK", "--seed", "-1"],
    ],
)
def test_negative_seed_is_one_line(tmp_path: Path, args: list[str]) -> None:
    code, _, err = run_cli(args, tmp_path)
    assert_one_line(code, err, "--seed -1")


def test_compare_replications_1e12_refused_before_drawing_seeds(tmp_path: Path) -> None:
    code, _, err = run_cli(
        ["compare", "baseline", "price_crash", "--replications", "1000000000000"], tmp_path
    )
    assert_one_line(code, err, "--replications", "at most")
    assert not any(tmp_path.iterdir())


# (name, experiment text, extra arguments, expected substrings)
EXPERIMENT_CASES = [
    (
        "outcome-1.2.3",
        EXPERIMENT + '[outcomes]\nx = "at(adoption_share, 1.2.3)"\n',
        [],
        ["outcomes.x", "reducer call", "{file}"],
    ),
    (
        "outcome-1e999",
        EXPERIMENT + '[outcomes]\nx = "at(adoption_share, 1e999)"\n',
        [],
        ["outcomes.x", "finite"],
    ),
    (
        "outcome-named-seed",
        EXPERIMENT + '[outcomes]\nseed = "final(adoption_share)"\n',
        [],
        ["outcomes.seed", "run table"],
    ),
    (
        "outcome-named-status",
        EXPERIMENT + '[outcomes]\nstatus = "final(adoption_share)"\n',
        [],
        ["outcomes.status"],
    ),
    (
        "factor-high-inf",
        'name = "c"\n[uncertainties."price.drift"]\nlow = 0.0\nhigh = inf\n',
        [],
        ["high", "finite"],
    ),
    (
        "factor-values-nan",
        'name = "c"\n[uncertainties."price.drift"]\nvalues = [nan]\n',
        [],
        ["values[0]", "finite"],
    ),
    ("name-tmp", EXPERIMENT.replace('"corpus"', '"/tmp/x"'), [], ["name", "/tmp/x"]),
    ("name-dotdot", EXPERIMENT.replace('"corpus"', '"../x"'), [], ["name", "../x"]),
    (
        "scheduler-garbage",
        EXPERIMENT,
        ["--backend", "dask", "--scheduler", "not-an-address"],
        ["--scheduler", "not a scheduler address"],
    ),
    (
        "base-dev-zero",
        'base = "/dev/zero"\n' + EXPERIMENT,
        [],
        ["/dev/zero", "not a regular file"],
    ),
    (
        "replications-1e6-needs-yes",
        EXPERIMENT.replace("[set]", "replications = 1000000\n[set]"),
        [],
        ["--yes"],
    ),
    (
        "design-too-large",
        'name = "c"\nreplications = 1000000\n[design]\nkind = "latin_hypercube"\n'
        'samples = 1000\n[uncertainties."price.drift"]\nlow = 0.0\nhigh = 1.0\n',
        [],
        ["design", "runs; at most"],
    ),
]


@pytest.mark.parametrize(
    ("text", "extra", "needles"),
    [c[1:] for c in EXPERIMENT_CASES],
    ids=[c[0] for c in EXPERIMENT_CASES],
)
def test_bad_experiment_is_one_line_and_writes_nothing(
    tmp_path: Path, text: str, extra: list[str], needles: list[str]
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    args = ["sweep", str(path), "--backend", "serial", "--quiet", *extra]
    code, _, err = run_cli(args, tmp_path)
    assert_one_line(code, err, *(n.replace("{file}", "exp.toml") for n in needles))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]  # no results/, nothing


def test_sweep_dry_run_with_a_million_replications_prints_the_estimate(tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.replace("[set]", "replications = 1000000\n[set]"))
    code, out, err = run_cli(["sweep", str(path), "--dry-run"], tmp_path)
    assert code == 0, err
    assert "2,000,000 runs" in out and "memory" in out and "disk" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_fifo_and_device_refused_without_blocking(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        target = tmp_path / "pipe.toml"
        os.mkfifo(target)
    else:
        target = Path("/dev/zero")
    r = subprocess.run(
        [sys.executable, "-m", "adoption_model", "run", str(target), "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line(r.returncode, r.stderr, str(target), "not a regular file")


def test_a_run_that_goes_non_finite_stops_with_the_step_and_parameters() -> None:
    model = AdoptionModel(overrides={"steps": 10}, seed=1)
    model.set_parameter("price.drift", 10.0)
    model.world.log_prices[-1] = 708.5  # exp(709.8) is the largest float: the next month overflows
    # the first non-finite number is the price itself or a stock valued at it
    pattern = r"step \d+ \(\d{4}-\d\d\): .*(price\.drift|the price)"
    with pytest.raises(InputError, match=pattern) as err:
        model.run_model()
    assert "\n" not in str(err.value)


def test_check_finite_names_the_quantity() -> None:
    model = AdoptionModel(overrides={"steps": 2}, seed=1)
    check_finite(model)  # a healthy model passes
    model.state.holdings[3] = float("nan")
    with pytest.raises(InputError, match=r"step 1 \(2025-07\): btc_sovereign became nan"):
        model.step()  # the recorder sums the nations: the NaN reaches the recorded total


def test_check_seed() -> None:
    assert check_seed(0) == 0 and check_seed(None) is None
    for bad in (-1, 2**63, True):
        with pytest.raises(InputError, match="--seed"):
            check_seed(bad)
