"""Atomic file writes: a crash never leaves a half-written file under its final name.

Every results file (runs, experiments, comparison reports) is written to a temporary file
in the target directory and renamed into place with :func:`os.replace`, which is atomic on
POSIX file systems. Files get the usual permissions for the user's umask (``mkstemp``
would leave them private to the owner).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from adoption_model.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)

#: Largest input file (scenario, experiment) read: far above any real file, and quick to parse.
MAX_INPUT_BYTES = 8 * 1024 * 1024
#: Deepest nesting of tables and lists in an input file.
MAX_NESTING = 32
#: Longest path and path component accepted for outputs (POSIX PATH_MAX and NAME_MAX).
MAX_PATH, MAX_NAME = 4096, 255
_BOM = b"\xef\xbb\xbf"


def read_user_text(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """Read a user's text file: a regular file of bounded size in UTF-8 (BOM allowed).

    Anything else is a one-line InputError naming the file: a missing file, a directory,
    a FIFO or device (refused before opening, so nothing blocks), a file over
    ``max_bytes``, or bytes that are not UTF-8 (with the byte offset).
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a directory; give a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a pipe or device); give a file")
    if info.st_size > max_bytes:
        raise InputError(
            f"{path}: {info.st_size:,} bytes is larger than the {max_bytes:,} an input file "
            "may have"
        )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the stat
                raise InputError(f"{path}: not a regular file; give a file")
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: larger than the {max_bytes:,} bytes an input file may have")
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{data[skip + exc.start]:02x} at offset "
            f"{skip + exc.start}); save the file as UTF-8"
        ) from None


def check_nesting(data: object, source: str, limit: int = MAX_NESTING) -> None:
    """Refuse tables and lists nested deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise InputError(f"{source}: nested more than {limit} levels deep; flatten it")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def check_path(path: str | Path, flag: str = "--out") -> Path:
    """Refuse a path the file system cannot hold (too long, NUL bytes) with one line."""
    text = os.fspath(path)
    if "\0" in text:
        raise InputError(f"{flag}: the path contains a NUL byte")
    if len(os.fsencode(text)) > MAX_PATH:
        raise InputError(f"{flag}: the path is longer than {MAX_PATH} bytes; choose a shorter one")
    for part in Path(text).parts:
        if len(os.fsencode(part)) > MAX_NAME:
            raise InputError(
                f"{flag}: the path component {part[:30]!r}... is longer than {MAX_NAME} bytes; "
                "choose a shorter name"
            )
    return Path(text)


def check_inside(path: str | Path, root: str | Path, what: str) -> Path:
    """Refuse ``path`` unless it resolves inside ``root`` (for default result directories)."""
    target, base = Path(path).resolve(), Path(root).resolve()
    if target != base and base not in target.parents:
        raise InputError(f"{what}: {path} would be written outside {root}/; give --out")
    return Path(path)


def check_output_dir(path: str | Path) -> Path:
    """Refuse an output path that exists and is not a directory (one-line InputError)."""
    out = check_path(path)
    try:
        exists, is_dir = out.exists(), out.is_dir()
    except OSError as exc:
        raise InputError(f"--out {out}: cannot be used ({exc.strerror})") from None
    if exists and not is_dir:
        raise InputError(f"--out {out}: exists and is not a directory; choose another path")
    return out


def make_output_dir(path: str | Path) -> Path:
    """Create an output directory (and its parents); failures are one-line InputErrors."""
    out = check_output_dir(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    return out


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def sha256_file(path: str | Path) -> tuple[str, int]:
    """The SHA-256 hex digest and the size in bytes of a file (read in 1 MiB blocks)."""
    import hashlib

    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def write_failed(target: str | Path, exc: OSError, fix: str) -> InputError:
    """A one-line InputError for a write that failed (disk full, read-only, quota ...)."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    why = exc.strerror or str(exc) or type(exc).__name__
    return InputError(f"{target}: cannot write the results: {why}{where}; {fix}".replace("\n", " "))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2(RENAME_EXCHANGE)``; False if unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # old kernel or a file system without it: the two-rename fallback
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def atomic_dir(
    target: str | Path, owned: Iterable[str] | None = None, fix: str = "free some space"
) -> Iterator[Path]:
    """Write a result directory as a whole: yield a temporary directory beside ``target``,
    then put it in place of ``target``, replacing a previous one only once the new one is
    complete.

    A failure inside the block (an exception, a full disk) removes the temporary directory
    and leaves ``target`` as it was; an ``OSError`` becomes a one-line :class:`InputError`
    naming ``target`` and ending with ``fix``. Entries of a previous ``target`` that are not
    in ``owned`` (the names this writer produces; default: every name the new directory
    holds) are kept: they are moved into the new directory (a compare's ``store``, a user's
    notes). The swap is one ``renameat2(RENAME_EXCHANGE)`` on Linux, two renames elsewhere.
    """
    import shutil

    target = check_output_dir(target)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
        os.chmod(tmp, 0o777 & ~_UMASK)
    except OSError as exc:
        raise write_failed(target, exc, fix) from None
    swapped = False
    try:
        yield tmp
        names = set(owned) if owned is not None else {p.name for p in tmp.iterdir()}
        if not target.exists():
            os.replace(tmp, target)
            return
        if _exchange(tmp, target):
            swapped, old, trash = True, tmp, tmp  # the previous result, under the temporary name
        else:
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            old = trash / "previous"
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except OSError:
                os.replace(old, target)  # put the previous result back
                raise
            swapped = True
        for entry in list(old.iterdir()):
            if entry.name not in names and not (target / entry.name).exists():
                os.replace(entry, target / entry.name)
        shutil.rmtree(trash, ignore_errors=True)
    except OSError as exc:
        if not swapped:  # else the new result is in place and the old one keeps what is left
            shutil.rmtree(tmp, ignore_errors=True)
        raise write_failed(target, exc, fix) from None
    except BaseException:
        if not swapped:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
