"""Staged writes appear all at once on commit and leave nothing behind on failure."""
from __future__ import annotations

from pathlib import Path

import pytest

from export_targets.staging import Staging


def test_commit_publishes_files_and_directories(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with Staging(out) as s:
        s.path("a.pte").write_bytes(b"x")
        pkg = s.path("m.mlpackage")
        pkg.mkdir()
        (pkg / "Manifest.json").write_text("{}")
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == []
        s.commit()
    assert sorted(p.name for p in out.iterdir()) == ["a.pte", "m.mlpackage"]


def test_commit_replaces_an_existing_package_directory(tmp_path: Path) -> None:
    (tmp_path / "m.mlpackage").mkdir()
    (tmp_path / "m.mlpackage" / "old").write_text("old")
    with Staging(tmp_path) as s:
        s.path("m.mlpackage").mkdir()
        (s.path("m.mlpackage") / "new").write_text("new")
        s.commit()
    assert [p.name for p in (tmp_path / "m.mlpackage").iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlpackage"]


def test_failure_leaves_existing_dir_untouched(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("keep")
    with pytest.raises(RuntimeError), Staging(tmp_path) as s:
        s.path("partial.pte").write_bytes(b"half")
        raise RuntimeError("converter died")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_failure_removes_directories_it_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), Staging(out) as s:
        s.path("x.onnx").write_bytes(b"half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
