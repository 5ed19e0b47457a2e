"""Many runs at once: the ensemble engine (R replicates advanced together, bit for bit).

At the real world's scale (197 nations) a single run spends most of its time in Python
overhead, not arithmetic. :class:`Ensemble` removes most of that overhead by advancing
``R`` replicates together: every nation array gains a leading replicate axis ``(R, n)``,
the peer signal is one sparse product per step for all replicates, and the decisions, acts
and recording are the same submodel functions (:mod:`adoption_model.submodels`) called
once on ``(R, n)`` arrays instead of ``R`` times on ``(n,)`` arrays.

Replicate ``r`` gives exactly the model frame, nation frame, first adoptions, events and
summary of ``run(scenarios[r], seeds[r])``:

- each replicate is initialised by the single run's own code (graph, attributes,
  thresholds and seed adopters drawn from its own ``numpy`` Generator, start-month events),
  then its arrays are stacked;
- each replicate keeps its Generator and draws what a single run draws, in the same order
  (one normal, and a uniform for the regime process, in its :class:`~adoption_model.
  world.World`; then the rule's uniforms);
- the worlds (price, supply, hashrate, IMF stance) advance as arrays
  (:class:`~adoption_model.world_rows.WorldRows`, the transcendental functions value by
  value through Python's :mod:`math`, as ``World`` computes them); the regime and path
  price processes keep one ``World`` per replicate; dated events fire per replicate on a
  view of its rows;
- every array operation is elementwise or per nation, reductions per replicate are numpy's
  own row sums, and masked sums use :func:`~adoption_model.submodels.rows.masked_row_sums`;
- submodels that can change only a few nations run on those entries, gathered from the
  arrays (:mod:`adoption_model.gather`: purchases, mining, sales, IMF reviews, and the
  logit, its inputs and its commits where nations review this month, less the nations a
  bound shows to hold whatever their inputs);
- replicates may differ in any numeric scenario parameter: a parameter is a plain float
  where all replicates agree and an ``(R, 1)`` column where they do not (:class:`Stacked`).

Structural keys split batches: the network kind and size, the rule kind, the engine and
whether the nation frame is kept (:func:`structure_key`). Random graphs are drawn per
replicate, so they cannot share one matrix: :class:`~adoption_model.submodels.signal.
EnsemblePeerSignal` puts them on the diagonal of one block-diagonal matrix (still one
product a step); seed-independent graphs (the real world, rings, complete graphs) share
their matrix and the product is ``W @ S`` with one column per replicate.

A replicate that stops early (threshold and cascade rules when nothing can change, any
rule at its own horizon) stops recording at that step; its rows keep being stepped as dead
weight until a quarter of the rows are dead, then the arrays are compacted.

The per-agent engine stays the readable reference and the single-run vectorised engine
(:class:`~adoption_model.model.AdoptionModel`) the default for one run and the view; the
experiments runner (sweep, compare) runs its batches through
:func:`~adoption_model.experiments.batches.run_tasks`, the calibration through
:func:`run_ensemble`.

Examples
--------
>>> from adoption_model.runner import run
>>> from adoption_model.scenario import load_scenario
>>> ens = Ensemble([load_scenario(None, {"steps": 6})] * 3, seeds=[1, 2, 3])
>>> results = ens.run()
>>> results[1].model_frame.equals(run(None, seed=2, overrides={"steps": 6}).model_frame)
True
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from adoption_model import guards, world_rows
from adoption_model.batching import (
    BATCH_MEMORY,
    MAX_BATCH,
    STRUCTURAL_KEYS,
    Stacked,
    auto_batch_size,
    replicate_bytes,
    structure_key,
)
from adoption_model.errors import InputError
from adoption_model.gather import GatheredSteps
from adoption_model.record import EnsembleRecorder
from adoption_model.replicates import STATE_FIELDS as _STATE_FIELDS
from adoption_model.replicates import Replicate as _Replicate
from adoption_model.runner import RunResult, summarize
from adoption_model.scenario import Scenario, load_scenario
from adoption_model.state import NationState
from adoption_model.submodels import decision, events, imf, mining
from adoption_model.submodels.rows import MaskedSumCache, row_counts
from adoption_model.submodels.signal import EnsemblePeerSignal, Signals

__all__ = [
    "BATCH_MEMORY",
    "MAX_BATCH",
    "STRUCTURAL_KEYS",
    "Ensemble",
    "Stacked",
    "auto_batch_size",
    "replicate_bytes",
    "run_ensemble",
    "structure_key",
]

# ---------------------------------------------------------------------------- replicates


class _WorldColumns(SimpleNamespace):
    """This step's world scalars of the rows, as ``(rows,)`` arrays."""


