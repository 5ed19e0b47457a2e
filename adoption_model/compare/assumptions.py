"""The assumptions side by side: every scenario parameter that differs, with its reasons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from adoption_model.scenario import Scenario


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested dict; lists of scalars stay values, lists of tables are JSON."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    out[prefix.rstrip(".")] = data
    return out


def describe_event(ev: dict[str, Any]) -> str:
    """One readable line for a scenario event (``2026-01 buy USA: btc=1000000, months=60``)."""
    who = [ev["nation"]] if "nation" in ev else []
    who += list(ev.get("nations", []))
    skip = {"date", "kind", "name", "nation", "nations"}
    params = ", ".join(f"{k}={_short(v)}" for k, v in ev.items() if k not in skip)
    target = f" {' '.join(str(w) for w in who)}" if who else ""
    return f"{ev['date']} {ev['kind']}{target}" + (f": {params}" if params else "")


def _short(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def assumptions_table(scenarios: Sequence[Scenario], labels: Sequence[str]) -> pd.DataFrame:
    """Every parameter whose value differs between the scenarios, side by side.

    Values come from ``Scenario.to_dict()`` flattened to dotted keys (so defaults count);
    events are listed one per line. ``notes`` joins each scenario's ``[assumptions]`` entry
    for that key (``events[i]`` entries go with ``events``).
    """
    flat = []
    for sc in scenarios:
        d = sc.to_dict()
        for k in ("name", "description", "assumptions", "seed"):
            d.pop(k, None)
        events = d.pop("events", [])
        f = {k: _value_text(v) for k, v in flatten(d).items()}
        f["events"] = "; ".join(describe_event(e) for e in events) or "(none)"
        flat.append(f)
    keys = sorted(set().union(*flat), key=lambda k: (k == "events", k))
    rows = []
    for key in keys:
        values = [f.get(key, "") for f in flat]
        if len(set(values)) <= 1:
            continue
        notes = []
        for sc, label in zip(scenarios, labels, strict=True):
            for akey, text in sc.assumptions.items():
                if akey == key or (key == "events" and akey.startswith("events")):
                    notes.append(
                        f"{label} ({akey}): {text}" if key == "events" else f"{label}: {text}"
                    )
        rows.append(
            {"parameter": key, **dict(zip(labels, values, strict=True)), "notes": " | ".join(notes)}
        )
    columns = ["parameter", *labels, "notes"]
    return pd.DataFrame(rows, columns=columns)


def _value_text(v: Any) -> str:
    if isinstance(v, list):
        return json.dumps(v)
    return _short(v)
