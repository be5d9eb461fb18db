"""edgeav.files: digests of files and package directories, all-or-nothing writes, one-line exception text."""
from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from edgeav.files import digest, one_line, sha256_file, write_atomically, write_json_atomically, write_text_atomically


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
