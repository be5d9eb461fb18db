"""Where the manifest sits; tool versions as installed."""
from __future__ import annotations

from pathlib import Path

from export_targets.manifest import manifest_path, tool_versions


def test_manifest_sits_beside_the_artifact() -> None:
    assert manifest_path(Path("out/m.mlpackage")) == Path("out/m.mlpackage.json")


def test_tool_versions_list_every_runtime() -> None:
    versions = tool_versions()
    for tool in ("torch", "executorch", "litert-torch", "ai-edge-litert", "coremltools", "onnx", "onnxruntime"):
        assert tool in versions
    assert versions["torch"].startswith("2.13")
