"""Key players: which nations, if they adopted now, would move the rest most?

For a scenario and a set ``S`` of nations made adopters at the start (scenario key
``initial.adopters``, added to those the scenario already starts with), the *spread*
``sigma(S)`` is the expected number of adopters at the horizon (and the GDP share they
hold). Each candidate nation ``v`` gets the gain ``sigma({v}) - sigma({})``: the expected
extra adopters when ``v`` adopts at the start, against the scenario as is. Every estimate
uses the same replicate seeds (common random numbers), so the gain is a mean of paired
per-replicate differences, with a percentile-bootstrap interval.

The gain counts ``v`` itself when it would not have adopted by the horizon anyway; the
*spillover* columns take that out: per replicate, the gain minus ``1 - adopted_v`` (whether
``v`` adopted by the horizon in that replicate of the scenario as is), i.e. the adopters
other than ``v`` that ``v``'s move brings (assuming ``v`` keeps its reserve).

The greedy selection (Kempe, Kleinberg and Tardos 2003) picks, k times, the nation with
the largest marginal gain ``sigma(S + v) - sigma(S)``; lazy evaluation (CELF, Leskovec et al.
2007) re-evaluates a candidate only when its last known gain (an upper bound if ``sigma`` is
submodular) is the largest. Greedy is within ``1 - 1/e`` of the best set when ``sigma`` is
monotone and submodular (Kempe et al.); in this model that is not guaranteed (peer effects
enter a logit with other motives and a price process), so the picks are a good heuristic
set, with the marginal gain of each reported with its interval.

The first round (every candidate alone) runs through the experiments runner's backend
(``processes`` by default, so it uses every core); the lazy re-evaluations are a few
replicate batches each and run in this process (``serial``), which avoids starting a
process pool for a handful of runs.

References
----------
Kempe, D., Kleinberg, J. and Tardos, E. (2003), "Maximizing the spread of influence through
a social network", Proceedings of KDD 2003, 137-146.
Leskovec, J., Krause, A., Guestrin, C., Faloutsos, C., VanBriesen, J. and Glance, N. (2007),
"Cost-effective outbreak detection in networks", Proceedings of KDD 2007, 420-429.
"""

from __future__ import annotations

import heapq
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from adoption_model.errors import InputError, did_you_mean

OUTCOMES = {"adopters": "final(n_adopters)", "gdp_share": "final(gdp_weighted_share)"}


