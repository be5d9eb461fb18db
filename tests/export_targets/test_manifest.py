"""The manifest: where it sits, tool versions, and schema v2 (the apps' contract: golden file, post-processing,
audio window, labels once, validation)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from edgeav.errors import ExportError
from edgeav.registry import get_model_entry
from export_targets.manifest import (
    Manifest,
    manifest_path,
    postprocess_block,
    preprocess_block,
    tool_versions,
    write_manifest,
)
from export_targets.manifest_schema import SCHEMA_PATH, check_manifest, schema_errors, schema_text
from tests.apps import golden


def test_manifest_sits_beside_the_artifact() -> None:
    assert manifest_path(Path("out/m.mlpackage")) == Path("out/m.mlpackage.json")


def test_tool_versions_list_every_runtime() -> None:
    versions = tool_versions()
    for tool in ("torch", "executorch", "litert-torch", "ai-edge-litert", "coremltools", "onnx", "onnxruntime"):
        assert tool in versions
    assert versions["torch"].startswith("2.13")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("manifests")
    golden.manifests(out)
    return out / "manifests"


def _load(root: Path, name: str) -> dict:
    return json.loads((root / name).read_text())


def test_docs_schema_is_the_one_the_exporter_validates_with() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "regenerate docs/manifest.schema.json from export_targets/manifest_schema.py"


def test_the_golden_manifest_file_is_what_build_manifest_writes(fresh: Path) -> None:
    name = "lightavseg_small_fp32.pte.json"
    now, committed = _load(fresh, name), _load(golden.GOLDEN / "manifests", name)
    volatile = {"tools", "version", "runtime", "config"}  # installed versions and a config's defaults may move
    assert {k: v for k, v in now.items() if k not in volatile} == {k: v for k, v in committed.items() if k not in volatile}


def test_postprocessing_is_machine_readable_per_task(fresh: Path) -> None:
    binary = _load(fresh, "lightavseg_small_fp32.tflite.json")
    assert binary["postprocess"] == {"kind": "threshold", "output": "mask", "channel": 0, "value": 0.5}
    semantic = _load(fresh, "lightavseg_small-avss_fp32.pte.json")["postprocess"]
    assert semantic["kind"] == "argmax" and len(semantic["labels"]) == 71 and semantic["labels"][0] == "background"
    saliency = _load(fresh, "saliency-student_golden_fp16.mlpackage.json")["postprocess"]
    assert saliency == {"kind": "saliency", "output": "saliency", "channel": 0, "normalize": "min-max", "colormap": "jet"}


def test_labels_are_written_once(fresh: Path) -> None:
    for path in fresh.iterdir():
        m = json.loads(path.read_text())
        assert "labels" not in m and "labels" not in m["io"], path.name


def test_the_audio_window_and_its_delay_are_recorded() -> None:
    spec = get_model_entry("lightavseg").io_spec(get_model_entry("lightavseg").config("small"))
    centred = preprocess_block(spec)["audio"]
    trailing = preprocess_block(dataclasses.replace(spec, audio_window="trailing"))["audio"]
    assert (centred["window"], centred["video_delay_samples"]) == ("centred", 8000)
    assert (trailing["window"], trailing["video_delay_samples"]) == ("trailing", 0)
    assert preprocess_block(spec)["image"] == {"input": "frames", "layout": "NCHW", "channels": "RGB", "height": 64,
                                               "width": 64, "range": [0.0, 1.0], "crop": "centre", "resize": "bilinear"}


def test_runtime_block_names_the_version_to_link(fresh: Path) -> None:
    m = _load(fresh, "lightavseg_small_fp32.pte.json")
    assert m["runtime"] == {"name": "executorch", "package": "executorch", "version": m["tools"]["executorch"]}


def test_an_invalid_manifest_is_refused_with_the_field(fresh: Path, tmp_path: Path) -> None:
    m = _load(fresh, "lightavseg_small_fp32.pte.json")
    bad = {**m, "preprocess": {**m["preprocess"], "audio": {**m["preprocess"]["audio"], "window": "future"}}}
    with pytest.raises(ExportError, match=r"preprocess\.audio\.window.*not one of"):
        write_manifest(bad, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
    wrong_labels = {**m, "postprocess": {"kind": "argmax", "output": "mask", "axis": 1, "background": 0,
                                         "labels": ["background", "a"]}}
    with pytest.raises(ExportError, match="2 labels for an output of shape"):
        check_manifest(wrong_labels)
    with pytest.raises(ExportError, match="'sha256' is missing"):
        check_manifest({k: v for k, v in m.items() if k != "sha256"})


def test_the_validator_covers_the_keywords_it_claims() -> None:
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "minimum": 1},
              "b": {"oneOf": [{"const": 1}, {"type": "string", "pattern": "^x"}]}, "c": {"type": "array", "minItems": 2}}}
    assert schema_errors({"a": 2, "b": "xy", "c": [1, 2]}, schema) == []
    errors = schema_errors({"a": True, "b": "y", "c": [1]}, schema)
    assert len(errors) == 3 and errors[0].startswith("$.a:")


def test_manifest_is_frozen_and_validates_when_serialised(fresh: Path) -> None:
    fields = {f.name for f in dataclasses.fields(Manifest)}
    m = _load(fresh, "lightavseg_small_fp32.pte.json")
    manifest = Manifest(**{k: v for k, v in m.items() if k in fields})
    assert manifest.to_dict() == m
    with pytest.raises(dataclasses.FrozenInstanceError):
        manifest.task = "saliency"  # type: ignore[misc]
    with pytest.raises(ExportError, match="task"):
        dataclasses.replace(manifest, task="detection").to_dict()
    assert postprocess_block("segmentation", get_model_entry("lightavseg").io_spec(
        get_model_entry("lightavseg").config("small")))["kind"] == "threshold"


def test_recurrent_state_and_image_only_inputs_are_declared(fresh: Path) -> None:
    streaming = _load(fresh, "saliency-student_golden_fp32.pte.json")["preprocess"]
    assert streaming["state"] == [{"input": "state", "from_output": "next_state", "initial": "zeros"}]
    assert streaming["audio"]["samples"] == 16000  # the window is the audio tensor's length, not the frame stride
    assert sorted(_load(fresh, "saliency-image_golden_fp32.tflite.json")["preprocess"]) == ["image"]
