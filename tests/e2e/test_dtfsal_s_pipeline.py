"""DTFSal → DTFSal-S through the pipeline on small configs: train the teacher, distil the student from it,
export the student at int8 to ExecuTorch and LiteRT (PTQ on the data, parity, the CC gate).

One slow test (the issue's end-to-end check for the saliency student): the ``.pte`` must be one XNNPACK
delegate with no portable op, and the ``.tflite``'s streaming state must cross the graph boundary as float32
(``export_targets/litert/recipe.py keep_graph_io_float``)
(its sigmoids on the fixed LOGISTIC grid are unit-tested in tests/quantize). Core ML is left out: macOS only.
88 s on one core (core 1, 1 thread), lowering dominates.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeav.cli.main import main

pytestmark = pytest.mark.slow

DATA = "synthetic-saliency:clips=10,frames_per_clip=12,frame_size=64-96,num_categories=6,observers=4"


def test_train_distill_and_export_the_student_int8(tmp_path: Path) -> None:
    teacher, student, out = tmp_path / "teacher", tmp_path / "student", tmp_path / "int8"
    assert main(["train", "--model", "dtfsal", "--config", "small", "--data", DATA, "--steps", "2", "--batch-size", "2",
                 "--out", str(teacher)]) == 0
    assert main(["distill", "--teacher", "dtfsal", "--teacher-checkpoint", str(teacher / "last.pt"), "--student", "dtfsal-s",
                 "--student-config", "small", "--data", DATA, "--steps", "2", "--batch-size", "2", "--out", str(student)]) == 0
    assert main(["export", "--model", "dtfsal-s", "--config", "small", "--checkpoint", str(student / "student.pt"),
                 "--precision", "int8", "--data", DATA, "--max-drop", "1.0", "--target", "executorch,litert",
                 "--out", str(out), "--jobs", "1"]) == 0
    manifests = {}
    for suffix in (".pte", ".tflite"):
        (artifact,) = out.glob(f"*{suffix}")
        m = manifests[suffix] = json.loads((out / f"{artifact.name}.json").read_text())
        assert m["precision"] == "int8" and m["parity"]["status"] == "passed"
        gate = m["accuracy"]  # the int8 CC gate ran on held-out frames
        assert gate["metric"] == "CC" and gate["status"] == "passed" and gate["frames"] > 0
    delegation = manifests[".pte"]["lowering"]["delegation"]
    assert delegation["delegated_subgraphs"] == 1 and delegation["portable_ops"] == 0
    # verification checked the dtypes: the streaming state crosses the .tflite's boundary as float32
    io = manifests[".tflite"]["artifact_io"]
    assert io["inputs"] == ["frames", "audio", "context"] and io["outputs"] == ["saliency", "next_context"]
