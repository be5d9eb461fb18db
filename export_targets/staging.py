"""All-or-nothing publishing into an output directory: artifacts and their manifests as a unit.

Everything is written into a hidden staging directory inside ``out_dir`` (``.edgeav-staging-<pid>-<random>``:
same file system, so each move is an atomic ``os.replace``) and published only by :meth:`Staging.commit`:

- under a lock on ``out_dir`` (``.edgeav.lock``, ``flock``): two exports into one folder publish one after
  the other, each as a whole; the second waits for the first (commits are renames: milliseconds);
- a sidecar ``X.json`` (the manifest of ``X``) is published as a pair with ``X``: the old sidecar is removed
  first, then ``X`` replaced, then the new sidecar moved in. A reader sees the old pair, an artifact with no
  manifest (refused: "re-export"), or the new pair, never an artifact beside another artifact's manifest;
  the manifest's sha256, checked when an artifact is opened, guards the rest;
- SIGINT/SIGTERM while staging raise (KeyboardInterrupt / Interrupted) so the staging directory is removed;
  arriving during the commit they are held until it has finished;
- a staging directory left by a process that died (SIGKILL, power loss) is removed by the next export into
  the folder, or, if its commit had begun (its ``.commit.json`` lists what to publish), finished.

If anything fails before the commit, ``out_dir`` is left as it was (and removed again if this export made it).
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType

from edgeav.errors import ExportError, Interrupted
from edgeav.files import storage_errors, write_json_atomically

STAGING_PREFIX = ".edgeav-staging-"
LOCK_NAME = ".edgeav.lock"
COMMIT_MARKER = ".commit.json"  # inside a staging directory: the names its commit publishes, in order
SIDECAR_SUFFIX = ".json"  # X.json beside X is X's manifest: published as a pair with X
_OWNER = re.compile(rf"^{re.escape(STAGING_PREFIX)}(\d+)-")


class Staging:
    """Context manager: ``path(name)`` gives where to write, ``commit()`` publishes everything written."""

    def __init__(self, out_dir: Path | str, lock_timeout: float = 120.0) -> None:
        self.out_dir = Path(out_dir)
        self.lock_timeout = lock_timeout
        self._created: list[Path] = []
        self._dir: Path | None = None
        self._names: list[str] = []
        self._signals = _SignalGuard()

    def __enter__(self) -> Staging:
        missing = []
        p = self.out_dir.resolve()
        while not p.exists():
            missing.append(p)
            p = p.parent
        self._created = missing  # deepest first
        try:
            with storage_errors(self.out_dir):
                self.out_dir.mkdir(parents=True, exist_ok=True)
                with out_dir_lock(self.out_dir, self.lock_timeout):
                    clean_stale_staging(self.out_dir)
                    self._dir = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.out_dir))
        except BaseException:
            self._remove_created()
            raise
        self._signals.install(self.out_dir)
        return self

    def path(self, name: str) -> Path:
        """Where to write ``name`` now; it appears at ``out_dir / name`` after commit."""
        assert self._dir is not None, "use Staging as a context manager"
        if name not in self._names:
            self._names.append(name)
        return self._dir / name

    def commit(self) -> list[Path]:
        """Publish every staged entry into ``out_dir`` (replacing same-named ones); returns the final paths."""
        assert self._dir is not None
        names = [n for n in self._names if (self._dir / n).exists()]
        self._signals.hold()  # released (and a held signal raised) when the context exits
        with storage_errors(self.out_dir), out_dir_lock(self.out_dir, self.lock_timeout):
            write_json_atomically(self._dir / COMMIT_MARKER, names)
            publish(self._dir, self.out_dir, names)
        return [self.out_dir / n for n in names]

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._signals.hold()  # a signal now would cut the cleanup short
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        if exc_type is not None:
            self._remove_created()
        self._signals.restore(raise_pending=exc_type is None)

    def _remove_created(self) -> None:
        for d in self._created:  # only directories this export made, and only if still empty
            try:
                d.rmdir()
            except OSError:
                break


def publish(staging: Path, out_dir: Path, names: list[str]) -> None:
    """Move ``names`` from ``staging`` into ``out_dir``, each sidecar as a pair with its artifact (module doc).

    Idempotent: names already moved (absent from ``staging``) are skipped, so an interrupted commit can be
    finished by running it again.
    """
    staged = set(names)
    for name in names:
        if name.endswith(SIDECAR_SUFFIX) and name.removesuffix(SIDECAR_SUFFIX) in staged:
            continue  # published right after its artifact
        sidecar = name + SIDECAR_SUFFIX
        if sidecar in staged and (staging / name).exists():  # (a finished move leaves the new sidecar alone)
            (out_dir / sidecar).unlink(missing_ok=True)  # no moment where the new artifact has the old manifest
        _move(staging, out_dir, name)
        if sidecar in staged:
            _move(staging, out_dir, sidecar)


def _move(staging: Path, out_dir: Path, name: str) -> None:
    src, dst = staging / name, out_dir / name
    if not src.exists():
        return
    if dst.is_dir() and not dst.is_symlink():  # e.g. an older .mlpackage: os.replace cannot overwrite a folder
        os.replace(dst, staging / f".old-{name}")  # removed with the staging directory
    os.replace(src, dst)


@contextmanager
def out_dir_lock(out_dir: Path, timeout: float) -> Iterator[None]:
    """Hold ``out_dir/.edgeav.lock`` (flock) for the block; wait up to ``timeout`` s, then ExportError naming it.

    The file holds the owner's pid and is removed on release; a lock taken on a file that was removed meanwhile
    is dropped and taken again, so two waiters never both believe they hold it.
    """
    path = out_dir / LOCK_NAME
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if _try_lock(fd) and _same_file(fd, path):
            break
        os.close(fd)
        if time.monotonic() >= deadline:
            raise ExportError(
                f"{path} is held by another export into {out_dir} (pid {_lock_owner(path)}) for over {timeout:g} s; "
                f"wait for it to finish, or delete {path} if no export is running"
            )
        time.sleep(0.05)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP):  # a file system without locks (some NFS): go unlocked
            return True
        raise
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _lock_owner(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


def clean_stale_staging(out_dir: Path) -> list[Path]:
    """Remove the staging directories of processes that no longer run (finishing any commit they had begun).

    Call under :func:`out_dir_lock`. A directory whose owner cannot be told from its name is stale too: every
    staging directory this module makes carries its pid. Returns what was cleaned.
    """
    cleaned = []
    for d in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        owner = _OWNER.match(d.name)
        if not d.is_dir() or (owner is not None and _alive(int(owner.group(1)))):
            continue
        marker = d / COMMIT_MARKER
        if marker.is_file():
            try:
                publish(d, out_dir, list(json.loads(marker.read_text())))
            except (OSError, ValueError, TypeError):
                pass  # a marker cut short: nothing was moved yet (it is written before the first move)
        shutil.rmtree(d, ignore_errors=True)
        cleaned.append(d)
    return cleaned


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class _SignalGuard:
    """SIGINT -> KeyboardInterrupt and SIGTERM -> Interrupted while staging; held back during the commit and the
    cleanup, and raised when the context exits.

    Python runs handlers in the main thread only and can install them only there: elsewhere this does nothing
    (the caller's own handling stays).
    """

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}
        self._holding = False
        self._pending: int | None = None
        self._out = Path(".")

    def install(self, out_dir: Path) -> None:
        self._out = out_dir
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def hold(self) -> None:
        self._holding = True

    def restore(self, raise_pending: bool) -> None:
        for s, old in self._previous.items():
            signal.signal(s, old)  # type: ignore[arg-type]
        self._previous = {}
        if raise_pending and self._pending is not None:
            self._raise(self._pending, published=True)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = signum
            return
        self._raise(signum, published=False)

    def _raise(self, signum: int, published: bool) -> None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        if published:
            raise Interrupted(f"{name} arrived as the export published into {self._out}: what it wrote there is "
                              "complete (artifact + manifest pairs)")
        raise Interrupted(f"export stopped by {name}: nothing half-written is left in {self._out} (its staging "
                          "folder is removed); run the export again")
