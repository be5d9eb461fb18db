"""DTFSal → DTFSal-S through the whole pipeline on small configs: train the teacher, distil the student,
export the student at int8 (PTQ on the data) to .pte and .tflite, parity against PyTorch and the CC gate.

One slow test (the issue's end-to-end check for the streaming student: its ``context`` graph input must
stay float in both artifacts); lowering dominates.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeav.cli.main import main

pytestmark = pytest.mark.slow

DATA = "synthetic-saliency:clips=10,frames_per_clip=12,frame_size=64-96,num_categories=3"


def _manifest(folder: Path, suffix: str) -> dict:
    (artifact,) = [p for p in folder.iterdir() if p.name.endswith(suffix)]
    return json.loads((folder / f"{artifact.name}.json").read_text())


def test_train_distill_and_export_the_student_at_int8(tmp_path: Path) -> None:
    teacher, student, out = tmp_path / "teacher", tmp_path / "student", tmp_path / "int8"
    assert main(["train", "--model", "dtfsal", "--config", "small", "--data", DATA, "--steps", "2", "--batch-size", "2",
                 "--out", str(teacher)]) == 0
    assert main(["distill", "--teacher", "dtfsal", "--teacher-config", "small", "--teacher-checkpoint", str(teacher / "last.pt"),
                 "--student", "dtfsal-s", "--student-config", "small", "--data", DATA, "--steps", "2", "--batch-size", "2",
                 "--out", str(student)]) == 0
    assert main(["export", "--model", "dtfsal-s", "--config", "small", "--checkpoint", str(student / "student.pt"),
                 "--precision", "int8", "--data", DATA, "--calibration-batches", "1", "--eval-limit", "8", "--samples", "2",
                 "--max-drop", "1.0", "--target", "executorch,litert", "--out", str(out), "--jobs", "1"]) == 0
    for suffix in (".pte", ".tflite"):
        m = _manifest(out, suffix)
        assert m["precision"] == "int8" and m["parity"]["status"] == "passed"
        assert m["accuracy"]["status"] == "passed" and m["accuracy"]["frames"] == 8
        assert m["artifact_io"]["inputs"] == ["frames", "audio", "context"]
    # The state input is read straight by a quantized cat: it must still be a float32 graph input.
    from export_targets.litert.interpreter import interpreter_class

    interpreter = interpreter_class()[0](model_path=str(next(out.glob("*.tflite"))))
    assert {d["dtype"].__name__ for d in interpreter.get_input_details()} == {"float32"}
