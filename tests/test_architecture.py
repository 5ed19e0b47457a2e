"""The package's architecture: data flows one way, the core never reaches a face.

The import graph is built from the source with :mod:`ast` (nothing is imported), from
every ``import`` and ``from ... import`` statement, at module level or inside a function.
Imports under ``if TYPE_CHECKING:`` are left out: they never run. Importing
``a.b.c`` also runs the ``__init__`` of ``a.b``, so that is an edge too, except towards the
importer's own enclosing packages (Python has already started them) and towards
``adoption_model/__init__.py``, whose exports are lazy.

*Core* is the simulation (docs/ODD.md): the model, its state and submodels, the
configuration, the network and the nation table. *Faces* present or drive it: the CLI,
the classroom view, the runner, experiments and comparisons. Faces may import the core;
the core never imports a face, and the core has no import cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("adoption_model", "viz")

#: Simulation modules (first component under ``adoption_model``). ``data`` holds the
#: readers of the committed calibration files, which the network and nation table use.
CORE = (
    "model",
    "agents",
    "state",
    "scenario",
    "errors",
    "world",
    "network",
    "nations",
    "data",
    "submodels",
    "record",
    "explain",
    "seeds",
    "fileio",
    "provenance",
    "market",
)

#: Modules that present or drive the core.
FACES = (
    "adoption_model.__main__",
    "adoption_model.cli",
    "adoption_model.commands",
    "adoption_model.runner",
    "adoption_model.experiments",
    "adoption_model.compare",
    "adoption_model.calibration",
    "adoption_model.discovery",
    "adoption_model.viz",
)

MAX_LINES = 600
#: Modules allowed over MAX_LINES, each with its reason. Remove an entry when the module
#: is split (the test fails while an exception is no longer needed).
LONG_MODULES = {
    "adoption_model/scenario.py": "being split in issue 9 (the configuration's one home took "
    "LayerWeights; its validation is reworked in parallel)",
}

#: Components allowed to import each other, each with its reason. Remove an entry once the
#: cycle is broken (the test fails while an exception is no longer needed).
COMPONENT_CYCLES: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------------------------------
# The import graph
# ---------------------------------------------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    """``adoption_model/network/real.py`` -> ``adoption_model.network.real``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[0] == "viz":  # viz/ installs as adoption_model.viz
        parts.insert(0, "adoption_model")
    return ".".join(parts)


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_statements(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def known(name: str, modules: set[str]) -> str | None:
    """The longest prefix of ``name`` that is a module of ours, or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imported_modules(module: str, is_package: bool, tree: ast.AST, modules: set[str]) -> set[str]:
    """The modules of ours that ``module`` imports (the packages whose __init__ runs too)."""
    targets: set[str] = set()
    for node in import_statements(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [n if n in modules else base for n in names]
        for name in names:
            target = known(name, modules)
            if target is None:
                continue
            targets.add(target)
            parts = target.split(".")
            targets.update(".".join(parts[:k]) for k in range(1, len(parts)))
    own_packages = {".".join(module.split(".")[:k]) for k in range(1, module.count(".") + 1)}
    own_packages.add("adoption_model")  # lazy exports: importing it runs nothing of ours
    return {t for t in targets if t != module and t not in own_packages}


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> nx.DiGraph:
    """Directed graph ``importer -> imported`` over the modules of ``packages`` in ``root``."""
    files = {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }
    modules = set(files)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in imported_modules(module, path.name == "__init__.py", tree, modules):
            graph.add_edge(module, target)
    return graph


def in_group(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def is_core(module: str) -> bool:
    return in_group(module, [f"adoption_model.{name}" for name in CORE])


def core_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Import cycles among core modules (each as a sorted list of its modules)."""
    core = graph.subgraph([m for m in graph if is_core(m)])
    return sorted(sorted(c) for c in nx.strongly_connected_components(core) if len(c) > 1)


def component(module: str) -> str:
    """The unit a module belongs to: ``viz`` or ``adoption_model.<first name>``."""
    parts = module.split(".")
    return parts[0] if parts[0] != "adoption_model" else ".".join(parts[:2])


def component_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Cycles between components (a package and a module, or two packages, importing each
    other through any of their modules), faces included."""
    units = nx.DiGraph()
    units.add_edges_from(
        (component(a), component(b)) for a, b in graph.edges if component(a) != component(b)
    )
    return sorted(sorted(c) for c in nx.strongly_connected_components(units) if len(c) > 1)


def faces_reached(graph: nx.DiGraph) -> dict[str, list[str]]:
    """For each core module, the faces it imports, directly or through other modules."""
    out = {}
    for module in graph:
        if is_core(module):
            reached = sorted(m for m in nx.descendants(graph, module) if in_group(m, FACES))
            if reached:
                out[module] = reached
    return out


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return import_graph(REPO)


# ---------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------


def test_no_import_cycle_in_the_core(graph: nx.DiGraph) -> None:
    assert core_cycles(graph) == []


def test_no_two_components_import_each_other(graph: nx.DiGraph) -> None:
    """E.g. nations.py and data/ (the build), or viz/ and commands/, once did."""
    allowed = [sorted(pair) for pair in COMPONENT_CYCLES]
    assert [c for c in component_cycles(graph) if c not in allowed] == []


def test_every_component_cycle_exception_is_still_needed(graph: nx.DiGraph) -> None:
    found = component_cycles(graph)
    stale = [pair for pair in COMPONENT_CYCLES if sorted(pair) not in found]
    assert stale == [], f"{stale} no longer import each other: remove them from COMPONENT_CYCLES"


def test_no_core_module_imports_a_face(graph: nx.DiGraph) -> None:
    assert faces_reached(graph) == {}


def test_configuration_does_not_depend_on_the_graph(graph: nx.DiGraph) -> None:
    """The network imports the configuration, never the reverse."""
    assert graph.has_edge("adoption_model.network.graph", "adoption_model.scenario")
    reached = nx.descendants(graph, "adoption_model.scenario")
    assert not any(in_group(m, ["adoption_model.network"]) for m in reached), reached


def test_no_module_over_600_lines() -> None:
    too_long = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES and rel not in LONG_MODULES:
                too_long[rel] = lines
    assert too_long == {}, f"split these modules (limit {MAX_LINES} lines): {too_long}"


@pytest.mark.parametrize("rel", sorted(LONG_MODULES))
def test_every_long_module_exception_is_still_needed(rel: str) -> None:
    path = REPO / rel
    lines = len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
    assert lines > MAX_LINES, (
        f"{rel} is {lines} lines now: remove its entry from LONG_MODULES ({LONG_MODULES[rel]!r})"
    )


# ---------------------------------------------------------------------------------------
# The analysis itself sees what it must see
# ---------------------------------------------------------------------------------------


def test_graph_holds_module_and_function_level_imports(graph: nx.DiGraph) -> None:
    assert graph.has_edge("adoption_model.model", "adoption_model.network")  # module level
    assert graph.has_edge("adoption_model.network.real", "adoption_model.nations")
    # function level: the experiments runner imports run() inside a function
    assert graph.has_edge("adoption_model.experiments.runner", "adoption_model.runner")
    # importing a submodule runs its package's __init__
    assert graph.has_edge("adoption_model.commands.view", "adoption_model.viz")
    # faces do reach the core
    assert graph.has_edge("adoption_model.runner", "adoption_model.model")


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_catch_a_cycle_and_a_face_import(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "adoption_model/__init__.py": "",
            "adoption_model/model.py": "from adoption_model import agents\n",
            "adoption_model/agents.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from adoption_model.runner import run\n"
                "def f():\n    from . import model\n"
            ),
            "adoption_model/state.py": "def g():\n    import adoption_model.viz.app\n",
            "adoption_model/network/__init__.py": "from adoption_model.network.real import x\n",
            "adoption_model/network/real.py": "from adoption_model.network.graph import y\n",
            "adoption_model/network/graph.py": "y = 1\n",
            "adoption_model/runner.py": "import adoption_model.model\n",
            "viz/__init__.py": "",
            "viz/app.py": "from adoption_model.state import g\n",
            "viz/serve.py": "from adoption_model.commands.view import h\n",
            "adoption_model/commands/__init__.py": "",
            "adoption_model/commands/view.py": "def h():\n    from adoption_model.viz import app\n",
        },
    )
    g = import_graph(tmp_path)
    # a relative import inside a function closes the cycle model -> agents -> model
    assert core_cycles(g) == [["adoption_model.agents", "adoption_model.model"]]
    # a function-level import of viz.app reaches the face viz (and its __init__); the
    # TYPE_CHECKING import of the runner does not count
    assert faces_reached(g) == {
        "adoption_model.state": ["adoption_model.viz", "adoption_model.viz.app"]
    }
    # viz/serve.py and commands/view.py importing each other: a cycle of components
    assert any(
        {"adoption_model.commands", "adoption_model.viz"} <= set(c) for c in component_cycles(g)
    )
    # a package importing its submodules, which import their siblings, is no cycle
    assert g.has_edge("adoption_model.network", "adoption_model.network.real")
    assert not g.has_edge("adoption_model.network.real", "adoption_model.network")
