"""Files: sha256 of a file or a directory tree, all-or-nothing writes, one-line exception text, and OS errors
(permission, read-only, disk full) as one line that names the path and the fix.

Layer 1: everything above (checkpoints, manifests, bench reports, CLI records) hashes and writes through here,
so a crash never leaves half a file and a digest means the same thing everywhere.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from edgeav.errors import StorageError

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of one file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def digest(path: str | Path) -> tuple[str, int]:
    """sha256 and size in bytes of a file, or of a directory (e.g. an .mlpackage) as a tree.

    A tree's digest hashes, in sorted order, each file's relative POSIX path, a NUL, its sha256 and a newline,
    so it does not depend on the order the file system lists entries in.
    """
    path = Path(path)
    if path.is_file():
        return sha256_file(path), path.stat().st_size
    tree = hashlib.sha256()
    size = 0
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        sha, n = digest(f)
        size += n
        tree.update(f"{f.relative_to(path).as_posix()}\0{sha}\n".encode())
    return tree.hexdigest(), size


def size_of(path: str | Path) -> int:
    """Bytes of a file, or of every file under a directory (e.g. an .mlpackage)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def write_atomically(path: str | Path, write: Callable[[BinaryIO], Any]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on one file system: a reader sees the old file or the whole new one, never half.
    Parent directories are created; the file is world-readable (mkstemp alone makes 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing."""
    return write_atomically(path, lambda f: f.write(data))


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` all or nothing."""
    return write_bytes_atomically(path, text.encode("utf-8"))


def write_json_atomically(path: str | Path, payload: Any, *, indent: int | None = 2, **dumps: Any) -> Path:
    """Write ``payload`` as JSON with a trailing newline, all or nothing (``dumps`` go to ``json.dumps``)."""
    return write_text_atomically(path, json.dumps(payload, indent=indent, **dumps) + "\n")


def one_line(exc: BaseException, limit: int = 240) -> str:
    """``Type: first line of the message``, shortened: converter errors span pages, ours span one line."""
    text = str(exc).strip()
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if len(first) > limit:
        first = first[: limit - 3] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# errno -> (what happened, the fix; {flag} is the option that chose the path). Only errors a user can act on:
# anything else is a bug or a converter's problem and keeps its own message.
_OS_PROBLEMS: dict[int, tuple[str, str]] = {
    errno.EACCES: ("permission denied", "fix its permissions or choose another {flag}"),
    errno.EPERM: ("operation not permitted", "fix its permissions or choose another {flag}"),
    errno.EROFS: ("read-only file system", "choose a writable {flag}"),
    errno.ENOSPC: ("no space left on the device", "free space there or choose another {flag}"),
    errno.EDQUOT: ("disk quota exceeded", "free space there or choose another {flag}"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose another {flag}"),
    errno.EISDIR: ("is a folder where a file was expected", "choose another {flag}"),
    errno.ENAMETOOLONG: ("file name too long", "choose a shorter {flag}"),
}
# How converters that wrap an OSError in their own exception spell these (C++ messages, e.g. flatbuffer writers).
_OS_TEXT = {os.strerror(code): code for code in _OS_PROBLEMS}


def storage_problem(exc: BaseException) -> int | None:
    """The errno of a storage problem behind ``exc`` (itself, its causes, or its text), or None."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _OS_PROBLEMS:
            return e.errno
        text = str(e)
        for phrase, code in _OS_TEXT.items():
            if phrase in text:
                return code
        e = e.__cause__ or e.__context__
    return None


def os_error_message(exc: BaseException, path: str | Path, flag: str = "--out") -> str | None:
    """One line naming ``path`` (and the file that failed, when it is another), what happened and the fix;
    None when ``exc`` is no storage problem (see :func:`storage_problem`)."""
    code = storage_problem(exc)
    if code is None:
        return None
    what, fix = _OS_PROBLEMS[code]
    failed = getattr(exc, "filename", None)
    at = f" (writing {failed})" if failed and Path(failed) != Path(path) else ""
    return f"{path}: {what}{at}; {fix.format(flag=flag)}"


@contextlib.contextmanager
def storage_errors(path: str | Path, flag: str = "--out") -> Iterator[None]:
    """Within the block, an OSError that is a storage problem becomes a one-line StorageError naming ``path``."""
    try:
        yield
    except OSError as exc:
        message = os_error_message(exc, path, flag)
        if message is None:
            raise
        raise StorageError(message) from exc


def check_writable_dir(path: str | Path, flag: str = "--out") -> None:
    """StorageError unless ``path`` could be created and written, without creating it (the probe goes into its
    nearest existing folder and is removed): a check before long work whose failure should leave nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StorageError(f"{path}: is a file, not a folder; choose another {flag}")
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise StorageError(f"{path}: {existing} is a file, not a folder; choose another {flag}")
    with storage_errors(path, flag):
        fd, probe = tempfile.mkstemp(prefix=".edgeav-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)


def ensure_writable_dir(path: str | Path, flag: str = "--out") -> Path:
    """Create ``path`` (and parents) if needed and prove a file can be written in it; StorageError otherwise.

    Done before long work (a benchmark, an export) so its results are not lost to an unwritable folder at the end.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StorageError(f"{path}: is a file, not a folder; choose another {flag}")
    with storage_errors(path, flag):
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".edgeav-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    return path