def paired_interval(
    diffs: np.ndarray, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of paired differences with its percentile-bootstrap interval (inside their range),
    from :func:`adoption_model.experiments.stats.bootstrap_interval`.

    Examples
    --------
    >>> paired_interval(np.array([2.0, 2.0, 2.0]), np.random.default_rng(0))
    (2.0, 2.0, 2.0)
    """
    from adoption_model.experiments.stats import bootstrap_interval

    iv = bootstrap_interval(np.asarray(diffs, dtype=float), rng, level=level)
    return iv.mean, iv.low, iv.high


@dataclass
class KeyPlayers:
    """The answer of :func:`key_players`."""

    ranking: pd.DataFrame
    greedy: pd.DataFrame
    summary: dict[str, Any]
    centroids: pd.DataFrame = field(repr=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"key_players": self.ranking, "greedy": self.greedy}

    def to_iamc(self) -> pd.DataFrame:
        """The ranking as IAMC rows: region = the nation, year = the horizon's year."""
        from adoption_model.discovery.iamc import to_iamc
        from adoption_model.world import month_index, month_name

        year = month_name(month_index(self.summary["start"]) + self.summary["steps"])[:4]
        variables = {
            "gain_adopters": ("Sovereign Bitcoin|Key Players|Extra Adopters", "count"),
            "spillover_adopters": ("Sovereign Bitcoin|Key Players|Other Adopters", "count"),
            "gain_gdp_pp": ("Sovereign Bitcoin|Key Players|Extra Share of GDP", "%"),
        }
        table = self.ranking.assign(year=int(year))
        return to_iamc(table, variables, scenario=f"{self.summary['scenario']} + nation adopts",
                       region="nation", time="year")  # fmt: skip

    def save(self, out: str | Path) -> Path:
        """Write tables (CSV, Parquet), the map and bar chart (SVG, PNG) and ``report.html``."""
        from adoption_model.discovery.report import Chart, table_html, world_map, write_report

        r = self.ranking
        picks = self.greedy["nation"].tolist()
        fig = world_map(
            r.set_index("nation")["gain_adopters"],
            self.centroids,
            title="Expected extra adopters by the horizon if the nation adopts at the start",
            label="extra adopters (incl. itself)",
            highlight=picks,
        )
        charts = [Chart("key_players_map", fig, "world map of each nation's expected gain"),
                  _bars(r.head(20))]  # fmt: skip
        show = ["rank", "nation", "name", "gain_adopters", "gain_adopters_low",
                "gain_adopters_high", "spillover_adopters", "gain_gdp_pp", "gain_gdp_pp_low",
                "gain_gdp_pp_high", "p_adopted_anyway"]  # fmt: skip
        context = {
            "title": f"Key players: {self.summary['scenario']}",
            "summary": self.summary,
            "greedy": table_html(self.greedy),
            "ranking": table_html(r[show].head(30)),
            "candidates": len(r),
        }
        from adoption_model.discovery.iamc import export_iamc

        path = write_report(
            Path(out), "key_players.html.j2", context, charts, self.tables(),
            {"command": "key-players", **self.summary},
        )  # fmt: skip
        export_iamc(self.to_iamc(), Path(out) / "key_players_iamc.csv")
        return path


def _bars(top: pd.DataFrame) -> Any:
    from matplotlib.figure import Figure

    from adoption_model.discovery.report import Chart

    t = top.iloc[::-1]
    fig = Figure(figsize=(6.4, 0.32 * len(t) + 1.2))
    ax = fig.subplots()
    err = np.vstack([t["gain_adopters"] - t["gain_adopters_low"],
                     t["gain_adopters_high"] - t["gain_adopters"]])  # fmt: skip
    ax.barh(t["nation"], t["gain_adopters"], xerr=err, color="#4c72b0", error_kw={"lw": 0.8})
    ax.set_xlabel("expected extra adopters by the horizon (95% interval)")
    ax.tick_params(labelsize=8)
    ax.set_title(f"top {len(t)} nations, each adopting alone at the start", fontsize=10)
    return Chart("key_players_top", fig, "bar chart of the top nations' gains")


class _Evaluator:
    """sigma(S) per replicate for sets S, through the experiments runner's backends."""

    def __init__(self, base: dict[str, Any], start: list[str], seeds: list[int], backend: str,
                 workers: int, progress: bool) -> None:  # fmt: skip
        from adoption_model.experiments.runner import BACKENDS

        if backend not in BACKENDS:
            raise InputError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.base, self.start, self.seeds = base, start, seeds
        self.backend, self.workers, self.progress = backend, workers, progress
        self.runs = 0
        self.cache: dict[frozenset[str], dict[str, np.ndarray]] = {}

    def evaluate(self, sets: list[frozenset[str]], label: str = "") -> None:
        from adoption_model.experiments.runner import _BACKENDS

        todo = [s for s in dict.fromkeys(sets) if s not in self.cache]
        if not todo:
            return
        r = len(self.seeds)
        tasks = [
            {
                "run_id": i * r + j,
                "seed": int(seed),
                "base": self.base,
                "key": "key-players",
                "overrides": {"initial.adopters": self.start + sorted(s)},
                "outcomes": OUTCOMES,
                "keep_steps": False,
                "keep_nations": False,
            }  # fmt: skip
            for i, s in enumerate(todo)
            for j, seed in enumerate(self.seeds)
        ]
        # a process pool costs seconds to start: small batches run here
        parallel = self.backend != "serial" and len(tasks) >= 16 * self.workers
        backend = _BACKENDS[self.backend if parallel else "serial"]
        values = {name: np.full(len(tasks), np.nan) for name in OUTCOMES}
        if self.progress and len(tasks) >= 50:
            print(f"{label}: {len(tasks)} runs ({'parallel' if parallel else 'serial'})...",
                  file=sys.stderr, flush=True)  # fmt: skip
        t0 = time.perf_counter()
        for res in backend(iter(tasks), self.workers, None):
            if res["status"] != "ok":
                raise InputError(f"key-players: a run failed ({res['error']})")
            for name in OUTCOMES:
                values[name][res["run_id"]] = res["outcomes"][name]
        if self.progress and len(tasks) >= 50:
            wall = time.perf_counter() - t0
            print(f"{label}: done in {wall:.0f} s ({len(tasks) / wall:.1f} runs/s)",
                  file=sys.stderr, flush=True)  # fmt: skip
        self.runs += len(tasks)
        for i, s in enumerate(todo):
            self.cache[s] = {n: v[i * r : (i + 1) * r] for n, v in values.items()}


def key_players(
    scenario: Any = "baseline",
    *,
    k: int = 3,
    replications: int = 8,
    seed: int = 0,
    steps: int | None = None,
    candidates: list[str] | None = None,
    backend: str = "processes",
    workers: int | None = None,
    progress: bool = False,
) -> KeyPlayers:
    """Rank nations by the extra adopters their adoption at the start brings; greedy top k.

    Parameters
    ----------
    scenario : name, path, dict or Scenario
        The scenario as is (``initial.adopters`` is extended, never replaced).
    k : int
        Nations to pick greedily (0 for the ranking only).
    replications : int
        Replicate seeds (the same for every evaluation: common random numbers).
    seed : int
        Seed the replicate seeds derive from.
    steps : int, optional
        Horizon in months (default: the scenario's).
    candidates : list of ISO3 codes (or node ids), optional
        Default: every nation that has not adopted at the start.
    backend, workers
        Experiments runner backend and worker count for the first round.

    Returns
    -------
    KeyPlayers
        ``ranking`` (one row per candidate, best first) and ``greedy`` (one row per pick).
    """
    from adoption_model.runner import run
    from adoption_model.scenario import load_scenario
    from adoption_model.seeds import replicate_seeds

    started = time.perf_counter()
    if replications < 2:
        raise InputError(f"--replications {replications}: need at least 2 for an interval")
    if k < 0:
        raise InputError(f"--k {k}: give 0 or more")
    sc = load_scenario(scenario, {"steps": steps} if steps is not None else None)
    base = sc.to_dict()
    seeds = [int(s) for s in replicate_seeds(seed, replications)]
    workers = int(workers or os.cpu_count() or 1)
    # the scenario as is, in this process: who has adopted at the start and at the horizon
    adopted_end, codes = [], None
    n_end, gdp_end = [], []
    for s in seeds:
        res = run(sc, seed=s, overrides={"output.nation_frame": True})
        nf = res.nation_frame
        first, last = nf[nf["step"] == 0], nf[nf["step"] == nf["step"].max()]
        codes = first["nation"].astype(str).tolist() if codes is None else codes
        adopted = lambda f: f["state"].astype(str).isin(["reserve", "mining", "both"]).to_numpy()  # noqa: E731
        start_set = set(np.asarray(codes)[adopted(first)])
        adopted_end.append(adopted(last))
        n_end.append(float(res.model_frame["n_adopters"].iloc[-1]))
        gdp_end.append(float(res.model_frame["gdp_weighted_share"].iloc[-1]))
    adopted_end_m = np.array(adopted_end)  # replicate x nation
    start = [str(a) for a in sc.initial.adopters]
    start_codes = sorted(start_set)
    if candidates is None:
        cands = [c for c in codes if c not in start_set]
    else:
        cands = []
        for c in candidates:
            key = c.upper() if c.upper() in codes else c
            if key not in codes:
                raise InputError(f"--candidates: {c!r} is not a nation{did_you_mean(c, codes)}")
            if key in start_set:
                raise InputError(f"--candidates: {key} has adopted at the start already")
            cands.append(key)
    if not cands:
        raise InputError("key-players: no candidate nations (every nation adopts at the start)")
    k = min(k, len(cands))
    col = {c: i for i, c in enumerate(codes)}
    weights, names, centroids = _nation_info(codes, sc.network.kind == "real")

    ev = _Evaluator(base, start, seeds, backend, workers, progress)
    ev.cache[frozenset()] = {"adopters": np.array(n_end), "gdp_share": np.array(gdp_end)}
    ev.evaluate([frozenset([c]) for c in cands], label="each nation alone")
    rng = np.random.default_rng([seed, 1])
    none = ev.cache[frozenset()]
    rows = []
    for c in cands:
        sig = ev.cache[frozenset([c])]
        d_n = sig["adopters"] - none["adopters"]
        d_g = sig["gdp_share"] - none["gdp_share"]
        own = 1.0 - adopted_end_m[:, col[c]]
        g = paired_interval(d_n, rng)
        s = paired_interval(d_n - own, rng)
        gg = paired_interval(d_g * 100, rng)
        sg = paired_interval((d_g - weights.get(c, math.nan) * own) * 100, rng)
        rows.append({
            "nation": c, "name": names.get(c, c),
            "gain_adopters": g[0], "gain_adopters_low": g[1], "gain_adopters_high": g[2],
            "spillover_adopters": s[0], "spillover_adopters_low": s[1],
            "spillover_adopters_high": s[2],
            "gain_gdp_pp": gg[0], "gain_gdp_pp_low": gg[1], "gain_gdp_pp_high": gg[2],
            "spillover_gdp_pp": sg[0], "spillover_gdp_pp_low": sg[1],
            "spillover_gdp_pp_high": sg[2],
            "p_adopted_anyway": float(adopted_end_m[:, col[c]].mean()),
            "gdp_weight_pct": weights.get(c, math.nan) * 100,
        })  # fmt: skip
    ranking = pd.DataFrame(rows).sort_values(
        ["gain_adopters", "gain_gdp_pp", "nation"], ascending=[False, False, True]
    )
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    ranking = ranking.reset_index(drop=True)

    greedy = _celf(ev, ranking["nation"].tolist(), k, rng, names, progress)
    summary = {
        "scenario": sc.name, "start": sc.start, "steps": int(sc.steps),
        "replications": replications,
        "seed": seed, "seeds": seeds, "k": k, "candidates": len(cands),
        "adopters_at_start": start_codes, "backend": backend, "workers": workers,
        "runs": ev.runs + replications, "wall_s": time.perf_counter() - started,
        "adopters_at_horizon": float(np.mean(n_end)),
        "gdp_share_at_horizon": float(np.mean(gdp_end)),
    }  # fmt: skip
    return KeyPlayers(ranking=ranking, greedy=greedy, summary=summary, centroids=centroids)


def _celf(
    ev: _Evaluator, cands: list[str], k: int, rng: np.random.Generator,
    names: dict[str, str], progress: bool,
) -> pd.DataFrame:  # fmt: skip
    """Greedy top k with lazy evaluation; one row per pick with its marginal gain.

    ``cands`` are in ranking order, which breaks ties between equal gains."""
    chosen: frozenset[str] = frozenset()
    base = ev.cache[chosen]["adopters"]
    # heap of (-gain, position in the ranking (ties), nation, round the gain was computed in)
    heap = [
        (-float((ev.cache[frozenset([c])]["adopters"] - base).mean()), i, c, 0)
        for i, c in enumerate(cands)
    ]
    heapq.heapify(heap)
    rows = []
    for rnd in range(k):
        evaluations = 0
        while True:
            _, order, c, seen = heapq.heappop(heap)
            if seen == rnd:
                break
            ev.evaluate([chosen | {c}])
            evaluations += 1
            gain = ev.cache[chosen | {c}]["adopters"] - ev.cache[chosen]["adopters"]
            heapq.heappush(heap, (-float(gain.mean()), order, c, rnd))
        new = chosen | {c}
        d_n = ev.cache[new]["adopters"] - ev.cache[chosen]["adopters"]
        d_g = ev.cache[new]["gdp_share"] - ev.cache[chosen]["gdp_share"]
        tot = ev.cache[new]["adopters"] - ev.cache[frozenset()]["adopters"]
        m, lo, hi = paired_interval(d_n, rng)
        gm, glo, ghi = paired_interval(d_g * 100, rng)
        tm, tlo, thi = paired_interval(tot, rng)
        rows.append({
            "pick": rnd + 1, "nation": c, "name": names.get(c, c),
            "marginal_adopters": m, "marginal_adopters_low": lo, "marginal_adopters_high": hi,
            "marginal_gdp_pp": gm, "marginal_gdp_pp_low": glo, "marginal_gdp_pp_high": ghi,
            "total_extra_adopters": tm, "total_extra_low": tlo, "total_extra_high": thi,
            "re_evaluations": evaluations,
        })  # fmt: skip
        if progress:
            print(f"pick {rnd + 1}: {c} (+{m:.2f} adopters, {evaluations} re-evaluations)",
                  file=sys.stderr)  # fmt: skip
        chosen = new
    return pd.DataFrame(rows, columns=[
        "pick", "nation", "name", "marginal_adopters", "marginal_adopters_low",
        "marginal_adopters_high", "marginal_gdp_pp", "marginal_gdp_pp_low",
        "marginal_gdp_pp_high", "total_extra_adopters", "total_extra_low", "total_extra_high",
        "re_evaluations"])  # fmt: skip


def _nation_info(codes: list[str], real: bool) -> tuple[dict, dict, pd.DataFrame]:
    """GDP weights, names and centroids of the real nations (empty for synthetic graphs)."""
    if not real:
        return {}, {}, pd.DataFrame({"iso3": [], "lat": [], "lng": []})
    from adoption_model.nations import load_nations

    t = load_nations()
    gdp = t.set_index("iso3")["gdp_usd"].astype(float)
    weights = (gdp / gdp.sum()).to_dict()
    names = t.set_index("iso3")["name"].astype(str).to_dict()
    return weights, names, t[["iso3", "lat", "lng"]].copy()
