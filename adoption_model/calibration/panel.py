"""The historical nation-month panel shipped with the package.

``adoption_model/data/panel.parquet`` holds one row per nation (197) and month (2015-01 ..
2025-06): covariates as known at the time, the observed policy state at the start of the
month, the neighbours' states and the observed action. It is built by
``python tools/build_panel.py --source ../shared/data``; its provenance (input digests,
coding decisions, the classification of every event with its confidence tag, counts of
starts per year) is ``panel_provenance.json`` beside it. Coding decisions:
``adoption_model/data/README.md``, section "Historical panel".

The ``btc_*`` columns derive from Coin Metrics Community Data (CC BY-NC 4.0, non-commercial
use; attribution in the provenance file, key ``licences``).

Examples
--------
>>> p = load_panel()
>>> p.shape[0], p.iso3.nunique(), p.month.nunique()
(24822, 197, 126)
>>> sorted(p.action.unique())
['adopt', 'hold', 'mine', 'sell']
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from adoption_model.data import DATA_DIR
from adoption_model.errors import InputError

PANEL_PARQUET = DATA_DIR / "panel.parquet"
PANEL_PROVENANCE = DATA_DIR / "panel_provenance.json"


def load_panel(path: Path | str | None = None) -> pd.DataFrame:
    """Read the panel (default: the shipped one), sorted by nation then month."""
    if path is None:
        from adoption_model.data import verify

        path = verify(PANEL_PARQUET)  # the package's own panel: checked, as all data
    path = Path(path)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: unreadable panel ({exc}); rebuild with "
            "python tools/build_panel.py --source ../shared/data"
        ) from None
    return frame


def load_provenance(path: Path | str | None = None) -> dict[str, Any]:
    """The panel's provenance record (see ``tools/build_panel.py``)."""
    if path is None:
        from adoption_model.data import verify

        path = verify(PANEL_PROVENANCE)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable panel provenance ({exc})") from None


def find_shared_data(start: Path | None = None) -> Path | None:
    """The raw staged data: ``$ADOPTION_SHARED_DATA``, else ``shared/data`` in a parent.

    Returns None when neither exists (an installed package or CI without ../shared).
    """
    env = os.environ.get("ADOPTION_SHARED_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = (start or DATA_DIR).resolve()
    for parent in here.parents:
        cand = parent / "shared" / "data"
        if (cand / "sovereign_events_2013_2025_curated.csv").is_file():
            return cand
    return None
