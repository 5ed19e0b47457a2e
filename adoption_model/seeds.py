"""Seeds for replications: one experiment seed, many independent run seeds.

Every run's seed derives from an experiment (or comparison) seed with numpy's
``SeedSequence``; replicate ``r`` gets the same seed whatever the design point or scenario,
so that differences between points or scenarios are paired (common random numbers).

References
----------
O'Neill, M. E. (2014), "PCG: a family of simple fast space-efficient statistically good
algorithms for random number generation" (the SeedSequence design numpy follows).
Law, A. M. (2015), Simulation Modeling and Analysis, 5th ed., McGraw-Hill, section 11.2
(common random numbers).
"""

from __future__ import annotations

import numpy as np


def replicate_seeds(base_seed: int, replications: int) -> list[int]:
    """The run seed of each replicate: ``SeedSequence(base_seed).spawn(replications)``.

    Each child sequence yields one 63-bit integer, usable as ``AdoptionModel(seed=...)``.

    Examples
    --------
    >>> replicate_seeds(42, 3) == replicate_seeds(42, 3)
    True
    >>> len(set(replicate_seeds(42, 100)))
    100
    """
    children = np.random.SeedSequence(int(base_seed)).spawn(int(replications))
    words = (c.generate_state(2, np.uint32).view(np.uint64)[0] for c in children)
    return [int(w >> np.uint64(1)) for w in words]
