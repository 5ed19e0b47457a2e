"""The why panel: one nation's attributes, its neighbours' states and its last decision.

The decision comes from :meth:`AdoptionModel.explain`: each utility term (in the plain-words
labels of :data:`adoption_model.submodels.decision.TERM_LABELS`) for adopting, mining and
selling, the probabilities of the four actions, and the action taken. Everything is written
so that a student can read it aloud.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np
import solara
from adoption_model.viz import STATE_COLOURS, STATE_MEANINGS, per_model, per_step
from adoption_model.viz.map import fmt_money
from adoption_model.viz.text import MARKDOWN_CLASSES, paragraph
from mesa.visualization.utils import update_counter

from adoption_model.state import STATE_NAMES
from adoption_model.submodels import decision as rules

OPTION_WORDS = {
    "hold": "keep its current policy",
    "adopt": "adopt a Bitcoin reserve",
    "mine": "start mining Bitcoin",
    "sell": "sell its Bitcoin",
}
OPTION_COLOURS = {
    "adopt": STATE_COLOURS["reserve"],
    "mine": STATE_COLOURS["mining"],
    "sell": STATE_COLOURS["sold out"],
    "hold": "#888888",
}


def nation_label(model: Any, i: int) -> str:
    """``Name (CODE)`` for real nations, ``node 12`` for synthetic ones."""
    t = model.nations_table
    code = str(model.ids[i])
    if "name" in t and model.network.kind == "real":
        return f"{t['name'].iloc[i]} ({code})"
    return f"node {code}"


def attributes(model: Any, i: int) -> list[tuple[str, str]]:
    """Key attributes of nation ``i`` as (label, value) pairs."""
    st = model.state
    state = STATE_NAMES[int(st.state_code()[i])]
    rows = [("Policy now", f"{state} ({STATE_MEANINGS[state]})")]
    if model.network.kind == "real":
        rows += [
            ("GDP", fmt_money(float(st.gdp_usd[i]))),
            ("Population", f"{st.population[i] / 1e6:,.1f} million"),
            ("Government debt", f"{st.debt_pct_gdp[i]:.0f}% of GDP"),
            ("FX reserves", fmt_money(float(st.reserves_usd[i]))),
            ("Spare energy", f"{st.energy_surplus_mw[i]:,.0f} MW"),
            ("Energy cost", f"${st.energy_cost_usd_mwh[i]:,.0f} per MWh"),
            ("IMF credit", f"{st.credit_pct_quota[i]:.0f}% of its quota"),
        ]
    rows += [
        ("Bitcoin held", f"{st.holdings[i]:,.0f} BTC"),
        ("Mining", f"{st.mining_mw[i]:,.0f} MW"),
        ("Neighbours that adopted", f"{st.peer[i]:.0%} (weighted by influence)"),
    ]
    return rows


def neighbours(model: Any, i: int, limit: int = 12) -> list[dict[str, Any]]:
    """The nations ``i`` listens to most, strongest first, with their states."""
    idx, w = model.network.in_neighbours(i)
    idx, w = np.asarray(idx), np.asarray(w, dtype=float)
    keep = idx != i
    idx, w = idx[keep], w[keep]
    order = np.argsort(-w, kind="stable")[:limit]
    codes = model.state.state_code()
    total = float(w.sum()) or 1.0
    return [
        {
            "code": str(model.ids[j]),
            "label": nation_label(model, int(j)),
            "state": STATE_NAMES[int(codes[j])],
            "share": float(w[k] / total),
        }
        for k, j in ((k, idx[k]) for k in order)
    ]


def explain_rows(ex: Any) -> dict[str, dict[str, Any]]:
    """The explain table as plain dicts, row by row (reading a DataFrame cell by cell is slow)."""
    return ex.to_dict(orient="index")


def _terms(table: dict[str, dict[str, Any]]) -> list[str]:
    return [t for t in table if t not in ("utility", "probability")]


def decision_story(model: Any, code: str) -> tuple[str, Any]:
    """The last decision in plain words, and the explain table it comes from."""
    ex = model.explain(code)
    a = ex.attrs
    name = a["name"] if model.network.kind == "real" else f"Node {a['nation']}"
    table = explain_rows(ex)
    probs = {k: float(table["probability"][k]) for k in rules.ACTIONS}
    util = {o: float(table["utility"][o]) for o in rules.OPTIONS}
    best = max(rules.OPTIONS, key=lambda o: util[o])
    push = {t: float(table[t][best]) for t in _terms(table)}
    sized = {t: abs(v) for t, v in push.items() if not np.isnan(v)}
    top = max(sized, key=lambda t: sized[t]) if sized else None  # the first of the largest
    parts = []
    if a["step"] == 0:
        parts.append(f"{name} has not decided yet: press Step to run the first month.")
    elif a["reviewed"]:
        parts.append(
            f"In {a['date']} {name} reviewed its Bitcoin policy and chose to "
            f"{OPTION_WORDS[a['action']]} (a {probs[a['action']]:.0%} chance)."
        )
    else:
        parts.append(
            f"In {a['date']} {name} did not review its policy this month, so it kept it. "
            f"Had it reviewed, the chances were: "
            + ", ".join(f"{OPTION_WORDS[k]} {probs[k]:.0%}" for k in rules.ACTIONS)
            + "."
        )
    if a["rule"] == "logit" and top is not None and a["step"] > 0:
        v = float(push[top])
        lead = (
            f"Its most attractive change was to {OPTION_WORDS[best]}"
            if util[best] > 0
            else f"Every change looked worse than keeping its policy; the least bad was to "
            f"{OPTION_WORDS[best]}"
        )
        parts.append(
            f"{lead}; the biggest {'push towards' if v > 0 else 'brake on'} it was "
            f"\u201c{rules.TERM_LABELS.get(str(top), str(top))}\u201d ({v:+.2f})."
        )
    elif a["rule"] != "logit":
        parts.append(
            f"Under the {a['rule']} rule the breakdown shows the adoption probability; "
            "the utility terms belong to the logit rule."
        )
    return " ".join(parts), ex


def _bar(value: float, scale: float, colour: str) -> str:
    width = 0 if scale <= 0 else min(50.0, abs(value) / scale * 50.0)
    left = 50.0 if value >= 0 else 50.0 - width
    return (
        '<div style="position:relative;height:10px;background:#f3f3f3;width:100%;">'
        '<div style="position:absolute;left:50%;top:0;bottom:0;width:1px;background:#999;"></div>'
        f'<div style="position:absolute;left:{left:.1f}%;width:{width:.1f}%;top:1px;bottom:1px;'
        f'background:{colour};"></div></div>'
    )


def breakdown_html(ex: Any) -> str:
    """The utility terms as a bar chart (one column per option) and the probabilities."""
    table = explain_rows(ex)
    opts = list(rules.OPTIONS)
    used = [t for t in _terms(table) if any(abs(float(table[t][o])) > 1e-12 for o in opts)]
    shown = np.array([[float(table[t][o]) for o in opts] for t in [*used, "utility"]])
    scale = float(np.abs(shown).max() or 1)
    head = "".join(f"<th style='text-align:left'>{o}</th>" for o in opts)
    rows = []
    for term in [*used, "utility"]:
        row = table[term]
        label = "total (utility)" if term == "utility" else html.escape(str(row["meaning"]))
        cells = "".join(
            f"<td style='width:22%' title='{float(row[o]):+.3f}'>"
            f"{_bar(float(row[o]), scale, OPTION_COLOURS[o])}"
            f"<span style='font-size:10px'>{float(row[o]):+.2f}</span></td>"
            for o in opts
        )
        weight = "font-weight:600;" if term == "utility" else ""
        rows.append(
            f"<tr class='am-term' data-term='{term}'><td style='{weight}'>{label}</td>{cells}</tr>"
        )
    probs = "".join(
        f"<div class='am-prob' data-action='{a}' style='display:flex;align-items:center;gap:6px;'>"
        f"<span style='width:48px'>{a}</span>"
        "<div style='flex:1;background:#f3f3f3;height:10px'>"
        f"<div style='width:{100 * float(table['probability'][a]):.1f}%;"
        f"height:10px;background:{OPTION_COLOURS[a]}'></div></div>"
        "<span style='width:44px;text-align:right'>"
        f"{float(table['probability'][a]):.0%}</span></div>"
        for a in rules.ACTIONS
    )
    return (
        "<div class='am-breakdown' style='font-size:12px'>"
        "<div style='font-weight:600;margin:4px 0'>"
        "What pulled each option up (right) or down (left)</div>"
        "<table style='width:100%;border-collapse:collapse'>"
        f"<tr><th></th>{head}</tr>{''.join(rows)}</table>"
        "<div style='font-weight:600;margin:6px 0 2px'>Chances if it reviews its policy</div>"
        f"{probs}</div>"
    )


def choices(model: Any) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Label of every nation by code, the sorted labels, and code by label (once per model)."""

    def build() -> tuple[dict[str, str], list[str], dict[str, str]]:
        labels = {str(c): nation_label(model, i) for i, c in enumerate(model.ids)}
        return labels, sorted(labels.values()), {v: k for k, v in labels.items()}

    return per_model(model, "why_choices", build)


