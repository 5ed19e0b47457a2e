"""Each rule, configured so, reproduces its classic diffusion model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from adoption_model.model import AdoptionModel
from adoption_model.runner import run


def test_granovetter_uniform_thresholds_full_cascade() -> None:
    """Granovetter (1978): thresholds 0, 1, ..., 99 (of 100) riot to the last person."""
    n = 100
    thresholds = [k / n for k in range(n)]
    over = {
        "rule.kind": "threshold",
        "network.kind": "complete",
        "network.n": n,
        "rule.thresholds": thresholds,
        "steps": 200,
    }
    frame = run(overrides=over, seed=1).model_frame
    # one more person joins every step: the instigator, then each next threshold in turn
    assert frame["n_adopters"].tolist() == list(range(0, n + 1))


def test_granovetter_one_person_perturbation_stops_the_riot() -> None:
    """Granovetter's perturbation: replace the person with threshold 1 by one with 2."""
    n = 100
    thresholds = [k / n for k in range(n)]
    thresholds[1] = 2 / n
    over = {
        "rule.kind": "threshold",
        "network.kind": "complete",
        "network.n": n,
        "rule.thresholds": thresholds,
        "steps": 200,
    }
    result = run(overrides=over, seed=1)
    assert result.model_frame["n_adopters"].iloc[-1] == 1
    assert result.summary["stopped_early"]


def test_threshold_is_irreversible_and_deterministic_given_seeds() -> None:
    over = {
        "rule.kind": "threshold",
        "network.kind": "erdos_renyi",
        "network.n": 2000,
        "network.mean_degree": 3.0,
        "rule.phi": 0.18,
        "initial.adopters": [0, 1, 2],
        "steps": 100,
    }
    a = run(overrides=over, seed=3).model_frame
    assert a["n_adopters"].is_monotonic_increasing
    assert (a["btc_sold"] == 0).all() and (a["n_miners"] == 0).all()


def _bass_recursion(n: int, p: float, q: float, steps: int, n0: float = 0.0) -> np.ndarray:
    out = [n0]
    for _ in range(steps):
        nt = out[-1]
        out.append(nt + (n - nt) * (p + q * nt / n))
    return np.asarray(out)


def test_bass_on_complete_graph_follows_discrete_recursion() -> None:
    """Bass (1969): E[N_{t+1}] = N_t + (M - N_t)(p + q N_t / M) on the complete graph."""
    n, p, q, steps = 4000, 0.03, 0.38, 25
    over = {
        "rule.kind": "bass",
        "network.kind": "complete",
        "network.n": n,
        "rule.p": p,
        "rule.q": q,
        "steps": steps,
    }
    runs = [run(overrides=over, seed=s).model_frame["n_adopters"].to_numpy() for s in range(20)]
    padded = np.array([np.pad(r, (0, steps + 1 - len(r)), mode="edge") for r in runs])
    mean = padded.mean(axis=0)
    expected = _bass_recursion(n, p, q, steps)
    # the stochastic mean tracks the recursion within 1.5% of the market at every step
    assert np.max(np.abs(mean - expected)) / n < 0.015
    # and the S-curve is really there: slow start (about p of the market), fast middle
    assert abs(mean[1] / n - p) < 0.005
    assert mean[10] / n > 0.5


def test_bass_pure_innovation_is_binomial() -> None:
    """With q = 0 each non-adopter adopts with probability p each step, independently."""
    n, p = 20000, 0.05
    over = {
        "rule.kind": "bass",
        "network.kind": "complete",
        "network.n": n,
        "rule.p": p,
        "rule.q": 0.0,
        "steps": 1,
    }
    k = run(overrides=over, seed=9).model_frame["n_adopters"].iloc[-1]
    sd = np.sqrt(n * p * (1 - p))
    assert abs(k - n * p) < 4 * sd


@pytest.mark.slow
def test_cascade_size_on_erdos_renyi_matches_giant_component() -> None:
    """Independent cascade = bond percolation with probability T (Kempe et al. 2003).

    On an Erdős–Rényi graph with mean degree c, a single seed starts a large outbreak with
    probability S and then reaches a fraction S of the nodes, where S = 1 - exp(-c T S)
    (Newman 2002, "Spread of epidemic disease on networks", Phys. Rev. E 66: 016128).
    """
    n, c, t = 20000, 4.0, 0.5
    s = brentq(lambda x: x - (1 - np.exp(-c * t * x)), 1e-6, 1.0)
    sizes = []
    for seed in range(60):
        over = {
            "rule.kind": "cascade",
            "network.kind": "erdos_renyi",
            "network.n": n,
            "network.mean_degree": c,
            "rule.transmission": t,
            "initial.seed_count": 1,
            "steps": 500,
        }
        sizes.append(run(overrides=over, seed=seed).model_frame["n_adopters"].iloc[-1] / n)
    sizes = np.asarray(sizes)
    large = sizes[sizes > 0.05]
    assert large.mean() == pytest.approx(s, abs=0.02)
    share_large = len(large) / len(sizes)
    assert abs(share_large - s) < 3 * np.sqrt(s * (1 - s) / len(sizes))
    assert (sizes[sizes <= 0.05] < 0.01).all()  # small outbreaks stay small


def test_cascade_each_adopter_gets_one_chance() -> None:
    """With transmission 1 the cascade is a breadth-first search: one ring of neighbours a step."""
    over = {
        "rule.kind": "cascade",
        "network.kind": "ring",
        "network.n": 101,
        "network.k": 2,
        "rule.transmission": 1.0,
        "initial.adopters": [0],
        "steps": 100,
    }
    frame = run(overrides=over, seed=0).model_frame
    assert frame["n_adopters"].tolist()[:4] == [1, 3, 5, 7]
    assert frame["n_adopters"].iloc[-1] == 101
    with_zero = run(overrides={**over, "rule.transmission": 0.0}, seed=0).model_frame
    assert with_zero["n_adopters"].iloc[-1] == 1


def test_logit_approaches_best_response_with_high_intensity() -> None:
    model = AdoptionModel(
        seed=2,
        overrides={"rule.choice_intensity": 60.0, "rule.review_probability": 1.0, "steps": 1},
    )
    st = model.state
    avail = np.column_stack(
        [
            np.ones(model.n, bool),
            ~st.reserve & ~st.selling,
            ~st.mining & (st.energy_surplus_mw > 0),
            (st.holdings > 0) & ~st.no_sell & ~st.selling,
        ]
    )  # availability on the start-of-step state (nobody is frozen at the start)
    model.step()
    util = np.where(avail, np.column_stack([np.zeros(model.n), model.last_util]), -np.inf)
    probs = model.last_probs
    # where the best available option beats the next by a margin, it is (almost) certain
    best = np.argmax(util, axis=1)
    clear = np.sort(util, axis=1)
    gap = clear[:, -1] - clear[:, -2]
    sel = gap > 0.2
    assert sel.sum() > 50
    assert (probs[sel, best[sel]] > 0.99).all()
