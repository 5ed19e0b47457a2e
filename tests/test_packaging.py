"""The sdist and the wheel: their contents, metadata, and tests run against each install.

Builds both with ``python -m build`` (no isolation: the [test] extra brings setuptools and
build), checks them with ``twine check``, lists the wheel's files against what it must and
must not hold, installs each into a fresh virtual environment (dependencies come from this
environment through a ``.pth`` line, so nothing is downloaded) and runs fast tests from
the unpacked sdist against the installed package, from outside the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import adoption_model
from adoption_model.experiments.spec import bundled_experiments
from adoption_model.scenario import bundled_scenarios

ROOT = Path(__file__).resolve().parent.parent
VERSION = adoption_model.__version__


def test_bundled_data_is_real_package_data():
    scenarios = bundled_scenarios()
    assert len(scenarios) >= 12 and "baseline" in scenarios
    assert not any(p.is_symlink() or p.parent.is_symlink() for p in scenarios.values())
    assert set(bundled_experiments()) >= {"lever_factorial", "sobol_peer_effects"}
    assert (Path(adoption_model.__file__).parent / "py.typed").exists()


def test_lazy_exports_are_visible_to_dir():
    assert adoption_model.__all__ == ["__version__", *adoption_model._EXPORTS]
    assert set(adoption_model.__all__) <= set(dir(adoption_model))
    assert "AdoptionModel" in dir(adoption_model) and "run" in dir(adoption_model)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    wheel = next(out.glob("adoption_model-*.whl"))
    sdist = next(out.glob("adoption_model-*.tar.gz"))
    return {"wheel": wheel, "sdist": sdist}


@pytest.mark.slow
def test_twine_check_passes(dists):
    res = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dists["wheel"]),
         str(dists["sdist"])], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.slow
def test_wheel_holds_one_top_level_package_and_its_data(dists):
    names = zipfile.ZipFile(dists["wheel"]).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"adoption_model", f"adoption_model-{VERSION}.dist-info"}, top
    must = [
        "adoption_model/py.typed",
        "adoption_model/mesa_compat.py",
        "adoption_model/viz/__init__.py",
        "adoption_model/viz/app.py",
        "adoption_model/viz/charts.vue",
        "adoption_model/viz/data/world-atlas_countries-110m.json",
        "adoption_model/scenarios/baseline.toml",
        "adoption_model/experiments/examples/sobol_peer_effects.toml",
        "adoption_model/data/nations.csv",
        "adoption_model/geo/naturalearth_110m.json",
    ]
    assert not [m for m in must if m not in names]
    # every module of the source tree is in the wheel (a subpackage left out of pyproject
    # would fail here), and nothing else of the repository is
    sources = {f"adoption_model/{p.relative_to(ROOT / 'adoption_model')}"
               for p in (ROOT / "adoption_model").rglob("*.py")}  # fmt: skip
    sources |= {
        f"adoption_model/viz/{p.relative_to(ROOT / 'viz')}" for p in (ROOT / "viz").rglob("*.py")
    }
    assert not sources - set(names)
    scen = {f"adoption_model/scenarios/{p}" for p in bundled_scenarios()}
    assert {f"{s}.toml" for s in scen} <= set(names)
    meta = (
        zipfile.ZipFile(dists["wheel"])
        .read(f"adoption_model-{VERSION}.dist-info/METADATA")
        .decode()
    )
    assert "Requires-Python: >=3.11.4" in meta
    assert "Provides-Extra: viz" in meta and "Provides-Extra: cluster" in meta
    core = [line for line in meta.splitlines() if line.startswith("Requires-Dist:")
            and "extra ==" not in line]  # fmt: skip
    assert not [c for c in core if any(x in c.lower() for x in ("solara", "dask", "ipyv"))]


@pytest.mark.slow
def test_sdist_holds_what_its_tests_need(dists):
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("tests/test_cli.py", "tests/golden/digests.json", "examples/quickstart.ipynb",
                   "viz/app.py", "adoption_model/scenarios/baseline.toml", "CHANGELOG.md",
                   "CITATION.cff", "docs/ODD.md", "MANIFEST.in"):  # fmt: skip
        assert needed in names, needed


def _fresh_env(where: Path) -> Path:
    """A virtual environment that sees this one's dependencies but not its editable install."""
    venv.EnvBuilder(with_pip=False).create(where)
    py = where / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # a path line only: the .pth files of this environment (the editable finder) do not run
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return py


def _install(py: Path, dist: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
         "--no-build-isolation", str(dist)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


FAST_TESTS = [
    "tests/test_cli.py",
    "tests/test_scenarios.py",
    "tests/test_packaging.py::test_bundled_data_is_real_package_data",
    "tests/test_view_components.py",
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_dist_passes_the_fast_tests_from_the_unpacked_sdist(kind, dists, tmp_path):
    py = _fresh_env(tmp_path / "venv")
    _install(py, dists[kind])
    with tarfile.open(dists["sdist"]) as tar:
        tar.extractall(tmp_path / "src", filter="data")
    src = next((tmp_path / "src").iterdir())
    where = subprocess.run(
        [str(py), "-P", "-c", "import adoption_model.viz as v; print(v.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=src,
    ).stdout.strip()
    assert str(tmp_path / "venv") in where  # the installed copy, not a source tree
    # PYTHONSAFEPATH: neither pytest nor the CLI subprocesses of the tests may import the
    # source tree's adoption_model (which has no viz/) instead of the installed one
    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    res = subprocess.run(
        [str(py), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "--import-mode=importlib", "-m", "not slow and not browser", "-o", "addopts=-ra",
         *FAST_TESTS],
        capture_output=True, text=True, timeout=900, cwd=src, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout
