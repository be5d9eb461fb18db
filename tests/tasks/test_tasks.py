"""Tasks: headline and direction, points, the saliency meter over a split, output readings, bad data."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from edgeav.errors import InputShapeError, UsageError
from edgeav.metrics import SaliencyMeter, cc, kld, nss
from edgeav.tasks import SALIENCY, SEGMENTATION, get_task


def test_headlines_and_directions() -> None:
    assert (SEGMENTATION.headline, SEGMENTATION.title, SEGMENTATION.higher_is_better) == ("miou", "mIoU", True)
    assert (SALIENCY.headline, SALIENCY.title, SALIENCY.higher_is_better) == ("cc", "CC", True)
    assert not SALIENCY.metric("kld").higher_is_better
    assert [m.key for m in SALIENCY.metrics if m.higher_is_better] == ["cc", "nss", "auc_judd", "sim"]


def test_drop_is_a_loss_whichever_way_the_headline_points() -> None:
    assert SEGMENTATION.drop({"miou": 46.7}, {"miou": 46.2}) == pytest.approx(0.5)
    by_kld = dataclasses.replace(SALIENCY, headline="kld")
    assert by_kld.drop({"kld": 1.20}, {"kld": 1.25}) == pytest.approx(0.05)  # KLD rose: worse
    assert by_kld.drop({"kld": 1.20}, {"kld": 1.10}) == pytest.approx(-0.10)  # KLD fell: better


def test_points_scale_round_and_keep_only_the_tasks_metrics() -> None:
    scores = {"miou": 0.467123456, "fscore": 0.6, "frames": 12.0, "per_category": []}
    assert SEGMENTATION.points(scores) == {"miou": 46.712, "fscore": 60.0}
    assert SEGMENTATION.format(scores) == {"miou": "46.71", "fscore": "60.00"}
    assert SALIENCY.points({"cc": 0.45678, "kld": 1.23456}) == {"cc": 0.4568, "kld": 1.2346}


def test_saliency_meter_is_the_mean_over_maps_and_skips_maps_without_fixations() -> None:
    g = torch.Generator().manual_seed(0)
    pred, gt = torch.rand(4, 1, 8, 8, generator=g), torch.rand(4, 1, 8, 8, generator=g)
    fix = (torch.rand(4, 1, 8, 8, generator=g) > 0.8).float()
    fix[3] = 0  # no fixation in the last map: no NSS / AUC-J for it
    meter = SaliencyMeter()
    meter.update(pred[:3], gt[:3], fix[:3])
    meter.update(pred[3:], gt[3:], fix[3:])
    out = meter.compute()
    assert out["frames"] == 4
    assert out["cc"] == pytest.approx(cc(pred, gt))
    assert out["kld"] == pytest.approx(kld(pred, gt))
    assert out["nss"] == pytest.approx(np.mean(nss(pred[:3], fix[:3], reduction="none")))


def test_saliency_without_fixation_maps_reports_the_density_metrics_only() -> None:
    meter = SALIENCY.meter(from_logits=True)  # a saliency prediction is a map in both modes
    pred = torch.rand(2, 1, 8, 8)
    meter.update(pred, {"saliency": pred.clone()})
    out = meter.compute()
    assert set(out) == {"cc", "sim", "kld", "frames"}
    assert out["cc"] == pytest.approx(1.0) and out["kld"] == pytest.approx(0.0, abs=1e-9)


def test_empty_split_has_no_saliency_score() -> None:
    assert np.isnan(SALIENCY.meter().compute()["cc"])


def test_saliency_meter_refuses_a_multi_channel_prediction() -> None:
    with pytest.raises(InputShapeError, match=r"one map per frame \[B, 1, H, W\]"):
        SALIENCY.meter().update(torch.rand(2, 3, 8, 8), {"saliency": torch.rand(2, 1, 8, 8)})


def test_data_without_the_tasks_ground_truth_names_the_fix() -> None:
    with pytest.raises(InputShapeError, match="no 'saliency' ground truth for a saliency model.*evaluate on saliency data"):
        SALIENCY.check_batch({"frames": 0, "mask": 0})


def test_output_readings_are_machine_readable() -> None:
    assert SEGMENTATION.output_reading("mask", 1) == {"kind": "threshold", "output": "mask", "channel": 0, "value": 0.5}
    semantic = SEGMENTATION.output_reading("mask", 3, ["background", "dog", "car"])
    assert semantic["kind"] == "argmax" and semantic["axis"] == 1 and semantic["labels"] == ["background", "dog", "car"]
    assert SALIENCY.output_reading("saliency", 1)["kind"] == "saliency"


def test_unknown_task_is_a_usage_error() -> None:
    assert get_task("saliency") is SALIENCY
    with pytest.raises(UsageError, match="unknown task 'depth'.*segmentation, saliency"):
        get_task("depth")
