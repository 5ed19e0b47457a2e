"""Every Mesa-specific call of the simulation core, in one place.

The model is written against Mesa 3.3.1 (the newest release for Python 3.11). Mesa keeps
moving: 3.4 and 3.5 deprecate ``Model(seed=...)`` for ``Model(rng=...)``, and 4.0 removes
``mesa.batch_run``, ``Model.steps`` and ``mesa.space``. The core touches Mesa only through
this module, so moving to a newer Mesa means editing the functions below (and the
``mesa`` bound in ``pyproject.toml``), not the model:

========================  ==================================  ===============================
what                      Mesa 3.3                            Mesa 3.5 / 4.0
========================  ==================================  ===============================
seeding                   ``Model.__init__(seed=seed)``       ``Model.__init__(rng=seed)``
                          (:func:`init_model`)                (3.5 warns on ``seed=``)
step counter              ``Model.steps``, incremented by     4.0: gone; keep our own counter
                          Mesa before each ``step()``         in :class:`Model` (see below)
                          (:func:`steps`)
``batch_run``             ``mesa.batch_run`` reads            4.0: gone; the experiments
                          ``model.datacollector``             runner replaces it
                          (:data:`HAS_BATCH_RUN`)
model registry leak       ``Agent._ids`` (a private           fixed upstream; :func:`forget`
                          ``WeakKeyDictionary`` that keeps    becomes a no-op (it already is
                          every model reachable, Mesa         when the attribute is absent)
                          issue 3179): :func:`forget`
========================  ==================================  ===============================

The classroom view (``adoption_model.viz``) uses ``mesa.visualization`` (``SolaraViz``,
``update_counter``) directly: that is the ``[viz]`` face, pinned with Mesa.

Examples
--------
>>> MESA_VERSION >= (3, 3)
True
"""

from __future__ import annotations

from typing import Any

import mesa

#: The installed Mesa as a tuple of ints, e.g. ``(3, 3, 1)``.
MESA_VERSION: tuple[int, ...] = tuple(
    int(p) for p in mesa.__version__.split("+")[0].split(".")[:3] if p.isdigit()
)

#: Base classes of the model and its agents.
Model = mesa.Model
Agent = mesa.Agent

#: Whether ``mesa.batch_run`` exists (removed in Mesa 4.0).
HAS_BATCH_RUN: bool = hasattr(mesa, "batch_run")


def init_model(model: mesa.Model, seed: int) -> None:
    """Initialise the :class:`mesa.Model` part of ``model`` with its seed.

    Mesa builds ``model.rng`` (a numpy Generator, the model's one random source) from it.
    Mesa >= 3.4 takes ``rng=`` instead of ``seed=``; change this call when moving.
    """
    mesa.Model.__init__(model, seed=seed)


def steps(model: mesa.Model) -> int:
    """The number of ``step()`` calls so far (Mesa 3 counts them in ``model.steps``)."""
    return int(model.steps)


def forget(model: mesa.Model) -> None:
    """Drop Mesa's module-level reference to ``model`` once all its agents exist.

    Mesa 3.3.1 keeps every model ever built reachable through the private class attribute
    ``Agent._ids`` (projectmesa/mesa issue 3179), so a sweep of thousands of runs in one
    process would never free them. A no-op on a Mesa without that attribute.
    """
    ids: Any = getattr(mesa.Agent, "_ids", None)
    if ids is not None:
        ids.pop(model, None)


def batch_run(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """``mesa.batch_run``; a one-line error on a Mesa without it."""
    if not HAS_BATCH_RUN:
        from adoption_model.errors import InputError

        raise InputError(
            f"mesa {mesa.__version__} has no batch_run; use adoption-model sweep "
            "(adoption_model.experiments.run_experiment) instead"
        )
    return mesa.batch_run(*args, **kwargs)
