"""The results store: one directory per experiment, written atomically in chunks.

Layout::

    DIR/experiment.toml        the resolved experiment (base scenario expanded to every key)
    DIR/provenance.json        versions, git commit, experiment seed and hash, host, sessions
    DIR/runs/part-00000.parquet    runs 0..C-1 (C = store.chunk_runs), one row per run
    DIR/steps/part-00000.parquet   per-step model frame of the same runs (run_id, step, ...)
    DIR/nations/part-00000.parquet per-nation frames, only with store.nations = true
    DIR/adoptions/part-00000.parquet first adoption and holding per run and nation, only
                               with store.adoptions = true
    DIR/runs.parquet           every run sorted by run_id, written when the sweep completes

Chunk ``k`` holds runs ``k*C .. (k+1)*C-1`` whatever the backend or the order runs finish
in, so an interrupted and resumed sweep writes the same files as an uninterrupted one. Each
file is written under a temporary name in the same directory and renamed into place
(:func:`os.replace` is atomic on POSIX), and a chunk's ``runs`` part is written last: it is
the marker that the chunk is complete. On resume, ``steps``/``nations`` parts without their
``runs`` part and stray temporary files are removed and those runs are run again.

Several processes may fill one directory at once (``sweep --shard I/N`` in a job array):
each cleans up only the chunks it owns, and ``provenance.json`` is updated under an
exclusive ``flock`` on ``DIR/.lock``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from adoption_model import __version__
from adoption_model.errors import InputError
from adoption_model.experiments.spec import Experiment, load_experiment
from adoption_model.fileio import atomic_text, atomic_write

PART = "part-{:05d}.parquet"
#: The key of the provenance in every Parquet file's schema metadata.
META_KEY = b"adoption_model.provenance"
PARTS = ("steps", "nations", "adoptions", "runs")  # runs last: the chunk's commit marker


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def write_parquet(path: str | Path, frame: pd.DataFrame, provenance: dict[str, Any]) -> None:
    """Write ``frame`` to ``path`` atomically with ``provenance`` in its schema metadata.

    The package and its version are added; the rest (experiment or scenario digests, seeds)
    is the caller's. Read it back with :func:`read_provenance`, with pandas as
    ``pd.read_parquet(path).attrs["provenance"]`` or with pyarrow as
    ``json.loads(pyarrow.parquet.read_schema(path).metadata[META_KEY])``. The one writer of
    the Parquet files of the store, the runner and compare.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {"package": "adoption-model", "version": __version__, **provenance}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    text = json.dumps(meta).encode()
    # PANDAS_ATTRS is where pandas (>= 2.1) keeps DataFrame.attrs in a Parquet file: it
    # restores them on read, so pd.read_parquet(path).attrs["provenance"] is the same record
    attrs = json.dumps({**frame.attrs, "provenance": meta}).encode()
    schema_meta = {**(table.schema.metadata or {}), META_KEY: text, b"PANDAS_ATTRS": attrs}
    table = table.replace_schema_metadata(schema_meta)
    atomic_write(Path(path), lambda p: pq.write_table(table, p))


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance a Parquet file carries in its schema metadata (empty if none)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    return json.loads(raw) if raw else {}


