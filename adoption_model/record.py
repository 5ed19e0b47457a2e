"""Observation: the per-step recorder, the model and nation frames (docs/ODD.md section 8).

:class:`Recorder` writes every step into preallocated arrays (no per-step Python loop over
nations or columns), so recording costs little next to the step itself. It builds the model
frame (one row per step, :data:`MODEL_COLUMNS`) and the nation frame (one row per nation
per step, with the decision breakdown), and :class:`Collected` shows the model frame as a
``mesa.DataCollector`` would hold it, for ``mesa.batch_run``.

Under the classic rules adoption is the only process: the nation frame keeps only state,
signal, action and adoption probability per step, and holdings, reserves and mining are
kept once (they do not move unless a dated ``sell`` event moves them).

:class:`EnsembleRecorder` records ``R`` replicates of the ensemble engine at once (one
column per replicate, a replicate axis in the nation buffers), with the same arithmetic
per replicate, and hands each replicate back as a :class:`Recorder`
(:meth:`EnsembleRecorder.replicate`) so that its frames are built by the very same code.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from adoption_model.errors import InputError, did_you_mean
from adoption_model.state import STATE_NAMES
from adoption_model.submodels.decision import ACTIONS, OPTIONS, TERMS
from adoption_model.submodels.rows import masked_row_sums, row_counts
from adoption_model.world import month_name

if TYPE_CHECKING:
    from adoption_model.ensemble import Ensemble
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


def nation_fields(n: int, keep_nations: bool, classic: bool) -> dict[str, tuple[tuple, Any]]:
    """The per-step nation buffers a recorder keeps: name -> (shape after the step, dtype)."""
    if not keep_nations:
        return {}
    if classic:
        return {"state": ((n,), np.int8), "peer": ((n,), float), "action": ((n,), np.int8),
                "p_adopt": ((n,), float)}  # fmt: skip
    out: dict[str, tuple[tuple, Any]] = {
        "state": ((n,), np.int8), "holdings": ((n,), float), "reserves_usd": ((n,), float),
        "mining_mw": ((n,), float), "peer": ((n,), float), "action": ((n,), np.int8),
        "reviewed": ((n,), bool), "bought": ((n,), float), "mined": ((n,), float),
        "sold": ((n,), float),
    }  # fmt: skip
    out["probs"] = ((n, 4), float)
    out["util"] = ((n, 3), float)
    out["terms"] = ((n, 3, len(TERMS)), float)
    return out


def bytes_per_step(n: int, keep_nations: bool, classic: bool) -> int:
    """Bytes one recorded step takes for one run (model columns and nation buffers)."""
    total = 8 * (len(MODEL_COLUMNS) - 1) + 8
    for shape, dtype in nation_fields(n, keep_nations, classic).values():
        total += int(np.prod(shape)) * np.dtype(dtype).itemsize
    return total


def static_rows(st: Any) -> dict[str, np.ndarray]:
    """What the classic rules keep once (they do not move holdings, reserves or mining)."""
    return {
        "holdings": st.holdings.copy(),
        "reserves_usd": st.reserves_usd.copy(),
        "mining_mw": np.where(st.mining, st.mining_mw, 0.0),
    }


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
        for name, (shape, dtype) in nation_fields(n, keep_nations, classic).items():
            self.nations[name] = np.zeros((length, *shape), dtype=dtype)

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
            r["fx_reserves_usd"][i] = st.reserves_usd.sum()
        if not self.classic:
            r["imf_programmes"][i] = np.count_nonzero(st.programme)
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
                self.static_rows = static_rows(st)
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


class EnsembleRecorder:
    """Preallocated per-step records of ``R`` replicates of the ensemble engine.

    Buffers are ``(steps + 1, R)`` per model column and ``(steps + 1, R, n, ...)`` per
    nation field; replicate ``r`` writes column ``r``. Replicates that stopped early stop
    recording (``rows[r]`` is their length). Every value is computed as
    :meth:`Recorder.record` computes it for one run (full row sums are numpy's own
    per-row sums; masked sums go through
    :func:`~adoption_model.submodels.rows.masked_row_sums`), so each replicate's column
    holds its single run's bits.
    """

    def __init__(
        self, replicates: int, n: int, steps: int, keep_nations: bool, classic: bool
    ) -> None:
        length = steps + 1
        self.replicates, self.n = replicates, n
        self.keep_nations, self.classic = keep_nations, classic
        self.rows = np.zeros(replicates, dtype=np.int64)
        self.model = {c: np.zeros((length, replicates)) for c in MODEL_COLUMNS if c != "date"}
        self.months = np.zeros((length, replicates), dtype=np.int64)
        self.nations: dict[str, np.ndarray] = {}
        for name, (shape, dtype) in nation_fields(n, keep_nations, classic).items():
            self.nations[name] = np.zeros((length, replicates, *shape), dtype=dtype)
        self.static_rows: dict[str, np.ndarray] = {}

    def record(
        self,
        m: Ensemble,
        adopted: np.ndarray,
        new: np.ndarray | None,
        money_moved: np.ndarray | None,
    ) -> np.ndarray:
        """Record step ``m.steps`` of the live replicates; returns adopters per row.

        ``new=None`` means step 0 (every adopter is new). ``money_moved`` (classic
        rules, per row) says whether an event moved holdings or reserves this step.
        """
        st, w = m.state, m.world
        rows, ids = m.live_rows, m.live_ids
        i = m.steps
        r = self.model
        n_ad = row_counts(adopted, float)

        def put(key: str, values: Any) -> None:
            r[key][i, ids] = values[rows] if np.ndim(values) else values

        put("step", float(i))
        self.months[i, ids] = w.month[rows]
        put("n_adopters", n_ad)
        put("adoption_share", n_ad / self.n)
        gdp, population = m.adopter_sums(st.gdp_usd, st.population, adopted)
        put("gdp_weighted_share", gdp / m.gdp_total)
        put("population_weighted_share", population / m.population_total)
        put("n_reserve", row_counts(st.reserve, float))
        put("n_miners", row_counts(st.mining, float))
        if new is not None:
            put("n_new_adopters", row_counts(new, float))
        else:
            put("n_new_adopters", n_ad if i == 0 else 0.0)
        put("supply_btc", w.supply)
        put("btc_price", w.price)
        put("subsidy_btc", w.subsidy)
        put("network_hashrate_ehs", w.network_hashrate_th / 1e6)
        put("imf_stance", w.imf_stance)
        money = np.ones(len(n_ad), dtype=bool)
        if self.classic and i > 0:
            money = np.zeros(len(n_ad), dtype=bool) if money_moved is None else money_moved
            # adoption is the only process: holdings, reserves and mining do not move
            for key in ("mining_mw", "n_sold_out", "btc_sovereign", "fx_reserves_usd"):
                r[key][i, ids] = r[key][i - 1, ids]
        if money.any():
            total = st.holdings.sum(axis=-1)
            computed = {
                "mining_mw": masked_row_sums(st.mining_mw, st.mining),  # a few miners
                "n_sold_out": row_counts(st.sold_out & ~adopted, float),
                "btc_sovereign": total,
                "btc_bought": st.bought.sum(axis=-1),
                "btc_mined": st.mined.sum(axis=-1),
                "btc_sold": st.sold.sum(axis=-1),
                "imf_detections": row_counts(st.detected, float),
                "imf_withheld_usd": st.imf_withheld.sum(axis=-1),
                "imf_programme_starts": row_counts(st.imf_started, float),
                "imf_programme_ends": row_counts(st.imf_ended, float),
                "fx_reserves_usd": st.reserves_usd.sum(axis=-1),
            }
            if money.all():
                for key, values in computed.items():
                    put(key, values)
            else:
                at = np.asarray(rows if not isinstance(rows, slice) else np.arange(len(n_ad)))
                ok = money[at]
                sub_rows, sub_ids = at[ok], np.asarray(_index(ids, len(at)))[ok]
                for key, values in computed.items():
                    r[key][i, sub_ids] = values[sub_rows]
        r["supply_share"][i, ids] = r["btc_sovereign"][i, ids] / r["supply_btc"][i, ids]
        if not self.classic:
            put("imf_programmes", row_counts(st.programme, float))
        if self.keep_nations:
            self._record_nations(m, i, rows, ids)
        self.rows[ids] = i + 1
        return n_ad.astype(np.int64)

    def _record_nations(self, m: Ensemble, i: int, rows: Any, ids: Any) -> None:
        st, nr = m.state, self.nations
        if self.classic:
            nr["state"][i, ids] = (st.reserve.view(np.int8) + 2 * st.mining.view(np.int8))[rows]
            nr["peer"][i, ids] = st.peer[rows]
            nr["action"][i, ids] = st.action[rows]
            p = m.rule.adopt_probability(m.params.rule, st, m.signals.adopted)
            nr["p_adopt"][i, ids] = p[rows]
            if i == 0:
                self.static_rows = static_rows(st)
            return
        nr["state"][i, ids] = st.state_code()[rows]
        nr["holdings"][i, ids] = st.holdings[rows]
        nr["reserves_usd"][i, ids] = st.reserves_usd[rows]
        nr["mining_mw"][i, ids] = np.where(st.mining, st.mining_mw, 0.0)[rows]
        nr["peer"][i, ids] = st.peer[rows]
        nr["action"][i, ids] = st.action[rows]
        nr["reviewed"][i, ids] = st.reviewed[rows]
        nr["bought"][i, ids] = st.bought[rows]
        nr["mined"][i, ids] = st.mined[rows]
        nr["sold"][i, ids] = st.sold[rows]
        nr["probs"][i, ids] = m.rule.probs[rows]
        nr["util"][i, ids] = m.rule.util[rows]
        nr["terms"][i, ids] = m.rule.terms[rows]

    def replicate(self, r: int) -> Recorder:
        """Replicate ``r``'s records as a :class:`Recorder` (views, no copies)."""
        rec = Recorder.__new__(Recorder)
        rec.n, rec.keep_nations, rec.classic = self.n, self.keep_nations, self.classic
        rec.rows = int(self.rows[r])
        rec.model = {c: buf[:, r] for c, buf in self.model.items()}
        rec.months = self.months[: rec.rows, r].tolist()
        rec.nations = {key: buf[:, r] for key, buf in self.nations.items()}
        rec.static_rows = {key: rows[r] for key, rows in self.static_rows.items()}
        return rec


def _index(ids: Any, count: int) -> Any:
    return np.arange(count) if isinstance(ids, slice) else ids


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
