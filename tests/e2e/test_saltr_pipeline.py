"""SalTR → SalTR-S through the whole pipeline on small configs: train the teacher, distil the student, export
the student at int8 (PTQ on the data, CC gate) and the teacher at fp32 with its in-graph map.

One slow test (the issue's end-to-end check); about 1.5 minutes on two idle cores, lowering dominates.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeav.cli.main import main

pytestmark = pytest.mark.slow

DATA = "synthetic-saliency-images:images=10,observers=4"


def _manifest(folder: Path, suffix: str) -> dict:
    (artifact,) = [p for p in folder.iterdir() if p.name.endswith(suffix)]
    return json.loads((folder / f"{artifact.name}.json").read_text())


def test_train_distill_and_export_both(tmp_path: Path) -> None:
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    assert main(["train", "--model", "saltr", "--config", "small", "--data", DATA, "--steps", "2", "--batch-size", "2",
                 "--out", str(teacher)]) == 0
    assert main(["distill", "--teacher", "saltr", "--teacher-checkpoint", str(teacher / "last.pt"), "--student", "saltr-s",
                 "--student-config", "small", "--data", DATA, "--steps", "2", "--batch-size", "2", "--out", str(student)]) == 0
    int8, fp32 = tmp_path / "int8", tmp_path / "fp32"
    assert main(["export", "--model", "saltr-s", "--config", "small", "--checkpoint", str(student / "student.pt"),
                 "--precision", "int8", "--data", DATA, "--max-drop", "1.0", "--target", "executorch,litert",
                 "--out", str(int8), "--jobs", "1"]) == 0
    for suffix in (".pte", ".tflite"):
        m = _manifest(int8, suffix)
        assert m["precision"] == "int8" and m["parity"]["status"] == "passed"
        assert m["task"] == "saliency" and "cc" in json.dumps(m).lower()
    # the squeeze-excitation gates' hardsigmoids stay inside XNNPACK (ExecuTorch pass float_hardsigmoids)
    assert _manifest(int8, ".pte")["lowering"]["delegation"]["portable_ops"] == 0
    assert main(["export", "--model", "saltr", "--config", "small", "--checkpoint", str(teacher / "last.pt"),
                 "--target", "executorch", "--out", str(fp32)]) == 0
    m = _manifest(fp32, ".pte")
    assert m["parity"]["status"] == "passed" and len(m["artifact_io"]["outputs"]) == 2  # map and (x, y, p) rows
    assert m["lowering"]["delegation"]["portable_ops"] == 0
