"""Command-line conventions: fast --help, --quiet/--verbose, exit codes, missing extras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import adoption_model
from adoption_model.cli import build_parser, main

LONG_COMMANDS = ("run", "compare", "sweep", "analyze")


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_neither_pandas_nor_the_model(flag):
    code = (
        "import json, sys\n"
        "from adoption_model.cli import main\n"
        "try:\n    main([sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'mesa', 'rich', 'adoption_model.model',"
        " 'adoption_model.scenario') if m in sys.modules)\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    res = _python(code, flag)
    assert json.loads(res.stderr.strip().splitlines()[-1]) == []
    if flag == "--version":
        assert res.stdout.strip() == f"adoption-model {adoption_model.__version__}"
    else:
        assert "sweep" in res.stdout and "compare" in res.stdout


def test_every_subcommand_help_stays_light():
    code = (
        "import sys\nfrom adoption_model.cli import build_parser\n"
        "p = build_parser()\n"
        "for cmd in ('run', 'sweep', 'compare', 'analyze', 'data', 'view', 'explain'):\n"
        "    try:\n        p.parse_args([cmd, '--help'])\n    except SystemExit:\n        pass\n"
        "print('pandas' in sys.modules, file=sys.stderr)\n"
    )
    assert _python(code).stderr.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("command", LONG_COMMANDS)
def test_long_commands_take_quiet_and_verbose_but_not_both(command, capsys):
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    flags = {o for a in sub._actions for o in a.option_strings}
    assert {"-q", "--quiet", "-v", "--verbose"} <= flags
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([command, "x", "--quiet", "--verbose"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_run_quiet_prints_nothing_and_verbose_prints_provenance(capsys):
    args = ["run", "--steps", "2", "--seed", "1", "--set", "network.kind=erdos_renyi",
            "--set", "network.n=40"]  # fmt: skip
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main([*args, "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "Adoption over time" in out and "scenario digest" in out and "seed 1" in out


FAILING = """
name = "fails"
seed = 1
replications = 1
[set]
steps = 3
"network.kind" = "erdos_renyi"
"network.n" = 20
[design]
kind = "points"
points = [{"initial.seed_count" = 1}, {"initial.seed_count" = 50}, {"initial.seed_count" = 2}]
"""


def test_sweep_with_failed_runs_exits_1_and_says_how_many(tmp_path, capsys):
    exp = tmp_path / "fails.toml"
    exp.write_text(FAILING, encoding="utf-8")
    code = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--backend", "serial", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 of 3 runs failed (first: run 1" in err
    assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "o" / "runs.parquet").exists()  # the dataset is complete nonetheless


def test_compare_with_a_failing_scenario_says_how_many_and_writes_no_report(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'steps = 3\n[network]\nkind = "erdos_renyi"\nn = 20\n[initial]\nseed_count = 50\n',
        encoding="utf-8",
    )
    good = tmp_path / "good.toml"
    good.write_text('steps = 3\n[network]\nkind = "erdos_renyi"\nn = 20\n', encoding="utf-8")
    out = tmp_path / "cmp"
    code = main(["compare", str(good), str(bad), "--replications", "2", "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code != 0
    assert "2 of 4 runs failed" in err and len(err.strip().splitlines()) == 1
    assert not (out / "report.html").exists()


@pytest.mark.parametrize(
    ("blocked", "argv", "extra"),
    [
        ("distributed", ["sweep", "lever_factorial", "--backend", "dask", "-q"], "dask"),
        ("dask_jobqueue", ["sweep", "lever_factorial", "--backend", "slurm", "-q"], "cluster"),
        ("solara", ["view"], "viz"),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_extra(blocked, argv, extra, tmp_path):
    code = (
        "import sys\n"
        f"sys.modules[{blocked!r}] = None  # as if the extra were not installed\n"
        "from adoption_model.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, *argv, *(["--out", str(tmp_path / "o")] if argv[0] ==
         "sweep" else [])],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert f"pip install 'adoption-model[{extra}]'" in lines[0]


def test_bundled_experiment_runs_by_name_from_any_directory(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "adoption_model", "sweep", "sobol_peer_effects", "--dry-run"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "sobol_peer_effects: sobol design" in res.stdout
    assert str(Path("results") / "sobol_peer_effects") in res.stdout


def test_unknown_experiment_name_suggests_the_bundled_ones(capsys):
    assert main(["sweep", "sobol_peer_efects", "--dry-run"]) == 2
    assert "did you mean sobol_peer_effects" in capsys.readouterr().err


@pytest.mark.parametrize(("shard", "message"), [("3/3", "need 0 <= I < N"), ("a/b", "give I/N")])
def test_bad_shard_is_one_line(shard, message, tmp_path, capsys):
    code = main(["sweep", "lever_factorial", "--shard", shard, "--out", str(tmp_path / "o")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_shell_completion_script_names_the_commands(capsys):
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "adoption-model" in script and "sweep" in script and "--backend" in script
