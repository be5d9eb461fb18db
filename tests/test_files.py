"""edgeav.files: digests of files and package directories, all-or-nothing writes, one-line exception text."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from edgeav.errors import StorageError
from edgeav.files import (
    check_writable_dir,
    digest,
    ensure_writable_dir,
    one_line,
    os_error_message,
    sha256_file,
    storage_errors,
    storage_problem,
    write_atomically,
    write_json_atomically,
    write_text_atomically,
)


def test_file_digest_is_plain_sha256(tmp_path: Path) -> None:
    f = tmp_path / "m.pte"
    f.write_bytes(b"abc" * 1000)
    assert digest(f) == (hashlib.sha256(b"abc" * 1000).hexdigest(), 3000)
    assert sha256_file(f) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_directory_digest_depends_on_names_and_contents(tmp_path: Path) -> None:
    pkg = tmp_path / "m.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "w.bin").write_bytes(b"w")
    (pkg / "Manifest.json").write_text("{}")
    sha, size = digest(pkg)
    assert size == 3
    (pkg / "Data" / "w.bin").write_bytes(b"v")
    assert digest(pkg)[0] != sha
    (pkg / "Data" / "w.bin").rename(pkg / "Data" / "x.bin")
    assert digest(pkg)[0] not in (sha, digest(pkg / "Data" / "x.bin")[0])


def test_json_write_is_readable_by_anyone_and_ends_with_a_newline(tmp_path: Path) -> None:
    path = write_json_atomically(tmp_path / "new" / "r.json", {"b": 1.5})
    assert path.read_text().endswith("}\n") and json.loads(path.read_text()) == {"b": 1.5}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = write_text_atomically(tmp_path / "r.txt", "old")

    def crash(f) -> None:
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(path, crash)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.txt"]


def test_nan_is_refused_when_asked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_json_atomically(tmp_path / "m.json", {"x": float("nan")}, allow_nan=False)
    assert not (tmp_path / "m.json").exists()


def test_one_line_keeps_the_type_and_the_first_non_empty_line() -> None:
    assert one_line(ValueError("\n  first  \nsecond")) == "ValueError: first"
    assert one_line(KeyError()) == "KeyError"
    assert one_line(RuntimeError("x" * 500), limit=10) == "RuntimeError: xxxxxxx..."


@pytest.mark.parametrize(("code", "what", "fix"), [
    (errno.EACCES, "permission denied", "fix its permissions or choose another --out"),
    (errno.EROFS, "read-only file system", "choose a writable --out"),
    (errno.ENOSPC, "no space left on the device", "free space there or choose another --out"),
])
def test_os_errors_become_one_line_naming_the_path_and_the_fix(tmp_path: Path, code, what, fix) -> None:
    def write() -> None:
        raise OSError(code, os.strerror(code), str(tmp_path / "dist" / "m.pte"))

    with pytest.raises(StorageError) as err, storage_errors(tmp_path / "dist"):
        write()
    assert str(err.value) == f"{tmp_path / 'dist'}: {what} (writing {tmp_path / 'dist' / 'm.pte'}); {fix}"


def test_a_converter_wrapping_disk_full_in_its_own_exception_is_still_disk_full() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as inner:
            raise RuntimeError("serialize failed") from inner
    except RuntimeError as exc:
        assert storage_problem(exc) == errno.ENOSPC
    assert storage_problem(RuntimeError("write(): No space left on device")) == errno.ENOSPC
    assert storage_problem(RuntimeError("Lowering not found: aten.foo")) is None
    assert os_error_message(ValueError("bad shape"), "dist") is None


def test_other_os_errors_keep_their_own_message(tmp_path: Path) -> None:
    with pytest.raises(ConnectionResetError), storage_errors(tmp_path):
        raise ConnectionResetError(errno.ECONNRESET, "reset")


def test_ensure_writable_dir_creates_it_and_refuses_files_and_unwritable_folders(tmp_path, monkeypatch) -> None:
    assert ensure_writable_dir(tmp_path / "a" / "b", "--out").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []  # the probe is gone
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match=r"f: is a file, not a folder; choose another --out$"):
        ensure_writable_dir(tmp_path / "f")

    def refuse(*args, **kwargs):  # tests run as root, which chmod cannot stop: the OS's answer, simulated
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "ro"))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(StorageError, match=r"ro: permission denied; fix its permissions or choose another --log-dir$"):
        ensure_writable_dir(tmp_path / "ro", "--log-dir")


def test_check_writable_dir_probes_without_creating(tmp_path, monkeypatch) -> None:
    check_writable_dir(tmp_path / "new" / "dist")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor the probe
    (tmp_path / "f").write_text("x")
    with pytest.raises(StorageError, match=r"is a file, not a folder; choose another --out$"):
        check_writable_dir(tmp_path / "f" / "dist")

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir"))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(StorageError, match=rf"^{tmp_path / 'new'}: read-only file system \(writing {tmp_path}\); "
                                           r"choose a writable --out$"):
        check_writable_dir(tmp_path / "new")
