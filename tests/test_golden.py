"""Golden outputs: every bundled scenario and the classic rules reproduce their stored digests.

The digests in ``tests/golden/digests.json`` pin the model's exact outputs (model frame,
nation frame, first adoptions, summary) for two seeds. A restructuring must reproduce them
bit for bit with both engines; a change of behaviour on purpose updates the file in the
same commit (``python -m tests.golden.cases --update``) and says why.
"""

from __future__ import annotations

import json

import pytest

from tests.golden.cases import GOLDEN_FILE, SEEDS, cases, digest_run

GOLDEN = json.loads(GOLDEN_FILE.read_text())
CASES = cases()


def test_golden_file_covers_every_case() -> None:
    expected = {f"{cid}@{seed}" for cid in CASES for seed in SEEDS}
    assert set(GOLDEN) == expected, "run python -m tests.golden.cases --update"


@pytest.mark.parametrize("cid", sorted(CASES))
@pytest.mark.parametrize("seed", SEEDS)
def test_vectorized_matches_golden(cid: str, seed: int) -> None:
    name, over = CASES[cid]
    assert digest_run(name, over, seed, "vectorized") == GOLDEN[f"{cid}@{seed}"]


@pytest.mark.slow
@pytest.mark.parametrize("cid", sorted(CASES))
def test_agents_engine_matches_golden(cid: str) -> None:
    name, over = CASES[cid]
    seed = SEEDS[0]
    assert digest_run(name, over, seed, "agents") == GOLDEN[f"{cid}@{seed}"]
