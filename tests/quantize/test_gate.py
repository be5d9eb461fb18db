"""The int8 accuracy gate: direction-aware, in the task's points, with the record the manifest keeps."""
from __future__ import annotations

import dataclasses

import pytest

from edgeav.errors import ExportError
from edgeav.tasks import SALIENCY, SEGMENTATION
from quantize.gate import AccuracyGate, gate_summary

FP32 = {"miou": 0.4671, "fscore": 0.6154, "frames": 40.0}


def test_segmentation_record_keeps_its_fields_in_miou_points() -> None:
    gate = AccuracyGate(SEGMENTATION, max_drop=2.0, data="synthetic-ms3", eval_set=[], fp32_scores=FP32)
    record = gate.judge("executorch", {"miou": 0.4646, "fscore": 0.61, "frames": 40.0})
    assert record["status"] == "passed" and record["metric"] == "mIoU" and record["headline"] == "miou"
    assert record["fp32"] == {"miou": 46.71, "fscore": 61.54} and record["int8"]["miou"] == 46.46
    assert record["drop_points"] == pytest.approx(0.25) and record["frames"] == 40
    assert gate_summary(record) == "mIoU 46.46 vs fp32 46.71 (drop 0.25, passed)"


def test_a_drop_past_max_drop_fails_with_the_fix_unless_forced() -> None:
    gate = AccuracyGate(SEGMENTATION, max_drop=2.0, eval_set=[], fp32_scores=FP32)
    worse = {"miou": 0.40, "fscore": 0.5, "frames": 40.0}
    with pytest.raises(ExportError, match=r"litert int8 artifact loses 6.71 mIoU points .*--max-drop 2.*--force"):
        gate.judge("litert", worse)
    assert dataclasses.replace(gate, force=True).judge("litert", worse)["status"] == "forced"


def test_a_lower_is_better_headline_fails_when_it_rises() -> None:
    by_kld = dataclasses.replace(SALIENCY, headline="kld")
    gate = AccuracyGate(by_kld, max_drop=0.05, eval_set=[], fp32_scores={"kld": 1.20, "frames": 8.0})
    assert gate.judge("executorch", {"kld": 1.10, "frames": 8.0})["status"] == "passed"  # fell: better
    with pytest.raises(ExportError, match="loses 0.100 KLD points"):
        gate.judge("executorch", {"kld": 1.30, "frames": 8.0})


def test_saliency_gate_is_on_cc_with_the_tasks_default() -> None:
    gate = AccuracyGate(SALIENCY, max_drop=SALIENCY.default_max_drop, eval_set=[], fp32_scores={"cc": 0.50, "frames": 8.0})
    assert gate.judge("litert", {"cc": 0.485, "frames": 8.0})["status"] == "passed"
    with pytest.raises(ExportError, match=r"loses 0.030 CC points .*\(0.470 vs fp32 0.500"):
        gate.judge("litert", {"cc": 0.47, "frames": 8.0})


def test_without_data_the_gate_says_it_skipped() -> None:
    gate = AccuracyGate(SEGMENTATION, max_drop=2.0)
    assert gate.skip_reason() == "no --data to evaluate on"
    record = gate.skipped(gate.skip_reason())
    assert record["status"] == "skipped" and gate_summary(record) == "accuracy gate skipped: no --data to evaluate on"