# ---------------------------------------------------------------------------- the engine
class Ensemble(GatheredSteps):
    """``R`` replicates of the model advanced together (see the module docstring).

    Parameters
    ----------
    scenarios : sequence of Scenario
        One validated scenario per replicate; they must agree on :func:`structure_key`.
    seeds : sequence of int
        One seed per replicate (as ``run(scenario, seed)`` takes it).
    """

    def __init__(self, scenarios: Sequence[Scenario], seeds: Sequence[int]) -> None:
        if len(scenarios) != len(seeds) or not scenarios:
            raise InputError("Ensemble: give one seed per scenario (and at least one)")
        keys = {structure_key(sc) for sc in scenarios}
        if len(keys) > 1:
            raise InputError(
                "Ensemble: replicates differ in structure "
                f"({', '.join(STRUCTURAL_KEYS)}); run them in separate ensembles"
            )
        if scenarios[0].engine != "vectorized":
            raise InputError("Ensemble: only the vectorized engine runs as an ensemble")
        self.started = _now()
        cache: dict = {}
        pairs = zip(scenarios, seeds, strict=True)
        self._setup([_Replicate(sc, int(s), cache) for sc, s in pairs])

    @classmethod
    def _from_replicates(cls, reps: list[_Replicate]) -> Ensemble:
        ens = cls.__new__(cls)
        ens.started = _now()
        ens._setup(reps)
        return ens

    def _setup(self, reps: list[_Replicate]) -> None:
        self.reps = reps
        first = self.reps[0]
        self.n = first.n
        self.classic = first.classic
        self.keep_nations = first.keep_nations
        rows = len(self.reps)
        self.steps = 0
        self.horizon = np.array([rep.scenario.steps for rep in self.reps], dtype=np.int64)
        #: each replicate's last dated event: classic rules stop early only after it
        self.last_event = np.array([rep.last_event_month for rep in self.reps], dtype=np.int64)
        #: _event_steps[t, r]: replicate r has dated events at step t (months advance together)
        self._event_steps = np.zeros((int(self.horizon.max()) + 2, rows), dtype=bool)
        for r, rep in enumerate(self.reps):
            for month in rep.schedule_events:
                step = month - rep.world.month - self.steps
                if 0 < step < len(self._event_steps):
                    self._event_steps[step, r] = True

        # stack the replicates' state: (R, n) arrays
        states = [rep.state for rep in self.reps]
        self.state = NationState(
            **{f: _stack([getattr(s, f) for s in states]) for f in _STATE_FIELDS}
        )
        self.exposure = _stack([rep.exposure for rep in self.reps])
        self.gdp_total = self.state.gdp_usd.sum(axis=-1)
        self.population_total = self.state.population.sum(axis=-1)
        self.params = Stacked([rep.live for rep in self.reps])
        #: the worlds as arrays (None: one World per replicate, advanced in Python)
        self.worlds = None
        if world_rows.supports(self.params):
            self.worlds = world_rows.WorldRows([rep.world for rep in reps], int(self.horizon.max()))
        #: GDP and population of the adopters (one cache: the mask is compared once)
        self.adopter_sums = MaskedSumCache()
        self._flat: NationState | None = None
        self._static: tuple[np.ndarray, np.ndarray] | None = None
        self._acted: np.ndarray | None = None
        self._union_key: np.ndarray | None = None
        self._exposure_params: Stacked | None = None  # what the exposure was computed for
        self._exposure_of = np.zeros(0, dtype=bool)
        self._fired: np.ndarray | None = None  # rows whose events fired this step
        self.rule = decision.make_rule(first.kind, self.n, rows)
        self.rule.explain = self.keep_nations
        self._alloc_draws(rows)
        self.peers = EnsemblePeerSignal([rep.network for rep in self.reps])
        self.net_buying = np.zeros(rows)
        self.sovereign_th = np.zeros(rows)  # last month's market (the world's hashrate sees it)
        self.live_mask = np.ones(rows, dtype=bool)
        self.row_ids = np.arange(rows)  # row -> replicate index
        self._set_live()
        self.recorder = EnsembleRecorder(
            rows, self.n, int(self.horizon.max()), self.keep_nations, self.classic
        )
        adopted = self.state.reserve | self.state.mining
        self.new_adopters = adopted.copy()
        self.world = self._world_columns()
        self.signals = Signals(
            adopted=adopted.copy(),
            adopted_f=adopted.astype(float),
            n_adopted=row_counts(adopted, float),
            new_prev=self.new_adopters.astype(float),
            t=0,
            price=self.world.price[:, None],
        )
        self.recorder.record(self, adopted, None, None)
        self._stop(self.horizon <= 0, adopted)

    # ---------------------------------------------------------------- bookkeeping
    def _alloc_draws(self, rows: int) -> None:
        rule = self.rule
        if rule.kind == "logit":
            self._draws = np.zeros((rows, 4, self.n))  # Logit.draw's (4, n) block per row
            rule.u_review = self._draws[:, 0]
            rule.u_choice = self._draws[:, 1]
            rule.u_audit = self._draws[:, 2]
            rule.u_imf = self._draws[:, 3]
        elif rule.kind in ("bass", "cascade"):
            self._draws = np.zeros((rows, self.n))
            rule.u_choice = self._draws
        else:
            self._draws = None

    def _set_live(self) -> None:
        live = self.live_mask
        if live.all():
            self.live_rows: Any = slice(None)
            self.live_ids: Any = self.row_ids
            if len(self.row_ids) == len(self.reps):  # no row dropped yet: rows are replicates
                self.live_ids = slice(None)
        else:
            self.live_rows = np.flatnonzero(live)
            self.live_ids = self.row_ids[self.live_rows]
        self._live_list = [int(r) for r in np.flatnonzero(live)]
        #: each live row's Generator methods and its block of this month's draws
        draws = self._draws
        self._row_draws = [
            (row, self.reps[self.row_ids[row]].rng, None if draws is None else draws[row])
            for row in self._live_list
        ]

    @property
    def running(self) -> bool:
        """Whether any replicate is still running."""
        return bool(self.live_mask.any())

    def _world_columns(self) -> _WorldColumns:
        rows = self.worlds
        if rows is not None:
            return _WorldColumns(
                price=rows.price.copy(),
                supply=rows.supply.copy(),
                subsidy=rows.subsidy.copy(),
                network_hashrate_th=rows.network_hashrate_th.copy(),
                efficiency_j_per_th=rows.efficiency_j_per_th.copy(),
                imf_stance=rows.imf_stance.copy(),
                month=rows.month.copy(),
                momentum=rows.momentum(self.params),
                reward=rows.block_reward(self.params),
            )
        worlds = [self.reps[r].world for r in self.row_ids]
        return _WorldColumns(
            price=np.array([w.price for w in worlds]),
            supply=np.array([w.supply for w in worlds]),
            subsidy=np.array([w.subsidy for w in worlds]),
            network_hashrate_th=np.array([w.network_hashrate_th for w in worlds]),
            efficiency_j_per_th=np.array([w.efficiency_j_per_th for w in worlds]),
            imf_stance=np.array([w.imf_stance for w in worlds]),
            month=np.array([w.month for w in worlds], dtype=np.int64),
            momentum=np.array([w.momentum() for w in worlds]),
            reward=np.array([w.block_reward() for w in worlds]),
        )

    def _view(self, row: int) -> NationState:
        st = self.state
        return NationState(**{f: getattr(st, f)[row] for f in _STATE_FIELDS})

    # ---------------------------------------------------------------- the step
    def step(self) -> None:
        """Advance every live replicate one month (the steps of ``AdoptionModel.step``)."""
        self.steps += 1
        t = self.steps
        st, rule, reps, ids = self.state, self.rule, self.reps, self.row_ids
        draws = self._draws
        if self.worlds is not None:
            # each replicate's normal (1. the world update) and uniforms (3. this month's
            # draws), in that order from its own Generator, in one pass over the rows
            z = np.zeros(len(ids))
            for row, rng, block in self._row_draws:
                z[row] = rng.standard_normal()
                if block is not None:
                    rng.random(out=block)
            self.worlds.advance(self.params, z, self.net_buying, self.sovereign_th)
        else:
            net, sov = self.net_buying.tolist(), self.sovereign_th.tolist()
            for row in self._live_list:  # 1. world update and 3. this month's draws
                rep = reps[ids[row]]
                rep.world.advance(rep.rng, net[row], sov[row])
                if draws is not None:
                    rep.rng.random(out=draws[row])
        if not self.classic:
            st.clear_flows()
        before = st.reserve | st.mining  # adopters before this month's events and decisions
        moved = self._fire_events(t)  # 2. the month's events, per replicate
        self.world = w = self._world_columns()
        sc = self.params
        adopted0 = before if self._fired is None else st.reserve | st.mining
        sig = Signals(  # 4. signals on the start-of-step state
            adopted=adopted0,
            adopted_f=adopted0.astype(float),
            n_adopted=row_counts(adopted0, float),
            # the cascade rule's input; the others never read it
            new_prev=self.new_adopters.astype(float) if rule.uses_counts else self.new_adopters,
            t=t,
            price=w.price[:, None],
        )
        market = None
        if not self.classic:
            # the GDP-weighted share (7.1): world_share's sum, kept from the last record
            gdp, _ = self.adopter_sums(st.gdp_usd, st.population, adopted0)
            sig.world_share = (gdp / self.gdp_total)[:, None]
            sig.momentum = w.momentum[:, None]
            market = self._market(sc)
            sig.revenue_mwh = market.revenue_mwh
            sig.p_detect = imf.detection_probability(
                w.imf_stance[:, None], sc.imf.detection_probability
            )
            sig.imf_stance = w.imf_stance[:, None]
            # the full decision reads these at every nation; without an explanation to
            # keep, _decide_reviewed computes them at the reviewing nations only
            if rule.explain:
                sig.exposure = self._exposure(sc)
                sig.imf_at_risk = self._at_risk(sc, sig.p_detect)
                sig.fx_cover = decision.import_cover(st)  # each replicate pools its unions
        self.signals = sig
        counts = self.peers.new_adopter_counts(sig.new_prev) if rule.uses_counts else None
        peer = self.peers.share(adopted0)
        if rule.kind == "logit" and not rule.explain:  # 5. decisions (and their commits)
            new_miners = self._decide_reviewed(sc, peer, sig, t)
        else:
            action = rule.decide(sc, st, slice(None), peer, sig, counts)
            decision.commit(st, action, t, sc)
            new_miners = bool((action == decision.MINE).any())
        if not self.classic:  # 6. acts, each on the nations it can change (gather.py)
            if new_miners or market is None:  # else the miners are the signal's market's
                market = self._market(sc)
            self.sovereign_th = market.sovereign_th
            self._acts(t, sc, market, sig.p_detect)
        adopted = st.reserve | st.mining
        new = adopted & ~before  # dated 'adopt'/'mine' events count as new adopters too
        any_new = new.any(axis=-1)
        if any_new.any():
            st.first_adopted[new & (st.first_adopted < 0)] = t
        self.new_adopters = new
        n_adopted = self.recorder.record(self, adopted, new, moved)  # 7. record
        if not self.classic:  # last month's net purchases: the recorder's row sums
            rec, net = self.recorder.model, np.zeros(len(self.row_ids))
            net[self.live_rows] = (
                rec["btc_bought"][t, self.live_ids] - rec["btc_sold"][t, self.live_ids]
            )
            self.net_buying = net
        self._check_finite(t)
        horizon = self.horizon[self.row_ids]
        pending = w.month < self.last_event[self.row_ids]  # a dated event is still to fire
        stop = (t >= horizon) | (~pending & rule.stops(any_new, n_adopted))
        self._stop(stop & self.live_mask, adopted, early=t < horizon)

    def _check_finite(self, t: int) -> None:
        """The single run's guard (:func:`adoption_model.guards.check_finite`) per row.

        A replicate that went non-finite raises: the batch's runner then runs its
        replicates alone, each with its own result or the single run's one-line error.
        """
        r, ids = self.recorder.model, self.live_ids
        total = self.world.efficiency_j_per_th[self.live_rows].copy()
        for c in guards.RECORDED:
            total += r[c][t, ids]
        if np.isfinite(total).all():
            return
        bad = int(np.flatnonzero(~np.isfinite(total))[0])
        rep = self.reps[np.arange(len(self.reps))[ids][bad] if isinstance(ids, slice) else ids[bad]]
        raise InputError(
            f"ensemble replicate seed {rep.seed}: a recorded price, stock or flow is not "
            f"finite at step {t}; run it alone for the quantity and its parameters"
        )

    def _market(self, sc: Any) -> mining.Market:
        w = self.world
        return mining.market_rows(
            self.state,
            w.reward,
            w.network_hashrate_th,
            w.efficiency_j_per_th,
            w.price,
            sc.mining.blocks_per_month,
        )

    def _fire_events(self, t: int) -> np.ndarray | None:
        moved = None
        changed = False
        worlds = self.worlds
        due = self._event_steps[min(t, len(self._event_steps) - 1), self.row_ids]
        for row in np.flatnonzero(due & self.live_mask).tolist():  # rows with events now
            rep = self.reps[self.row_ids[row]]
            month = int(worlds.month[row]) if worlds is not None else rep.world.month
            evs = rep.schedule_events.get(month)
            if not evs:
                continue
            if worlds is not None:  # events act on the replicate's row of the worlds
                rep.world = worlds.row(row)
            if moved is None:
                moved = np.zeros(len(self.row_ids), dtype=bool)
            rep.steps = t
            rep.state = self._view(row)
            rep.exposure = exposure = self.exposure[row]
            moved[row] = events.fire(rep, evs)
            if rep.exposure is not exposure:  # a 'set' of imf.exposure* recomputed it
                self.exposure[row] = rep.exposure
            changed |= any(ev.kind in ("set", "imf_stance") for ev in evs)
        if changed:  # 'set' and 'imf_stance' events change live parameters
            self.params = Stacked([self.reps[r].live for r in self.row_ids])
        self._fired = moved
        return moved

    def _stop(self, stop: np.ndarray, adopted: np.ndarray, early: Any = False) -> None:
        if not stop.any():
            return
        early = np.broadcast_to(early, stop.shape)
        for row in np.flatnonzero(stop):
            rep = self.reps[self.row_ids[row]]
            rep.done = True
            rep.steps = self.steps
            rep.stopped_early = bool(early[row])
            rep.state = SimpleNamespace(first_adopted=self.state.first_adopted[row].copy())
            rep.final_adopted = adopted[row].copy()
        self.live_mask = self.live_mask & ~stop
        dead = int((~self.live_mask).sum())
        if self.live_mask.any() and dead * 4 >= len(self.live_mask):
            self._compact(np.flatnonzero(self.live_mask))
        self._set_live()

    def _compact(self, keep: np.ndarray) -> None:
        """Drop the rows of stopped replicates from every array."""
        st = self.state
        for f in _STATE_FIELDS:
            setattr(st, f, getattr(st, f)[keep])
        self.exposure = self.exposure[keep]
        self.gdp_total = self.gdp_total[keep]
        self.population_total = self.population_total[keep]
        self.net_buying = self.net_buying[keep]
        self.sovereign_th = self.sovereign_th[keep]
        self.new_adopters = self.new_adopters[keep]
        rule = self.rule
        for name in ("terms", "util", "probs", "counts"):
            if hasattr(rule, name):
                setattr(rule, name, getattr(rule, name)[keep])
        self._alloc_draws(len(keep))
        self._flat = self._union_key = self._static = self._acted = None
        self.peers = self.peers.select(keep)
        if self.worlds is not None:
            self.worlds.select(keep)
        self.row_ids = self.row_ids[keep]
        self.live_mask = self.live_mask[keep]
        self.params = Stacked([self.reps[r].live for r in self.row_ids])

    # ---------------------------------------------------------------- running, outputs
    def run(self) -> list[RunResult]:
        """Step until every replicate has stopped; the results in replicate order."""
        while self.running:
            self.step()
        return self.results()

    def model_frames(self, run_ids: Sequence[int] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Every replicate's model frame, stacked in replicate order, and their offsets.

        Replicate ``r`` is rows ``offsets[r]:offsets[r + 1]``, with exactly the values and
        dtypes of its own :meth:`AdoptionModel.model_frame` (``date`` as text). With
        ``run_ids`` a leading ``run_id`` column (int64) names each replicate's rows, as the
        experiments store keeps them.
        """
        from adoption_model.record import _INT_COLUMNS, MODEL_COLUMNS
        from adoption_model.world import month_name

        rec = self.recorder
        lengths = rec.rows
        keep = np.arange(rec.months.shape[0])[None, :] < lengths[:, None]  # (R, steps + 1)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        data: dict[str, Any] = {}
        if run_ids is not None:
            data["run_id"] = np.repeat(np.asarray(run_ids, dtype=np.int64), lengths)
        months = rec.months.T[keep]
        uniq, inverse = np.unique(months, return_inverse=True)
        names = np.asarray([month_name(int(m)) for m in uniq], dtype=object)
        for c in MODEL_COLUMNS:
            if c == "date":
                data[c] = names[inverse]
            elif c in _INT_COLUMNS:
                data[c] = rec.model[c].T[keep].astype(np.int64)
            else:
                data[c] = rec.model[c].T[keep]
        frame = pd.DataFrame(data)
        frame["date"] = frame["date"].astype(str)
        return frame, offsets

    def adoptions(self, r: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Replicate ``r``'s first adoptions: nations, steps (sorted by step, then nation)
        and whether each holds a reserve or mines at its last step."""
        rep = self.reps[r]
        fa = rep.state.first_adopted
        idx = np.flatnonzero(fa >= 0)
        names = np.asarray([str(rep.ids[i]) for i in idx])
        order = np.lexsort((names, fa[idx])) if len(idx) else np.zeros(0, dtype=np.int64)
        return names[order].tolist(), fa[idx][order].astype(np.int64), rep.final_adopted[idx][order]

    def nation_frame(self, r: int) -> pd.DataFrame | None:
        """Replicate ``r``'s nation frame (None unless nation frames are kept)."""
        return self.recorder.replicate(r).nation_frame(self.reps[r].ids)

    def results(self) -> list[RunResult]:
        """One :class:`~adoption_model.runner.RunResult` per replicate (after :meth:`run`)."""
        finished = _now()
        out = []
        for r, rep in enumerate(self.reps):
            rec = self.recorder.replicate(r)
            frame = rec.model_frame()
            out.append(
                RunResult(
                    model_frame=frame,
                    nation_frame=rec.nation_frame(rep.ids),
                    summary=summarize(rep, frame),
                    scenario=rep.scenario,
                    seed=rep.seed,
                    first_adoptions=rep.first_adoptions(),
                    events=list(rep.fired_events),
                    started=self.started,
                    finished=finished,
                )
            )
        return out


def run_ensemble(
    scenarios: Scenario | Sequence[Scenario | str | dict | None],
    seeds: Sequence[int],
    *,
    overrides: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
    batch_size: int | None = None,
    progress: Any = None,
) -> list[RunResult]:
    """Run one scenario per seed (or one scenario for every seed) as ensembles.

    ``result[r]`` is exactly ``run(scenarios[r], seeds[r], overrides=overrides[r])``.
    Consecutive runs of one structure run together, ``batch_size`` at a time (default
    :func:`auto_batch_size` of the first, so memory stays bounded); runs the ensemble
    cannot take (the agents engine) run alone. An error is raised as ``run`` raises it.
    ``progress``, if given, is called with the number of runs done after each batch.
    """
    from adoption_model.runner import run

    if isinstance(scenarios, Scenario | str | dict) or scenarios is None:
        scenarios = [scenarios] * len(seeds)
    if overrides is None or isinstance(overrides, dict):
        overrides = [overrides] * len(seeds)
    loaded = [load_scenario(sc, ov) for sc, ov in zip(scenarios, overrides, strict=True)]
    guards.check_batch_size(batch_size, "batch_size")
    out: list[RunResult] = []
    i = 0
    while i < len(loaded):
        sc = loaded[i]
        if sc.engine != "vectorized":
            out.append(run(sc, seed=int(seeds[i])))
            i += 1
        else:
            size = batch_size or auto_batch_size(sc)
            key, j = structure_key(sc), i + 1
            while j < len(loaded) and j - i < size and structure_key(loaded[j]) == key:
                j += 1
            out.extend(Ensemble(loaded[i:j], [int(s) for s in seeds[i:j]]).run())
            i = j
        if progress is not None:
            progress(len(out))
    return out


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    """``np.stack`` of equal-length 1-D arrays, as one concatenation (several times
    faster for a few hundred rows)."""
    return np.concatenate(rows).reshape(len(rows), -1)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
