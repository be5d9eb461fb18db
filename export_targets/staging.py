"""All-or-nothing writes into an output directory.

Artifacts and manifests are written into a hidden staging directory inside ``out_dir`` (same file system,
so the final move is an atomic ``os.replace``) and moved into place only by :meth:`Staging.commit`. If
anything fails before that, the staging directory is removed and ``out_dir`` is left as it was (and
removed again if this export created it).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

STAGING_PREFIX = ".edgeav-staging-"


class Staging:
    """Context manager: ``path(name)`` gives where to write, ``commit()`` publishes everything written."""

    def __init__(self, out_dir: Path | str) -> None:
        self.out_dir = Path(out_dir)
        self._created: list[Path] = []
        self._dir: Path | None = None
        self._names: list[str] = []

    def __enter__(self) -> Staging:
        missing = []
        p = self.out_dir.resolve()
        while not p.exists():
            missing.append(p)
            p = p.parent
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._created = missing  # deepest first
        self._dir = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out_dir))
        return self

    def path(self, name: str) -> Path:
        """Where to write ``name`` now; it appears at ``out_dir / name`` after commit."""
        assert self._dir is not None, "use Staging as a context manager"
        if name not in self._names:
            self._names.append(name)
        return self._dir / name

    def commit(self) -> list[Path]:
        """Move every staged entry into ``out_dir`` (replacing same-named ones); returns the final paths."""
        assert self._dir is not None
        final: list[Path] = []
        for name in self._names:
            src, dst = self._dir / name, self.out_dir / name
            if not src.exists():
                continue
            replace_atomically(src, dst)
            final.append(dst)
        return final

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        if exc_type is not None:
            for d in self._created:  # only directories this export made, and only if still empty
                try:
                    d.rmdir()
                except OSError:
                    break


def replace_atomically(src: Path, dst: Path) -> None:
    """``os.replace`` that also works when ``dst`` is an existing directory (e.g. an older .mlpackage)."""
    if dst.is_dir() and not dst.is_symlink():
        trash = dst.with_name(f"{STAGING_PREFIX}old-{dst.name}-{os.getpid()}")
        os.replace(dst, trash)
        try:
            os.replace(src, dst)
        except BaseException:
            os.replace(trash, dst)
            raise
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(src, dst)
