"""Fuzz suite: generated bad scenario, override, experiment and byte-level inputs.

Hypothesis draws bad inputs from the schema itself (every leaf key of
:class:`~adoption_model.scenario.Scenario`, with values of the wrong type, non-finite or
outside the documented range read from the field's constraints) and from a catalogue of
broken experiment files (outcome expressions, outcome names, factor ranges, names, sizes).
Every case runs the real command line in this process (:func:`adoption_model.cli.main`,
stderr captured) and must exit with code 2, print no traceback, print one line naming the
key and the file (or ``overrides``), and leave nothing in the output directory. A sample of
the same kinds of case runs through real subprocesses.

About 1,250 generated cases a run (``FUZZ_SCALE=4`` multiplies them); the suite takes well
under a minute on one core.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types as at
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from adoption_model.cli import main
from adoption_model.experiments.outcomes import MODEL_COLUMNS, REDUCERS
from adoption_model.experiments.spec import RUN_COLUMNS
from adoption_model.scenario import Scenario

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Settings of a fuzz test: ``examples`` cases (times FUZZ_SCALE), no deadline, no database."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# -- the schema, read from the models -------------------------------------------------
SKIP = {"assumptions", "events", "description"}  # free text / covered by their own cases


def _leaves(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any, list[Any]]]:
    out = []
    for name, field in model.model_fields.items():
        key = prefix + name
        if key in SKIP:
            continue
        ann = field.annotation
        sub = next(
            (c for c in (ann, *get_args(ann)) if isinstance(c, type) and issubclass(c, BaseModel)),
            None,
        )
        if sub is not None:
            out.extend(_leaves(sub, key + "."))
        else:
            out.append((key, ann, list(field.metadata)))
    return out


LEAVES = _leaves(Scenario)


def _base_type(ann: Any) -> Any:
    """float, int, bool, str, a Literal, or list for the field's annotation (None removed)."""
    args = [a for a in get_args(ann) if a is not type(None)]
    if get_origin(ann) is Literal:
        return ann
    if get_origin(ann) is list:
        return list
    if args and get_origin(ann) is not Literal and len(args) == 1:
        return _base_type(args[0])
    if getattr(ann, "__metadata__", None) is not None:
        return _base_type(get_args(ann)[0])
    return ann


def _bounds(meta: list[Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in meta:
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(m, getattr(at, name.capitalize())):
                out[name] = getattr(m, name)
    return out


NOT_NUMBERS = st.one_of(
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.integers(0, 3), min_size=1, max_size=2),
)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


#: Integer keys that accept whole floats on purpose (1.0 for 1): the layer settings.
WHOLE_FLOATS_OK = ("network.layers.",)


def bad_value(ann: Any, meta: list[Any], key: str = "") -> st.SearchStrategy[Any]:
    """Values that the field must refuse."""
    base = _base_type(ann)
    b = _bounds(meta)
    if base is float:
        options = [NON_FINITE, NOT_NUMBERS]
        if "le" in b or "lt" in b:
            hi = b.get("le", b.get("lt"))
            options.append(st.floats(hi, 1e300, exclude_min=True).filter(lambda v: v > hi))
        if "ge" in b or "gt" in b:
            lo = b.get("ge", b.get("gt"))
            options.append(st.floats(-1e300, lo, exclude_max=True).filter(lambda v: v < lo))
        return st.one_of(*options)
    if base is int:
        floats = st.floats(-1e6, 1e6, allow_nan=False)
        if key.startswith(WHOLE_FLOATS_OK):
            floats = floats.filter(lambda v: not v.is_integer())
        options = [st.booleans(), st.text(max_size=8), floats, NON_FINITE]
        if "le" in b:
            options.append(st.integers(int(b["le"]) + 1, 10**40))
        if "ge" in b:
            options.append(st.integers(-(10**40), int(b["ge"]) - 1))
        return st.one_of(*options)
    if base is bool:
        return st.one_of(st.integers(-5, 5), st.text(max_size=5), st.floats(allow_nan=False))
    if get_origin(base) is Literal:
        allowed = set(get_args(base))
        return st.one_of(
            st.text(max_size=12).filter(lambda s: s not in allowed), st.integers(), st.booleans()
        )
    if base is list:
        return st.one_of(
            st.just([math.nan]), st.integers(), st.text(min_size=1, max_size=5), st.booleans()
        )
    return st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.none()))