def panel_html(model: Any, code: str) -> tuple[str, str, str, str]:
    """The story, breakdown, attributes and neighbours of ``code`` as HTML.

    Built once per step and nation (and energy-cost lever, which the attributes show).
    """

    def build() -> tuple[str, str, str, str]:
        i = model.index_of[code]
        story, ex = decision_story(model, code)
        rows = "".join(
            f"<tr><td style='color:#555;padding-right:8px'>{k}</td><td>{html.escape(v)}</td></tr>"
            for k, v in attributes(model, i)
        )
        nb = neighbours(model, i)
        chips = "".join(
            f"<span class='am-neighbour' data-state='{n['state']}' "
            "style='display:inline-block;margin:2px;padding:1px 6px;"
            f"border-radius:8px;font-size:11px;background:{STATE_COLOURS[n['state']]};"
            f"color:{'#000' if n['state'] == 'none' else '#fff'}' "
            f"title='{n['share']:.0%} of its influence'>"
            f"{html.escape(n['label'])}: {n['state']}</span>"
            for n in nb
        )
        return (
            paragraph(story),
            breakdown_html(ex),
            f"<table class='am-attributes' style='font-size:12px'>{rows}</table>",
            "<div style='font-size:12px;font-weight:600'>Who it listens to most "
            f"({len(nb)} strongest)</div>{chips or 'nobody'}",
        )

    energy = float(getattr(model, "energy_factor", 1.0))
    return per_step(model, "why_panel", build, code, energy)


@solara.component
def WhyPanel(model: Any, selected: str | None, on_select: Callable[[str], None]) -> None:
    """Pick a nation (select box, map or network click) and see why it did what it did."""
    update_counter.get()  # re-render on every step (Mesa's force_update)
    labels, options, back = choices(model)
    code = selected if selected in labels else None
    with solara.Column(gap="6px", classes=["am-why"], style={"overflow-y": "auto"}):
        solara.Markdown("**Why? Pick a country** (or click one on the map or network)")
        solara.Select(
            label="Country",
            value=labels.get(code) if code else None,
            values=options,
            on_value=lambda v: on_select(back[v]) if v in back else None,
        )
        if code is None:
            solara.Text("No country chosen yet.")
            return
        story, breakdown, table, listens = panel_html(model, code)
        solara.HTML(
            tag="div", unsafe_innerHTML=story, style="font-size: 14px", classes=MARKDOWN_CLASSES
        )
        solara.HTML(tag="div", unsafe_innerHTML=breakdown)
        solara.HTML(tag="div", unsafe_innerHTML=table)
        solara.HTML(tag="div", unsafe_innerHTML=listens)
