"""adoption-model: an agent-based model of sovereign Bitcoin adoption.

The public API is re-exported here lazily so that ``import adoption_model`` stays cheap
and the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "InputError": "adoption_model.errors",
    "load_nations": "adoption_model.nations",
    "nation_provenance": "adoption_model.nations",
    "build_influence_graph": "adoption_model.network",
    "InfluenceNetwork": "adoption_model.network",
    "load_scenario": "adoption_model.scenario",
    "Scenario": "adoption_model.scenario",
    "AdoptionModel": "adoption_model.model",
    "Nation": "adoption_model.agents",
    "run": "adoption_model.runner",
    "RunResult": "adoption_model.runner",
    "compare": "adoption_model.compare",
}

__all__ = [  # literal, so that tools read it; tests/test_packaging.py checks it is _EXPORTS
    "__version__",
    "InputError",
    "load_nations",
    "nation_provenance",
    "build_influence_graph",
    "InfluenceNetwork",
    "load_scenario",
    "Scenario",
    "AdoptionModel",
    "Nation",
    "run",
    "RunResult",
    "compare",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads lazily
    from adoption_model.agents import Nation
    from adoption_model.compare import compare
    from adoption_model.errors import InputError
    from adoption_model.model import AdoptionModel
    from adoption_model.nations import load_nations, nation_provenance
    from adoption_model.network import InfluenceNetwork, build_influence_graph
    from adoption_model.runner import RunResult, run
    from adoption_model.scenario import Scenario, load_scenario


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adoption_model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
