"""Staged writes appear all at once on commit, artifact + manifest as a pair, under a lock on the folder,
and leave nothing behind on failure, on SIGTERM, or after a process that died mid-export."""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edgeav.errors import ExportError, Interrupted
from export_targets import staging as staging_module
from export_targets.staging import COMMIT_MARKER, LOCK_NAME, STAGING_PREFIX, Staging


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
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlpackage"]  # no staging folder, no lock file


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


def _pair(out: Path) -> tuple[str | None, str | None]:
    art, man = out / "m.pte", out / "m.pte.json"
    return (art.read_text() if art.exists() else None, man.read_text() if man.exists() else None)


def test_a_reader_never_sees_an_artifact_beside_another_artifacts_manifest(tmp_path, monkeypatch) -> None:
    (tmp_path / "m.pte").write_text("old")
    (tmp_path / "m.pte.json").write_text("old")
    seen = [_pair(tmp_path)]
    real_replace, real_unlink = os.replace, Path.unlink

    def spy_replace(src, dst):
        real_replace(src, dst)
        seen.append(_pair(tmp_path))

    def spy_unlink(self, missing_ok=False):
        real_unlink(self, missing_ok=missing_ok)
        seen.append(_pair(tmp_path))

    monkeypatch.setattr(staging_module.os, "replace", spy_replace)
    monkeypatch.setattr(Path, "unlink", spy_unlink)
    with Staging(tmp_path) as s:
        s.path("m.pte").write_text("new")  # the artifact is staged first, as the pipeline does
        s.path("m.pte.json").write_text("new")
        s.commit()
    assert seen[-1] == ("new", "new")
    assert set(seen) <= {("old", "old"), ("old", None), ("new", None), ("new", "new")}, seen


def test_two_exports_into_one_folder_each_publish_a_whole_pair(tmp_path: Path) -> None:
    with Staging(tmp_path) as first, Staging(tmp_path) as second:
        for s, text in ((first, "first"), (second, "second")):
            s.path("m.pte").write_text(text)
            s.path("m.pte.json").write_text(text)
        first.commit()
        assert _pair(tmp_path) == ("first", "first")
        second.commit()
    assert _pair(tmp_path) == ("second", "second")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pte", "m.pte.json"]


def _hold_lock(out: Path) -> int:
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242\n")
    return fd


def test_a_held_lock_is_waited_for_then_named_in_one_line(tmp_path: Path) -> None:
    fd = _hold_lock(tmp_path)
    try:
        with pytest.raises(ExportError) as err, Staging(tmp_path, lock_timeout=0.3):
            pass
    finally:
        os.close(fd)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{tmp_path / LOCK_NAME} is held by another export into {tmp_path} (pid 4242)")
    assert msg.endswith(f"delete {tmp_path / LOCK_NAME} if no export is running")
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]  # nothing staged


def test_a_commit_waits_for_the_lock_and_then_publishes(tmp_path: Path) -> None:
    with Staging(tmp_path) as s:
        s.path("m.pte").write_text("new")
        fd = _hold_lock(tmp_path)
        threading.Timer(0.3, os.close, (fd,)).start()  # the other export finishes its commit
        s.commit()
    assert _pair(tmp_path) == ("new", None)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staging_folders_of_dead_processes_are_cleaned_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / f"{STAGING_PREFIX}{_dead_pid()}-abc"
    (dead / "m.pte").parent.mkdir()
    (dead / "m.pte").write_text("a full artifact")
    live = tmp_path / f"{STAGING_PREFIX}{os.getppid()}-def"  # pytest's parent: alive
    live.mkdir()
    with Staging(tmp_path):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]


def test_a_commit_cut_short_by_a_dead_process_is_finished_by_the_next_export(tmp_path: Path) -> None:
    (tmp_path / "m.pte").write_text("old")
    crashed = tmp_path / f"{STAGING_PREFIX}{_dead_pid()}-abc"
    crashed.mkdir()  # it had moved its artifact (and removed the old manifest) when it died
    (crashed / "m.pte.json").write_text("new")
    (crashed / "m.onnx").write_text("new")
    (crashed / COMMIT_MARKER).write_text(json.dumps(["m.pte", "m.pte.json", "m.onnx"]))
    (tmp_path / "m.pte").write_text("new")
    with Staging(tmp_path):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.pte", "m.pte.json"]
    assert _pair(tmp_path) == ("new", "new")


def test_finishing_a_commit_that_had_moved_everything_keeps_the_published_pair(tmp_path: Path) -> None:
    (tmp_path / "m.pte").write_text("new")
    (tmp_path / "m.pte.json").write_text("new")
    crashed = tmp_path / f"{STAGING_PREFIX}{_dead_pid()}-abc"  # died after its last move, before cleaning up
    crashed.mkdir()
    (crashed / COMMIT_MARKER).write_text(json.dumps(["m.pte", "m.pte.json"]))
    with Staging(tmp_path):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pte", "m.pte.json"]


def test_sigterm_while_staging_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    script = (
        "import sys, time\n"
        "from export_targets.staging import Staging\n"
        f"with Staging({str(out)!r}) as s:\n"
        "    s.path('m.pte').write_bytes(b'x' * 1000)\n"
        "    print('staged', flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=Path(__file__).resolve().parents[2])
    assert child.stdout.readline().strip() == "staged"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 1
    assert err.strip().splitlines()[-1].startswith("edgeav.errors.Interrupted: export stopped by SIGTERM")
    assert not out.exists()  # the folder this export created is gone with its staging folder


def test_sigterm_during_the_commit_is_held_until_the_pair_is_published(tmp_path, monkeypatch) -> None:
    real_publish = staging_module.publish

    def publish(*args):
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once, in this (main) thread
        real_publish(*args)

    monkeypatch.setattr(staging_module, "publish", publish)
    with pytest.raises(Interrupted, match="what it wrote there is complete"), Staging(tmp_path) as s:
        s.path("m.pte").write_text("new")
        s.path("m.pte.json").write_text("new")
        s.commit()
    assert _pair(tmp_path) == ("new", "new")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
