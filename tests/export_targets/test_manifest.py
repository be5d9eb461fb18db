"""Digests of files and package directories; tool versions as installed."""
from __future__ import annotations

import hashlib
from pathlib import Path

from export_targets.manifest import artifact_digest, manifest_path, tool_versions


def test_file_digest_is_plain_sha256(tmp_path: Path) -> None:
    f = tmp_path / "m.pte"
    f.write_bytes(b"abc" * 1000)
    assert artifact_digest(f) == (hashlib.sha256(b"abc" * 1000).hexdigest(), 3000)


def test_directory_digest_depends_on_names_and_contents(tmp_path: Path) -> None:
    pkg = tmp_path / "m.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "w.bin").write_bytes(b"w")
    (pkg / "Manifest.json").write_text("{}")
    digest, size = artifact_digest(pkg)
    assert size == 3
    (pkg / "Data" / "w.bin").write_bytes(b"v")
    assert artifact_digest(pkg)[0] != digest


def test_manifest_sits_beside_the_artifact() -> None:
    assert manifest_path(Path("out/m.mlpackage")) == Path("out/m.mlpackage.json")


def test_tool_versions_list_every_runtime() -> None:
    versions = tool_versions()
    for tool in ("torch", "executorch", "litert-torch", "ai-edge-litert", "coremltools", "onnx", "onnxruntime"):
        assert tool in versions
    assert versions["torch"].startswith("2.13")
