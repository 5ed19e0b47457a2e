"""Chunk manifests of a results store: what a chunk holds and how to check it.

``DIR/manifests/part-00000.json`` lists the chunk's run ids, its failed run ids and, for
each of its part files, the rows, bytes and SHA-256; it is written after the parts (the
chunk's commit marker). A part file is read only after it checks against its entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from adoption_model.errors import InputError
from adoption_model.fileio import sha256_file

PART = "part-{:05d}.parquet"
MANIFEST = "part-{:05d}.json"
MANIFESTS = "manifests"
PARTS = ("steps", "nations", "adoptions", "runs")
MANIFEST_VERSION = 1
PART_NAME = re.compile(r"^part-(\d+)\.(parquet|json)$")
RESUME = "run the same sweep again to repair it"


class StoreWarning(UserWarning):
    """A file of a results store was rejected or rebuilt (one line naming it)."""


def note(message: str) -> None:
    """Name a rejected or rebuilt file in one warning line."""
    warnings.warn(message, StoreWarning, stacklevel=3)


def load_manifest(path: Path) -> dict[str, Any] | str:
    """A chunk manifest, or a short description of what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({type(exc).__name__})"
    keys = {"chunk": int, "experiment_digest": str, "run_ids": list, "failed": list}
    if not isinstance(data, dict) or not isinstance(data.get("parts"), dict):
        return "not a chunk manifest"
    for key, kind in keys.items():
        if not isinstance(data.get(key), kind):
            return f"not a chunk manifest (no {key})"
    if "runs" not in data["parts"]:
        return "lists no runs part"
    for entry in data["parts"].values():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("bytes"), int)
        ):
            return "not a chunk manifest (bad part entry)"
    return data


def check_entry(d: Path, part: str, k: int, entry: dict[str, Any]) -> str:
    """What is wrong with a part file against its manifest entry ("" if nothing)."""
    if part not in PARTS:
        return f"unknown part {part!r} in the manifest"
    path = d / part / PART.format(k)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing (listed in its manifest)"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if size != entry["bytes"]:
        return f"{size} bytes, its manifest says {entry['bytes']} (truncated or replaced)"
    try:
        sha = sha256_file(path)[0]
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if sha != entry["sha256"]:
        return "checksum differs from its manifest (damaged or replaced)"
    return ""


def read_part(d: Path, part: str, k: int, entry: dict[str, Any]) -> pd.DataFrame:
    """Read one part file after checking it against its manifest entry (one read)."""
    path = d / part / PART.format(k)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: unreadable ({exc.strerror}); {RESUME}") from None
    if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise InputError(
            f"{path}: damaged or replaced (size or checksum differs from "
            f"{MANIFESTS}/{MANIFEST.format(k)}); {RESUME}"
        )
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise InputError(f"{path}: not a readable Parquet file ({exc}); {RESUME}") from None


def manifests(d: Path, chunks: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """The chunk manifests of a store by chunk (only ``chunks`` if given); a damaged one is
    a one-line InputError, one filed under another chunk's name is named and skipped."""
    wanted = None if chunks is None else set(chunks)
    out = {}
    for path in sorted((d / MANIFESTS).glob("part-*.json")):
        m = PART_NAME.match(path.name)
        if m is None or (wanted is not None and int(m.group(1)) not in wanted):
            continue
        manifest = load_manifest(path)
        if isinstance(manifest, str):
            raise InputError(f"{path}: {manifest}; {RESUME}")
        if manifest["chunk"] != int(m.group(1)):
            note(f"{path}: the manifest of chunk {manifest['chunk']}; ignored")
            continue
        out[manifest["chunk"]] = manifest
    return out