@st.composite
def scenario_mutation(draw: st.DrawFn) -> tuple[str, Any]:
    key, ann, meta = draw(st.sampled_from(LEAVES))
    value = draw(bad_value(ann, meta, key))
    if isinstance(value, list) and any(v is None for v in value):
        value = [1, "x"]  # TOML cannot write None; a mixed list is just as wrong
    return key, value


@st.composite
def unknown_key(draw: st.DrawFn) -> tuple[str, Any]:
    tables = sorted({k.rsplit(".", 1)[0] for k, _, _ in LEAVES if "." in k} | {""})
    table = draw(st.sampled_from(tables))
    known = {k.rsplit(".", 1)[-1] for k, _, _ in LEAVES if k.startswith(table)}
    known |= {"network", "rule", "price", "mining", "imf", "initial", "output", "layers"}
    name = draw(
        st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda n: n not in known)
    )
    return (f"{table}.{name}" if table else name), 1


def _nest(key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


# -- running the CLI in this process --------------------------------------------------
def run_cli(args: list[str], cwd: Path) -> tuple[int, str]:
    err = io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return code, err.getvalue()


def check_refusal(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _leaf_name(key: str) -> str:
    return key.rsplit(".", 1)[-1]


# -- scenario files and overrides -----------------------------------------------------
@fuzz(450)
@given(st.one_of(scenario_mutation(), unknown_key()))
def test_generated_bad_scenario_files(case: tuple[str, Any]) -> None:
    key, value = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "fuzz.toml"
        path.write_text(tomli_w.dumps(_nest(key, value)), encoding="utf-8")
        out = tmp / "out"
        code, err = run_cli(["run", str(path), "--quiet", "--out", str(out)], tmp)
        check_refusal(code, err, _leaf_name(key), "fuzz.toml")
        assert not out.exists()


def _toml_literal(value: Any) -> str:
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


@fuzz(300)
@given(st.one_of(scenario_mutation(), unknown_key()))
def test_generated_bad_overrides(case: tuple[str, Any]) -> None:
    key, value = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out = tmp / "out"
        arg = f"{key}={_toml_literal(value)}"
        code, err = run_cli(["run", "--quiet", "--set", arg, "--out", str(out)], tmp)
        check_refusal(code, err, _leaf_name(key))
        assert "overrides" in err or "--set" in err, err
        assert not out.exists()


# -- byte-level damage ------------------------------------------------------------------
GOOD = b'name = "fuzz"\nsteps = 2\n[price]\ndrift = 0.2\n'
INVALID_UTF8 = [b"\xff", b"\xfe", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xc3(", b"\xf8\x88"]


@fuzz(200)
@given(st.integers(0, len(GOOD)), st.sampled_from(INVALID_UTF8), st.booleans())
def test_generated_non_utf8_files(at_byte: int, junk: bytes, bom: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "bytes.toml"
        prefix = b"\xef\xbb\xbf" if bom else b""
        path.write_bytes(prefix + GOOD[:at_byte] + junk + GOOD[at_byte:])
        code, err = run_cli(["run", str(path), "--quiet", "--out", str(tmp / "out")], tmp)
        check_refusal(code, err, "bytes.toml", "not UTF-8", f"offset {len(prefix) + at_byte}")
        assert not (tmp / "out").exists()


# -- experiment files -----------------------------------------------------------------
EXPERIMENT = {
    "name": "fuzz",
    "set": {"steps": 2},
    "levers": {"imf.stance": {"values": [0.0, 1.0]}},
    "outcomes": {"share": "final(adoption_share)"},
}
_VALID_CALL = re.compile(
    r"^\s*[a-z_]+\s*\(\s*[a-z_]+\s*(,\s*[-+]?[0-9.]+(e[-+]?[0-9]+)?\s*)?\)\s*$"
)
IDENT = st.from_regex(r"[a-z][a-z_]{1,10}", fullmatch=True)
BAD_NUMBERS = ["1e999", "-1e999", "nan", "inf", "1.2.3", "'x'", "x", "1, 2", "", "[1]", "1j"]


@st.composite
def bad_outcome(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kind = draw(st.sampled_from(["text", "arg", "column", "reducer", "name", "reserved"]))
    exp = {**EXPERIMENT, "outcomes": dict(EXPERIMENT["outcomes"])}
    if kind == "text":
        text = draw(st.text(max_size=40).filter(lambda t: not _VALID_CALL.match(t)))
        exp["outcomes"]["x"] = text
        return exp, "outcomes.x"
    if kind == "arg":
        reducer = draw(st.sampled_from(["at", "time_to"]))
        exp["outcomes"]["x"] = f"{reducer}(adoption_share, {draw(st.sampled_from(BAD_NUMBERS))})"
        return exp, "outcomes.x"
    if kind == "column":
        col = draw(IDENT.filter(lambda c: c not in MODEL_COLUMNS))
        exp["outcomes"]["x"] = f"final({col})"
        return exp, "outcomes.x"
    if kind == "reducer":
        name = draw(IDENT.filter(lambda r: r not in REDUCERS))
        exp["outcomes"]["x"] = f"{name}(adoption_share)"
        return exp, "outcomes.x"
    if kind == "name":
        name = draw(st.from_regex(r"[0-9 ./\-][a-z0-9 ./]{0,8}", fullmatch=True))
        exp["outcomes"][name] = "final(adoption_share)"
        return exp, "outcomes"
    name = draw(st.sampled_from([*RUN_COLUMNS, "imf.stance"]))
    exp["outcomes"][name] = "final(adoption_share)"
    return exp, "outcomes"


@st.composite
def bad_experiment(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kind = draw(st.sampled_from(["factor", "values", "name", "replications", "design", "seed"]))
    exp = {**EXPERIMENT}
    if kind == "factor":
        low, high = draw(
            st.one_of(
                st.tuples(NON_FINITE, st.floats(0, 1)),
                st.tuples(st.floats(0, 1), NON_FINITE),
                st.tuples(st.floats(0.5, 1), st.floats(0, 0.5)).filter(lambda p: p[0] >= p[1]),
            )
        )
        exp["uncertainties"] = {"price.drift": {"low": low, "high": high}}
        return exp, "uncertainties"
    if kind == "values":
        exp["levers"] = {"imf.stance": {"values": [draw(NON_FINITE)]}}
        return exp, "levers"
    if kind == "name":
        name = draw(
            st.one_of(
                st.sampled_from(["/tmp/x", "../x", "..", ".", "a/b", "x\ny", ""]),
                st.text(min_size=101, max_size=120),
            )
        )
        exp["name"] = name
        return exp, "name"
    if kind == "replications":
        exp["replications"] = draw(
            st.one_of(st.integers(-(10**6), 0), st.integers(10**6 + 1, 10**30), NOT_NUMBERS)
        )
        return exp, "replications"
    if kind == "design":
        exp["design"] = draw(
            st.one_of(
                st.builds(lambda k: {"kind": k}, st.text(max_size=10)),
                st.builds(
                    lambda n: {"kind": "latin_hypercube", "samples": n}, st.integers(max_value=0)
                ),
            )
        )
        return exp, "design"
    exp["seed"] = draw(st.one_of(st.integers(max_value=-1), st.integers(2**63, 2**70), NOT_NUMBERS))
    return exp, "seed"


@fuzz(300)
@given(st.one_of(bad_outcome(), bad_experiment()))
def test_generated_bad_experiments(case: tuple[dict[str, Any], str]) -> None:
    data, key = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "fuzz_exp.toml"
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        args = ["sweep", str(path), "--backend", "serial", "--quiet"]
        code, err = run_cli(args, tmp)
        check_refusal(code, err, key, "fuzz_exp.toml")
        assert sorted(p.name for p in tmp.iterdir()) == ["fuzz_exp.toml"]


# -- a sample through real subprocesses -----------------------------------------------
SUBPROCESS_SAMPLE = [
    ("price.drift", "nan"),
    ("price.volatility", "12.0"),
    ("steps", "true"),
    ("network.n", '"12"'),
    ("rule.coef.a_peer", "inf"),
    ("imf.stance", "-0.5"),
    ("mining.hashrate_growth", "-1e308"),
    ("adoption.purchase_months", "1000000000000000000000000000000"),
    ("rule.kind", '"treshold"'),
    ("price.process", "1"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("key", "value"), SUBPROCESS_SAMPLE)
def test_sample_through_real_subprocesses(tmp_path: Path, key: str, value: str) -> None:
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "adoption_model", "run", "--quiet", "--set", f"{key}={value}",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    check_refusal(r.returncode, r.stderr, key)
    assert not out.exists()