class ResultStore:
    """A results directory bound to one experiment (refuses any other).

    Parameters
    ----------
    directory : path
        Created if missing. An existing directory must hold the same experiment (same
        hash) or be empty.
    experiment : Experiment
        The resolved experiment.
    """

    def __init__(self, directory: str | Path, experiment: Experiment) -> None:
        self.dir = Path(directory)
        self.experiment = experiment
        self.hash = experiment.digest()
        self.chunk_runs = experiment.store.chunk_runs
        self.provenance = {
            "experiment": experiment.name,
            "experiment_digest": self.hash,
            "seed": experiment.seed,
            "replications": experiment.replications,
            "seeds": "replicate_seeds(seed, replications); each run's in the seed column",
            "scenario_digests": [sc.digest() for sc in experiment.base_scenarios()],
        }

    # -- opening ------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse a directory that holds another experiment or unrelated files."""
        if not self.dir.exists():
            return
        if not self.dir.is_dir():
            raise InputError(f"{self.dir}: exists and is not a directory; choose another --out")
        prov = self.dir / "provenance.json"
        if prov.exists():
            try:
                stored = json.loads(prov.read_text(encoding="utf-8")).get("experiment_hash")
            except (OSError, ValueError):
                stored = None
            if stored != self.hash:
                raise InputError(
                    f"{self.dir}: holds results of a different experiment (hash {stored}, this "
                    f"file {self.hash}); use another --out or delete the directory"
                )
        elif any(p.name != ".lock" for p in self.dir.iterdir()):
            raise InputError(
                f"{self.dir}: exists, is not empty and is not an experiment results directory; "
                "choose another --out"
            )

    def open(
        self, session: dict[str, Any] | None = None, chunks: Iterable[int] | None = None
    ) -> set[int]:
        """Create or reopen the directory; return the chunks already complete.

        With ``chunks`` (a shard's share) only those chunks' leftovers are cleaned up, so
        other processes writing other chunks of the same directory are not disturbed.
        """

        if not (self.dir / ".lock").exists():  # else another process may be creating it
            self.check()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.dir}: cannot create the output directory ({exc})") from None
        with _locked(self.dir):  # shards starting together see one consistent directory
            self.check()
            for part in PARTS:
                (self.dir / part).mkdir(exist_ok=True)
            done = self._clean(chunks)
            self._open_session(session)
        return done

    def _clean(self, chunks: Iterable[int] | None) -> set[int]:
        owned = None if chunks is None else set(chunks)
        for tmp in self.dir.rglob(".*.tmp"):
            k = _chunk_of(tmp.name.lstrip("."))
            if owned is None or k in owned:
                tmp.unlink(missing_ok=True)
        done = self.completed_chunks()
        for part in PARTS[:-1]:
            for f in (self.dir / part).glob("part-*.parquet"):
                k = _chunk_of(f.name)
                if k not in done and (owned is None or k in owned):
                    f.unlink(missing_ok=True)
        return done

    def _open_session(self, session: dict[str, Any] | None) -> None:
        from adoption_model.runner import provenance_record

        prov_path = self.dir / "provenance.json"
        if prov_path.exists():
            prov = json.loads(prov_path.read_text(encoding="utf-8"))
        else:
            prov = provenance_record(
                experiment=self.experiment.name,
                experiment_hash=self.hash,
                experiment_seed=self.experiment.seed,
                created=_now(),
                sessions=[],
            )
            atomic_text(self.dir / "experiment.toml", self.experiment.to_toml())
        prov["sessions"].append({"started": _now(), **(session or {})})
        atomic_text(prov_path, json.dumps(prov, indent=2))

    def completed_chunks(self) -> set[int]:
        return {int(f.stem.split("-")[1]) for f in (self.dir / "runs").glob("part-*.parquet")}

    # -- writing ------------------------------------------------------------------------
    def write_chunk(
        self,
        k: int,
        runs: pd.DataFrame,
        steps: pd.DataFrame | None = None,
        nations: pd.DataFrame | None = None,
        adoptions: pd.DataFrame | None = None,
    ) -> None:
        """Write chunk ``k`` (steps, nations, adoptions first, runs last), each atomically."""
        name = PART.format(k)
        frames = {"steps": steps, "nations": nations, "adoptions": adoptions, "runs": runs}
        for part, frame in frames.items():
            if frame is not None:
                meta = {**self.provenance, "part": part, "chunk": k}
                write_parquet(self.dir / part / name, frame, meta)

    def finish(self, session: dict[str, Any] | None = None) -> pd.DataFrame:
        """Write ``runs.parquet`` (all runs sorted by run_id) and close the session."""
        runs = read_parts(self.dir / "runs").sort_values("run_id").reset_index(drop=True)
        write_parquet(self.dir / "runs.parquet", runs, {**self.provenance, "part": "runs"})
        prov_path = self.dir / "provenance.json"
        with _locked(self.dir):
            prov = json.loads(prov_path.read_text(encoding="utf-8"))
            prov["sessions"][-1].update({"finished": _now(), **(session or {})})
            prov["finished"] = prov["sessions"][-1]["finished"]
            prov["runs"] = len(runs)
            prov["failed"] = int((runs["status"] != "ok").sum())
            atomic_text(prov_path, json.dumps(prov, indent=2))
        return runs


def _chunk_of(name: str) -> int | None:
    """The chunk number of ``part-00012.parquet`` (or its temporary file), else None."""
    if not name.startswith("part-"):
        return None
    digits = name[5:].split(".", 1)[0]
    return int(digits) if digits.isdigit() else None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``directory/.lock`` (no-op where flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: one process per directory
        yield
        return
    with open(directory / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_parts(folder: Path) -> pd.DataFrame:
    """Concatenate ``folder/part-*.parquet`` in chunk order (empty frame if none)."""
    files = sorted(Path(folder).glob("part-*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def read_runs(directory: str | Path) -> pd.DataFrame:
    """One row per run: the final ``runs.parquet``, or the chunks written so far."""
    d = Path(directory)
    _require(d)
    if (d / "runs.parquet").exists():
        return pd.read_parquet(d / "runs.parquet")
    runs = read_parts(d / "runs")
    return runs.sort_values("run_id").reset_index(drop=True) if len(runs) else runs


def read_steps(directory: str | Path) -> pd.DataFrame:
    """Per-step aggregates of every stored run, sorted by run_id then step."""
    d = Path(directory)
    _require(d)
    steps = read_parts(d / "steps")
    return steps.sort_values(["run_id", "step"]).reset_index(drop=True) if len(steps) else steps


def read_nations(directory: str | Path) -> pd.DataFrame:
    """Per-nation frames (only stored with ``store.nations = true``)."""
    d = Path(directory)
    _require(d)
    return read_parts(d / "nations")


def read_adoptions(directory: str | Path) -> pd.DataFrame:
    """First adoption and holding per run and nation (only with ``store.adoptions = true``)."""
    d = Path(directory)
    _require(d)
    return read_parts(d / "adoptions")


def read_experiment(directory: str | Path) -> Experiment:
    """The resolved experiment a results directory belongs to."""
    d = Path(directory)
    _require(d)
    return load_experiment(d / "experiment.toml")


def _require(d: Path) -> None:
    if not (d / "experiment.toml").exists():
        raise InputError(
            f"{d}: not an experiment results directory (no experiment.toml); "
            "give the --out directory of adoption-model sweep"
        )
