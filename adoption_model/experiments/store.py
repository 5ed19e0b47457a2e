"""The results store: one directory per experiment, written in chunks that verify.

Layout::

    DIR/experiment.toml        the resolved experiment (base scenario expanded to every key)
    DIR/provenance.json        versions, git commit, experiment seed and hash, host, sessions
    DIR/runs/part-00000.parquet    runs 0..C-1 (C = store.chunk_runs), one row per run
    DIR/steps/part-00000.parquet   per-step model frame of the same runs (run_id, step, ...)
    DIR/nations/part-00000.parquet per-nation frames, only with store.nations = true
    DIR/adoptions/part-00000.parquet first adoption and holding per run and nation, only
                               with store.adoptions = true
    DIR/manifests/part-00000.json  the chunk's manifest: run ids, failed run ids, and the
                               rows, bytes and SHA-256 of each of its part files
    DIR/runs.parquet           every run sorted by run_id, written when the sweep completes
                               (its SHA-256 in provenance.json)

Chunk ``k`` holds runs ``k*C .. (k+1)*C-1`` whatever the backend or the order runs finish
in, so an interrupted and resumed sweep writes the same files as an uninterrupted one. Each
file is written under a temporary name in the same directory and renamed into place
(:func:`os.replace` is atomic on POSIX); a chunk's manifest is written last and is its
commit marker. Readers read only the files a manifest lists, after checking their
checksums, so a stray, damaged or replaced file is never read as data.

On resume every chunk of the design is checked against its manifest (run ids of the
design, files present, sizes and checksums); a chunk that fails is run again and every file
rejected is named in one warning line. With ``retry_failed`` the failed runs of complete
chunks are run again too (the chunk's other runs are kept). Files outside the design are
named and ignored. Nothing is deleted that another live process may own: a sweep holds an
exclusive POSIX record lock (``fcntl``) on byte ``k`` of ``DIR/.sweep.lock`` for every chunk
``k`` it may write, and cleans up leftovers only of those chunks; a second sweep on the same
chunks waits (``wait=True``) or refuses with the holder's PID. Shared files
(``provenance.json``) are updated under an exclusive ``flock`` on ``DIR/.lock``.
A missing or unreadable ``provenance.json`` is rebuilt, with a warning, when
``experiment.toml`` (or a chunk manifest) shows the directory holds this experiment.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from adoption_model import __version__
from adoption_model.errors import InputError
from adoption_model.experiments.locks import SHARED_LOCK, SWEEP_LOCK, ChunkLock, locked
from adoption_model.experiments.manifest import (
    MANIFEST,
    MANIFEST_VERSION,
    MANIFESTS,
    PART,
    PART_NAME,
    PARTS,
    StoreWarning,
    check_entry,
    load_manifest,
    manifests,
    note,
    read_part,
)
from adoption_model.experiments.spec import Experiment, load_experiment
from adoption_model.fileio import atomic_text, atomic_write, sha256_file, write_failed

__all__ = [
    "META_KEY", "PARTS", "ResultStore", "StoreWarning", "read_adoptions", "read_experiment",
    "read_nations", "read_parts", "read_provenance", "read_runs", "read_steps", "write_parquet",
]  # fmt: skip

#: The key of the provenance in every Parquet file's schema metadata.
META_KEY = b"adoption_model.provenance"
#: Folders of the store (created on open): the parts and the manifests.
FOLDERS = (*PARTS, MANIFESTS)
_TMP_NAME = re.compile(r"^\.part-(\d+)\.(parquet|json)\..*\.tmp$")


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
    retry_failed : bool
        On open, treat the failed runs of complete chunks as still to do.
    wait : bool
        Wait for another sweep that holds some of this sweep's chunks instead of refusing.
    """

    def __init__(
        self,
        directory: str | Path,
        experiment: Experiment,
        *,
        retry_failed: bool = False,
        wait: bool = False,
    ) -> None:
        self.dir = Path(directory)
        self.experiment = experiment
        self.hash = experiment.digest()
        self.chunk_runs = experiment.store.chunk_runs
        self.retry_failed = retry_failed
        self.wait = wait
        self.provenance = {
            "experiment": experiment.name,
            "experiment_digest": self.hash,
            "seed": experiment.seed,
            "replications": experiment.replications,
            "seeds": "replicate_seeds(seed, replications); each run's in the seed column",
            "scenario_digests": [sc.digest() for sc in experiment.base_scenarios()],
        }
        self.n_runs: int | None = None
        self._lock: ChunkLock | None = None
        #: chunk -> run ids still to run in it (a whole chunk, or its failed runs)
        self.pending: dict[int, list[int]] = {}
        #: chunk -> its valid manifest, for chunks whose failed runs are run again
        self._keep: dict[int, dict[str, Any]] = {}

    # -- opening ------------------------------------------------------------------------
    def _stored_hash(self) -> str | None:
        """The experiment hash the directory says it holds; None if it cannot tell.

        ``provenance.json`` first; if it is missing or unreadable, ``experiment.toml`` (or a
        chunk manifest), and then provenance is rebuilt on open.
        """
        try:
            stored = json.loads((self.dir / "provenance.json").read_text(encoding="utf-8"))
            if isinstance(stored, dict) and isinstance(stored.get("experiment_hash"), str):
                return stored["experiment_hash"]
        except (OSError, ValueError):
            pass
        try:
            return load_experiment(self.dir / "experiment.toml").digest()
        except (InputError, OSError, ValueError):
            pass
        for path in sorted((self.dir / MANIFESTS).glob("part-*.json"))[:1]:
            manifest = load_manifest(path)
            if isinstance(manifest, dict):
                return manifest.get("experiment_digest")
        return None

    def check(self) -> None:
        """Refuse a directory that holds another experiment or unrelated files."""
        if not self.dir.exists():
            return
        if not self.dir.is_dir():
            raise InputError(f"{self.dir}: exists and is not a directory; choose another --out")
        stored = self._stored_hash()
        if stored is not None and stored != self.hash:
            raise InputError(
                f"{self.dir}: holds results of a different experiment (hash {stored}, this "
                f"file {self.hash}); use another --out or delete the directory"
            )
        if stored is None and not _only_skeleton(self.dir):
            raise InputError(
                f"{self.dir}: exists, is not empty and is not an experiment results directory "
                "(no readable provenance.json, experiment.toml or chunk manifest); choose "
                "another --out"
            )

    def open(
        self,
        session: dict[str, Any] | None = None,
        chunks: Iterable[int] | None = None,
        n_runs: int | None = None,
    ) -> set[int]:
        """Create or reopen the directory, lock the chunks this sweep may write, check every
        one against its manifest and return those complete (nothing left to run).

        ``chunks`` (default: every chunk of the design) is the share of this process (a
        shard); ``n_runs`` the design's number of runs (computed if not given). Chunks not
        returned have their runs still to do in :attr:`pending`.
        """
        if n_runs is None:
            from adoption_model.experiments.design import run_table

            n_runs = len(run_table(self.experiment))
        self.n_runs = n_runs
        n_chunks = -(-n_runs // self.chunk_runs)
        owned = sorted(set(range(n_chunks) if chunks is None else chunks))
        self.check()
        fix = "free some space or choose another --out, then run the same sweep again"
        try:
            for folder in FOLDERS:
                (self.dir / folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_failed(self.dir, exc, fix) from None
        self._lock = ChunkLock(self.dir / SWEEP_LOCK)
        self._lock.acquire(owned, wait=self.wait, directory=self.dir)
        try:
            with locked(self.dir):
                self.check()  # another process may have created it meanwhile
                self._clean(owned, whole=chunks is None)
                self._open_session(session)
        except OSError as exc:
            self.close()
            raise write_failed(self.dir, exc, fix) from None
        except BaseException:
            self.close()
            raise
        done: set[int] = set()
        for k in owned:
            manifest = self.verify_chunk(k)
            ids = list(self.chunk_ids(k))
            if manifest is None:
                self.pending[k] = ids
            elif self.retry_failed and manifest["failed"]:
                self.pending[k] = sorted(manifest["failed"])
                self._keep[k] = manifest
            else:
                done.add(k)
        self._name_strays(n_chunks)
        return done

    def close(self) -> None:
        """Release this sweep's chunk locks."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def chunk_ids(self, k: int) -> range:
        """The run ids of chunk ``k`` in the design."""
        if self.n_runs is None:
            raise RuntimeError("open the store first")
        return range(k * self.chunk_runs, min((k + 1) * self.chunk_runs, self.n_runs))

    def _clean(self, owned: list[int], whole: bool) -> None:
        """Remove temporary files of the chunks this sweep holds (their writers are gone),
        and, under the shared lock, those of the shared files."""
        mine = set(owned)
        for folder in FOLDERS:
            for tmp in (self.dir / folder).glob(".part-*.tmp"):
                m = _TMP_NAME.match(tmp.name)
                if m and int(m.group(1)) in mine:
                    tmp.unlink(missing_ok=True)
        shared = ["provenance.json", "experiment.toml"] + (["runs.parquet"] if whole else [])
        for name in shared:
            for tmp in self.dir.glob(f".{name}.*.tmp"):
                tmp.unlink(missing_ok=True)

    def _open_session(self, session: dict[str, Any] | None) -> None:
        from adoption_model.provenance import provenance_record

        prov_path = self.dir / "provenance.json"
        exp_path = self.dir / "experiment.toml"
        prov: Any = None
        existed = exp_path.exists() or any((self.dir / MANIFESTS).glob("part-*.json"))
        if prov_path.exists():
            try:
                prov = json.loads(prov_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                prov = None
            if not (isinstance(prov, dict) and isinstance(prov.get("sessions"), list)):
                prov = None
        try:
            exp_ok = load_experiment(exp_path).digest() == self.hash
        except (InputError, OSError, ValueError):
            exp_ok = False
        if not exp_ok:
            if exp_path.exists():
                note(f"{exp_path}: missing or unreadable; rewritten from the experiment file")
            atomic_text(exp_path, self.experiment.to_toml())
        if prov is None:
            if prov_path.exists() or existed:
                note(
                    f"{prov_path}: missing or unreadable; rebuilt from {exp_path.name} (same "
                    f"experiment, digest {self.hash[:12]})"
                )
            prov = provenance_record(
                experiment=self.experiment.name,
                experiment_hash=self.hash,
                experiment_seed=self.experiment.seed,
                created=_now(),
                sessions=[],
            )
        prov["sessions"].append({"started": _now(), **(session or {})})
        atomic_text(prov_path, json.dumps(prov, indent=2))

    # -- verifying ----------------------------------------------------------------------
    def verify_chunk(self, k: int) -> dict[str, Any] | None:
        """Chunk ``k``'s manifest if the chunk is complete and intact, else None.

        Every file rejected is named in a :class:`StoreWarning` (one line each).
        """
        rel = Path(MANIFESTS) / MANIFEST.format(k)
        path = self.dir / rel
        runs_part = self.dir / "runs" / PART.format(k)
        again = f"chunk {k} runs again"
        if not path.exists():
            if runs_part.exists():
                note(
                    f"{runs_part}: no manifest (an interrupted write, or an older version); {again}"
                )
            return None
        manifest = load_manifest(path)
        if isinstance(manifest, str):
            note(f"{path}: {manifest}; {again}")
            return None
        if manifest["chunk"] != k or manifest["experiment_digest"] != self.hash:
            note(f"{path}: belongs to another chunk or experiment; {again}")
            return None
        if manifest["run_ids"] != list(self.chunk_ids(k)):
            note(f"{path}: run ids are not those of chunk {k} in the design; {again}")
            return None
        for part, entry in manifest["parts"].items():
            problem = check_entry(self.dir, part, k, entry)
            if problem:
                note(f"{self.dir / part / PART.format(k)}: {problem}; {again}")
                return None
        return manifest

    def _name_strays(self, n_chunks: int) -> None:
        """Warn about part files and manifests outside the design (never read)."""
        for folder in FOLDERS:
            for f in sorted((self.dir / folder).glob("part-*")):
                m = PART_NAME.match(f.name)
                if m is None or int(m.group(1)) >= n_chunks:
                    last = f"chunks 0-{n_chunks - 1}" if n_chunks else "no chunks"
                    note(f"{f}: not part of the design ({last}); ignored")

    def completed_chunks(self) -> set[int]:
        """Chunks with a readable manifest of this experiment (not re-checksummed)."""
        done = set()
        for path in (self.dir / MANIFESTS).glob("part-*.json"):
            manifest = load_manifest(path)
            m = PART_NAME.match(path.name)
            if isinstance(manifest, dict) and m and manifest["chunk"] == int(m.group(1)):
                if manifest["experiment_digest"] == self.hash:
                    done.add(manifest["chunk"])
        return done

    # -- writing ------------------------------------------------------------------------
    def write_chunk(
        self,
        k: int,
        runs: pd.DataFrame,
        steps: pd.DataFrame | None = None,
        nations: pd.DataFrame | None = None,
        adoptions: pd.DataFrame | None = None,
    ) -> None:
        """Write chunk ``k``: its manifest is removed, the parts are written (each
        atomically) and the new manifest, listing their checksums, is written last.

        For a chunk whose failed runs were run again, the new rows replace those runs' rows
        and the chunk's other runs are kept.
        """
        name = PART.format(k)
        frames = {"steps": steps, "nations": nations, "adoptions": adoptions, "runs": runs}
        keep = self._keep.pop(k, None)
        if keep is not None:
            frames = self._merge(k, keep, frames)
        fix = "free some space, then run the same sweep again to resume"
        manifest_path = self.dir / MANIFESTS / MANIFEST.format(k)
        try:
            manifest_path.unlink(missing_ok=True)
            entries: dict[str, Any] = {}
            for part, frame in frames.items():
                path = self.dir / part / name
                if frame is None:
                    path.unlink(missing_ok=True)  # a leftover of an earlier attempt
                    continue
                meta = {**self.provenance, "part": part, "chunk": k}
                write_parquet(path, frame, meta)
                sha, size = sha256_file(path)
                entries[part] = {"rows": len(frame), "bytes": size, "sha256": sha}
            failed = frames["runs"].loc[frames["runs"]["status"] != "ok", "run_id"]
            manifest = {
                "version": MANIFEST_VERSION,
                "chunk": k,
                "experiment_digest": self.hash,
                "run_ids": [int(i) for i in frames["runs"]["run_id"]],
                "failed": [int(i) for i in failed],
                "parts": entries,
                "written": _now(),
            }
            atomic_text(manifest_path, json.dumps(manifest, indent=1))
        except OSError as exc:
            raise write_failed(self.dir / "runs" / name, exc, fix) from None

    def _merge(
        self, k: int, keep: dict[str, Any], new: dict[str, pd.DataFrame | None]
    ) -> dict[str, pd.DataFrame | None]:
        """The stored chunk with the rows of the runs in ``new`` replaced by the new ones."""
        redone = set(new["runs"]["run_id"].tolist())
        out: dict[str, pd.DataFrame | None] = {}
        for part, frame in new.items():
            old = None
            if part in keep["parts"]:
                old = read_part(self.dir, part, k, keep["parts"][part])
                old = old[~old["run_id"].isin(redone)]
            pieces = [f for f in (old, frame) if f is not None and len(f)]
            if not pieces:
                out[part] = None
                continue
            merged = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
            out[part] = merged.sort_values("run_id", kind="stable").reset_index(drop=True)
        return out

    def finish(self, session: dict[str, Any] | None = None) -> pd.DataFrame:
        """Write ``runs.parquet`` (all runs sorted by run_id) and close the session."""
        fix = "free some space, then run the same sweep again"
        n_chunks = -(-(self.n_runs or 0) // self.chunk_runs)
        runs = read_parts(self.dir / "runs", range(n_chunks) if self.n_runs else None)
        runs = runs.sort_values("run_id").reset_index(drop=True) if len(runs) else runs
        prov_path = self.dir / "provenance.json"
        try:
            with locked(self.dir):
                path = self.dir / "runs.parquet"
                write_parquet(path, runs, {**self.provenance, "part": "runs"})
                prov = json.loads(prov_path.read_text(encoding="utf-8"))
                prov["sessions"][-1].update({"finished": _now(), **(session or {})})
                prov["finished"] = prov["sessions"][-1]["finished"]
                prov["runs"] = len(runs)
                prov["failed"] = int((runs["status"] != "ok").sum())
                prov["runs_sha256"] = sha256_file(path)[0]
                atomic_text(prov_path, json.dumps(prov, indent=2))
        except OSError as exc:
            raise write_failed(self.dir / "runs.parquet", exc, fix) from None
        return runs


def _only_skeleton(d: Path) -> bool:
    """Whether ``d`` holds nothing but the empty folders and lock files of a store."""
    for p in d.iterdir():
        if p.name in (SWEEP_LOCK, SHARED_LOCK):
            continue
        if p.name in FOLDERS and p.is_dir() and not any(p.iterdir()):
            continue
        if p.name.endswith(".tmp") and p.name.startswith("."):
            continue
        return False
    return True


def read_parts(folder: Path, chunks: Iterable[int] | None = None) -> pd.DataFrame:
    """Concatenate the ``folder/part-*.parquet`` files the store's manifests list, in chunk
    order, each checked against its checksum (empty frame if none); only ``chunks`` if
    given. Files no manifest lists (an interrupted write, a stray copy) are not read."""
    folder = Path(folder)
    d, part = folder.parent, folder.name
    frames = [
        read_part(d, part, k, manifest["parts"][part])
        for k, manifest in sorted(manifests(d, chunks).items())
        if part in manifest["parts"]
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_runs(directory: str | Path) -> pd.DataFrame:
    """One row per run: the final ``runs.parquet`` if its checksum matches the one in
    ``provenance.json``, else the verified chunks written so far."""
    d = Path(directory)
    _require(d)
    final = d / "runs.parquet"
    if final.exists():
        try:
            recorded = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
            recorded = recorded.get("runs_sha256") if isinstance(recorded, dict) else None
        except (OSError, ValueError):
            recorded = None
        if recorded and sha256_file(final)[0] == recorded:
            try:
                return pd.read_parquet(final)
            except Exception:  # noqa: BLE001, S110 - damaged after all: read the chunks
                pass
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
