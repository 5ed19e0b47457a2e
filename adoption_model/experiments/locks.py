"""Locks of a results store: which live sweep holds which chunks, and the shared files.

A sweep holds an exclusive POSIX record lock (``fcntl.lockf``) on byte ``k`` of
``DIR/.sweep.lock`` for every chunk ``k`` it may write; ``provenance.json`` and the other
shared files are updated under an exclusive ``flock`` on ``DIR/.lock``. Record locks work
across hosts on NFS, vanish with the process however it dies, are not inherited by worker
processes, and let a refused sweep name the holder's PID (``F_GETLK``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from adoption_model.errors import InputError
from adoption_model.fileio import write_failed

#: Lock files: chunk ownership (record locks, one byte per chunk) and shared files (flock).
SWEEP_LOCK, SHARED_LOCK = ".sweep.lock", ".lock"


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``directory/.lock`` for the shared files (no-op where
    flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: one process per directory
        yield
        return
    with open(directory / SHARED_LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ChunkLock:
    """Exclusive POSIX record locks on ``path``, byte ``k`` for chunk ``k``.

    Record locks (``fcntl.lockf``) work across hosts on NFS and let a refused sweep name
    the holder's PID (``F_GETLK``). They belong to the process: they vanish when it dies,
    however it dies, and are not inherited by worker processes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, chunks: list[int], *, wait: bool, directory: Path) -> None:
        try:
            import fcntl
        except ImportError:  # Windows: no locking
            return
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise write_failed(directory, exc, "check the directory's permissions") from None
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        for start, length in _ranges(chunks):
            try:
                fcntl.lockf(self.fd, flags, length, start, os.SEEK_SET)
            except OSError:
                pid = _holder(self.fd, start, length)
                self.release()
                who = f"PID {pid}" if pid else "another process"
                raise InputError(
                    f"{directory}: another sweep ({who}) is writing chunks of this results "
                    "directory; wait for it to finish (or pass --wait), or use another --out"
                ) from None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases every record lock of the file
            self.fd = None


def _ranges(chunks: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted chunk numbers as (start, length) runs of consecutive numbers."""
    start = prev = None
    for k in sorted(chunks):
        if start is None:
            start = prev = k
        elif k == prev + 1:
            prev = k
        else:
            yield start, prev - start + 1
            start = prev = k
    if start is not None:
        yield start, prev - start + 1


def _holder(fd: int, start: int, length: int) -> int | None:
    """The PID holding a conflicting lock on the range (Linux ``F_GETLK``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    import fcntl
    import struct

    query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    except OSError:
        return None
    kind, _, _, _, pid = struct.unpack("hhqqi4x", answer)
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None
