"""Files: sha256 of a file or a directory tree, all-or-nothing writes, and one-line exception text.

Layer 1: everything above (checkpoints, manifests, bench reports, CLI records) hashes and writes through here,
so a crash never leaves half a file and a digest means the same thing everywhere.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

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
