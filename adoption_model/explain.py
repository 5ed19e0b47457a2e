"""Explanations: a nation's latest decision, term by term (docs/ODD.md section 4, Observation).

Under the logit rule every utility term, utility and probability of the latest decision is
kept by the rule object (:class:`~adoption_model.submodels.decision.Rule`); under the
classic rules the only input is the peer signal and the only probability is adoption's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adoption_model.state import STATE_NAMES
from adoption_model.submodels.decision import ACTIONS, OPTIONS, TERM_LABELS, TERMS

if TYPE_CHECKING:
    from adoption_model.model import AdoptionModel


def classic_probabilities(model: AdoptionModel) -> np.ndarray:
    """Probabilities of hold/adopt/mine/sell in the latest classic-rule decision, (n, 4)."""
    p = model.rule.adopt_probability(model.live.rule, model.state, model.signals.adopted)
    probs = np.zeros((model.n, 4))
    probs[:, 1] = p
    probs[:, 0] = 1.0 - p
    return probs


def explain(model: AdoptionModel, nation: str | int) -> pd.DataFrame:
    """The latest decision of one nation, term by term.

    Returns a small table: one row per utility term (with a plain-words label), then the
    rows ``utility`` and ``probability``; one column per option (hold, adopt, mine, sell).
    ``.attrs`` carries the nation, step, date, whether it reviewed its policy, the chosen
    action and its policy state.
    """
    i = model.resolve_nation(nation)
    rule, st, classic = model.rule, model.state, model.rule.classic
    terms = rule.terms[i]
    probs = classic_probabilities(model)[i] if classic else rule.probs[i]
    if classic:
        terms = np.zeros_like(terms)
        terms[0, 3] = st.peer[i]
    rows = []
    for t, term in enumerate(TERMS):
        rows.append(
            {
                "term": term,
                "meaning": TERM_LABELS[term],
                "hold": 0.0,
                **{opt: float(terms[j, t]) for j, opt in enumerate(OPTIONS)},
            }
        )
    rows.append(
        {
            "term": "utility",
            "meaning": "sum of the terms",
            "hold": 0.0,
            **{opt: float(rule.util[i, j]) for j, opt in enumerate(OPTIONS)},
        }
    )
    rows.append(
        {
            "term": "probability",
            "meaning": "chance of each option if reviewing",
            **{a: float(probs[j]) for j, a in enumerate(ACTIONS)},
        }
    )
    df = pd.DataFrame(rows).set_index("term")
    df.attrs.update(
        nation=str(model.ids[i]),
        name=str(model.nations_table.get("name", pd.Series(model.ids)).iloc[i]),
        step=int(model.steps),
        date=model.date,
        rule=model.live.rule.kind,
        reviewed=bool(not model.signals.adopted[i] if classic else st.reviewed[i]),
        action=ACTIONS[int(st.action[i])],
        state=STATE_NAMES[int(st.state_code()[i])],
        peer=float(st.peer[i]),
    )
    return df
