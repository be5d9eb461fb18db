"""Bench fixtures: one session export of TinyAV to the three runnable formats, registered in the registry."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgeav import registry


@pytest.fixture
def tiny_registry(monkeypatch: pytest.MonkeyPatch, tiny_av_entry):
    """The registry with TinyAV beside the real models (bench resolves models named in manifests)."""
    registry._load_all()
    monkeypatch.setitem(registry._REGISTRY, tiny_av_entry.name, tiny_av_entry)
    return tiny_av_entry


@pytest.fixture(scope="session")
def tiny_artifacts(tiny_av_entry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """TinyAV exported to .pte, .tflite and .onnx with manifests (slow: real converters)."""
    from export_targets.pipeline import export_model
    from export_targets.request import ExportRequest, ExportSubject

    out = tmp_path_factory.mktemp("bench-dist")
    subject = ExportSubject.from_entry(tiny_av_entry, tiny_av_entry.build(), "small")
    results = export_model(subject, ExportRequest("executorch,litert,onnx", out, "fp32", samples=1, jobs=1))
    return {r.format: r.path for r in results}
