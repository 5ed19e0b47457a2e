"""Observation: the per-step recorder, the model and nation frames (docs/ODD.md section 8).

:class:`Recorder` writes every step into preallocated arrays (no per-step Python loop over
nations or columns), so recording costs little next to the step itself. It builds the model
frame (one row per step, :data:`MODEL_COLUMNS`) and the nation frame (one row per nation
per step, with the decision breakdown), and :class:`Collected` shows the model frame as a
``mesa.DataCollector`` would hold it, for ``mesa.batch_run``.

Under the classic rules adoption is the only process: the nation frame keeps only state,
signal, action and adoption probability per step, and holdings, reserves and mining are
kept once (they do not move unless a dated ``sell`` event moves them).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from adoption_model.errors import InputError, did_you_mean
from adoption_model.state import STATE_NAMES
from adoption_model.submodels.decision import ACTIONS, OPTIONS, TERMS
from adoption_model.world import month_name

if TYPE_CHECKING:
    from adoption_model.model import AdoptionModel

#: Columns of the per-step model frame, in order.
MODEL_COLUMNS = (
    "step",
    "date",
    "n_adopters",
    "adoption_share",
    "gdp_weighted_share",
    "population_weighted_share",
    "n_reserve",
    "n_miners",
    "mining_mw",
    "n_sold_out",
    "n_new_adopters",
    "btc_sovereign",
    "btc_bought",
    "btc_mined",
    "btc_sold",
    "supply_btc",
    "supply_share",
    "btc_price",
    "subsidy_btc",
    "network_hashrate_ehs",
    "imf_stance",
    "imf_detections",
    "imf_withheld_usd",
    "imf_programmes",
    "imf_programme_starts",
    "imf_programme_ends",
    "fx_reserves_usd",
)

_INT_COLUMNS = (
    "step",
    "n_adopters",
    "n_reserve",
    "n_miners",
    "n_sold_out",
    "n_new_adopters",
    "imf_detections",
    "imf_programmes",
    "imf_programme_starts",
    "imf_programme_ends",
)


class Recorder:
    """Preallocated per-step records of one model (grown if stepped past the horizon)."""

    def __init__(self, n: int, steps: int, keep_nations: bool, classic: bool) -> None:
        length = steps + 1
        self.n, self.keep_nations, self.classic = n, keep_nations, classic
        self.rows = 0
        self.model = {c: np.zeros(length) for c in MODEL_COLUMNS if c != "date"}
        self.months: list[int] = []
        self.nations: dict[str, np.ndarray] = {}
        self.static_rows: dict[str, np.ndarray] = {}
        if keep_nations and classic:
            fields = [("state", np.int8), ("peer", float), ("action", np.int8), ("p_adopt", float)]
        elif keep_nations:
            fields = [
                ("state", np.int8),
                ("holdings", float),
                ("reserves_usd", float),
                ("mining_mw", float),
                ("peer", float),
                ("action", np.int8),
                ("reviewed", bool),
                ("bought", float),
                ("mined", float),
                ("sold", float),
            ]
        else:
            fields = []
        for name, dtype in fields:
            self.nations[name] = np.zeros((length, n), dtype=dtype)
        if keep_nations and not classic:
            self.nations["probs"] = np.zeros((length, n, 4))
            self.nations["util"] = np.zeros((length, n, 3))
            self.nations["terms"] = np.zeros((length, n, 3, len(TERMS)))

    def capacity(self) -> int:
        """The last step the buffers can hold."""
        return len(self.model["step"]) - 1

    def grow(self) -> None:
        """Allow stepping past ``scenario.steps`` (interactive use): double the buffers."""
        for rec in (self.model, self.nations):
            for key, arr in rec.items():
                rec[key] = np.concatenate([arr, np.zeros_like(arr)])

    def record(
        self,
        m: AdoptionModel,
        adopted: np.ndarray | None = None,
        new: np.ndarray | None = None,
        money_moved: bool = True,
    ) -> int:
        """Record the model's step; ``new=None`` after step 0 means nobody adopted.

        ``money_moved`` (classic rules) says whether an event moved holdings or reserves
        this step. Returns the number of adopters.
        """
        st, w = m.state, m.world
        r, i = self.model, self.rows
        if adopted is None:
            adopted = st.reserve | st.mining
        n_ad = float(np.count_nonzero(adopted))
        r["step"][i] = m.steps
        self.months.append(w.month)
        r["n_adopters"][i] = n_ad
        r["adoption_share"][i] = n_ad / self.n
        # boolean selection then sum: no BLAS thread start-up, no slow where= reduction
        r["gdp_weighted_share"][i] = st.gdp_usd[adopted].sum() / m.gdp_total
        r["population_weighted_share"][i] = st.population[adopted].sum() / m.population_total
        r["n_reserve"][i] = np.count_nonzero(st.reserve)
        r["n_miners"][i] = np.count_nonzero(st.mining)
        if new is not None:
            r["n_new_adopters"][i] = np.count_nonzero(new)
        else:
            r["n_new_adopters"][i] = n_ad if i == 0 else 0.0
        r["supply_btc"][i] = w.supply
        r["btc_price"][i] = w.price
        r["subsidy_btc"][i] = w.subsidy
        r["network_hashrate_ehs"][i] = w.network_hashrate_th / 1e6
        r["imf_stance"][i] = w.imf_stance
        if self.classic and i > 0 and not money_moved:
            # adoption is the only process: holdings, reserves and mining do not move
            for key in ("mining_mw", "n_sold_out", "btc_sovereign", "fx_reserves_usd"):
                r[key][i] = r[key][i - 1]
            r["supply_share"][i] = r["btc_sovereign"][i] / w.supply
        else:
            total = st.holdings.sum()
            r["mining_mw"][i] = st.mining_mw[st.mining].sum()
            r["n_sold_out"][i] = np.count_nonzero(st.sold_out & ~adopted)
            r["btc_sovereign"][i] = total
            r["btc_bought"][i] = st.bought.sum()
            r["btc_mined"][i] = st.mined.sum()
            r["btc_sold"][i] = st.sold.sum()
            r["supply_share"][i] = total / w.supply
            r["imf_detections"][i] = np.count_nonzero(st.detected)
            r["imf_withheld_usd"][i] = st.imf_withheld.sum()
            r["imf_programme_starts"][i] = np.count_nonzero(st.imf_started)
            r["imf_programme_ends"][i] = np.count_nonzero(st.imf_ended)
        if not self.classic:
            r["imf_programmes"][i] = np.count_nonzero(st.programme)
            r["fx_reserves_usd"][i] = st.reserves_usd.sum()
        if self.keep_nations:
            self._record_nations(m, i)
        self.rows += 1
        return int(n_ad)

    def _record_nations(self, m: AdoptionModel, i: int) -> None:
        st, nr = m.state, self.nations
        if self.classic:
            nr["state"][i] = st.reserve.view(np.int8) + 2 * st.mining.view(np.int8)
            nr["peer"][i] = st.peer
            nr["action"][i] = st.action
            nr["p_adopt"][i] = m.rule.adopt_probability(m.live.rule, st, m.signals.adopted)
            if i == 0:
                self.static_rows = {
                    "holdings": st.holdings.copy(),
                    "reserves_usd": st.reserves_usd.copy(),
                    "mining_mw": np.where(st.mining, st.mining_mw, 0.0),
                }
            return
        nr["state"][i] = st.state_code()
        nr["holdings"][i] = st.holdings
        nr["reserves_usd"][i] = st.reserves_usd
        nr["mining_mw"][i] = np.where(st.mining, st.mining_mw, 0.0)
        nr["peer"][i] = st.peer
        nr["action"][i] = st.action
        nr["reviewed"][i] = st.reviewed
        nr["bought"][i] = st.bought
        nr["mined"][i] = st.mined
        nr["sold"][i] = st.sold
        nr["probs"][i] = m.rule.probs
        nr["util"][i] = m.rule.util
        nr["terms"][i] = m.rule.terms

    # ---------------------------------------------------------------- frames
    def dates(self) -> list[str]:
        """``YYYY-MM`` of every recorded step."""
        return [month_name(m) for m in self.months]

    def model_frame(self) -> pd.DataFrame:
        """One row per recorded step (step 0 included)."""
        k = self.rows
        data: dict[str, Any] = {}
        for c in MODEL_COLUMNS:
            data[c] = self.dates()[:k] if c == "date" else self.model[c][:k]
        df = pd.DataFrame(data)
        df[list(_INT_COLUMNS)] = df[list(_INT_COLUMNS)].astype(np.int64)
        return df

    def series(self, column: str) -> np.ndarray:
        """One model-frame column as a read-only array, without building a DataFrame."""
        if column not in self.model:
            valid = [c for c in MODEL_COLUMNS if c != "date"]
            raise InputError(f"{column!r} is not a model-frame column{did_you_mean(column, valid)}")
        view = self.model[column][: self.rows]
        view.flags.writeable = False
        return view

    def nation_frame(self, ids: list[Any]) -> pd.DataFrame | None:
        """One row per nation per recorded step, with the decision breakdown; None if off."""
        if not self.keep_nations:
            return None
        k, n, nr = self.rows, self.n, self.nations
        steps = self.model["step"][:k].astype(np.int64)
        data: dict[str, Any] = {
            "step": np.repeat(steps, n),
            "date": np.repeat(np.asarray(self.dates()[:k]), n),
            "nation": np.tile(np.asarray([str(x) for x in ids]), k),
        }
        data["state"] = pd.Categorical.from_codes(
            nr["state"][:k].ravel(), categories=list(STATE_NAMES)
        )
        zeros = np.zeros(k * n)
        if self.classic:
            for key, row in self.static_rows.items():
                data[key] = np.tile(row, k)
            data["peer"] = nr["peer"][:k].ravel()
            for key in ("bought", "mined", "sold"):
                data[key] = zeros
            code = nr["state"][:k]
            before = np.vstack([code[:1], code[:-1]])  # the state each decision started from
            data["reviewed"] = np.isin(before, (0, 4)).ravel()
            p = nr["p_adopt"][:k].ravel()
            probs = np.column_stack([1.0 - p, p, zeros, zeros])
        else:
            for key in (
                "holdings",
                "reserves_usd",
                "mining_mw",
                "peer",
                "bought",
                "mined",
                "sold",
                "reviewed",
            ):
                data[key] = nr[key][:k].ravel()
            probs = nr["probs"][:k].reshape(k * n, 4)
        data["action"] = pd.Categorical.from_codes(
            nr["action"][:k].ravel(), categories=list(ACTIONS)
        )
        for j, opt in enumerate(OPTIONS):
            data[f"u_{opt}"] = zeros if self.classic else nr["util"][:k, :, j].ravel()
        for j, act in enumerate(ACTIONS):
            data[f"p_{act}"] = probs[:, j]
        for j, opt in enumerate(OPTIONS):
            for t, term in enumerate(TERMS):
                if not self.classic:
                    data[f"{opt}_{term}"] = nr["terms"][:k, :, j, t].ravel()
                elif (opt, term) == ("adopt", "peer"):
                    data[f"{opt}_{term}"] = data["peer"]  # the classic rules' only input
                else:
                    data[f"{opt}_{term}"] = zeros
        return pd.DataFrame(data)


class Collected:
    """A read-only stand-in for ``mesa.DataCollector`` backed by the model's recorder.

    The model records into preallocated arrays, not a ``mesa.DataCollector`` (whose
    per-step Python loops would dominate the vectorised engine's time); this view gives
    ``mesa.batch_run`` the same shape: ``model_vars[column][k]`` is the value after step
    ``k`` (index 0 is the initial state) and there are no agent reporters.
    """

    agent_reporters: dict[str, Any] = {}

    def __init__(self, recorder: Recorder) -> None:
        frame = recorder.model_frame()
        self.model_vars = {c: frame[c].tolist() for c in frame.columns if c != "step"}
        self._agent_records: dict[int, list] = {}

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The model frame without the step column, as Mesa returns it."""
        return pd.DataFrame(self.model_vars)


def time_to(s: pd.Series | np.ndarray, level: float) -> float:
    """First step (position from step 0) with a value ``>= level``; NaN if never.

    The one ``time_to`` of the package: sweep outcomes, compare and the run summary use it
    (it lives with the frames it reads so that the runner and experiments both sit above it).

    Examples
    --------
    >>> time_to(np.array([0.0, 0.2, 0.6]), 0.5), time_to(np.array([0.0, 0.1]), 0.5)
    (2.0, nan)
    """
    hit = np.flatnonzero(np.asarray(s, dtype=float) >= level)
    return float(hit[0]) if len(hit) else math.nan
