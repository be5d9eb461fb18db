"""Jaccard and F-score against hand-computed cases and a plain loop transcription of AVSBench's definitions."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import InputShapeError
from edgeav.metrics import SegmentationMeter, fscore, jaccard, jaccard_per_frame


def loop_mask_iou(pred: torch.Tensor, target: torch.Tensor) -> float:
    """AVSBench ``mask_iou`` written frame by frame: sigmoid > 0.5; empty GT scores true negatives / pixels."""
    total = 0.0
    for p, t in zip(pred, target):
        b = (torch.sigmoid(p) > 0.5).float()
        if t.sum() == 0:
            total += float(((1 - b) * (1 - t)).sum() / (t.numel() + 1e-7))
        else:
            total += float((b * t).sum() / (torch.maximum(b, t).sum() + 1e-7))
    return total / pred.shape[0]


def loop_fmeasure(pred: torch.Tensor, gt: torch.Tensor, num: int = 255, beta2: float = 0.3) -> float:
    """AVSBench ``Eval_Fmeasure`` written threshold by threshold."""
    probs = torch.sigmoid(pred)
    thresholds = torch.linspace(0, 1 - 1e-10, num)
    curve_sum, frames = torch.zeros(num), 0
    for p, y in zip(probs, gt):
        if torch.mean(y) == 0.0:
            continue
        prec, rec = torch.zeros(num), torch.zeros(num)
        for i in range(num):
            yt = (p >= thresholds[i]).float()
            tp = (yt * y).sum()
            prec[i], rec[i] = tp / (yt.sum() + 1e-20), tp / (y.sum() + 1e-20)
        f = (1 + beta2) * prec * rec / (beta2 * prec + rec)
        f[f != f] = 0
        curve_sum += f
        frames += 1
    return float((curve_sum / frames).max()) if frames else 0.0


@pytest.fixture
def logits_and_masks():
    g = torch.Generator().manual_seed(0)
    gt = torch.zeros(6, 24, 24)
    gt[0, 4:12, 5:15] = 1
    gt[1, 10:20, 2:9] = 1
    gt[3, :, 12:] = 1
    gt[4, 3:6, 3:6] = 1  # frames 2 and 5 are empty
    logits = 3 * (gt - 0.5) + 2.0 * torch.randn(6, 24, 24, generator=g)
    return logits, gt


def test_avsbench_self_test_cases():
    ones, zeros = torch.ones(4, 5, 5), torch.zeros(4, 5, 5)
    assert jaccard(ones, ones) == pytest.approx(1.0)
    assert jaccard(zeros, zeros) == pytest.approx(1.0)  # empty GT, nothing predicted: all true negatives
    assert jaccard(zeros, ones) == pytest.approx(0.0)
    assert jaccard(ones, zeros) == pytest.approx(0.0)
    half_empty = ones.clone()
    half_empty[:2] = 0
    assert jaccard(ones, half_empty) == pytest.approx(0.5)


def test_jaccard_hand_computed():
    gt = torch.zeros(1, 4, 4)
    gt[0, 0:2, 0:3] = 1  # 6 pixels
    pred = torch.full((1, 4, 4), -5.0)
    pred[0, 0:2, 0:2] = 5.0  # 4 pixels, all inside the GT
    assert jaccard(pred, gt) == pytest.approx(4 / 6)


def test_binary_masks_score_the_same_as_logits_or_probabilities():
    gt = torch.zeros(2, 8, 8)
    gt[:, 2:6, 2:6] = 1
    pred = torch.zeros(2, 8, 8)
    pred[:, 3:7, 3:7] = 1
    assert jaccard(pred, gt) == pytest.approx(jaccard(pred, gt, from_logits=False))


def test_jaccard_matches_the_loop_definition(logits_and_masks):
    logits, gt = logits_and_masks
    assert jaccard(logits, gt) == pytest.approx(loop_mask_iou(logits, gt), abs=1e-6)


def test_fscore_matches_the_loop_definition(logits_and_masks):
    logits, gt = logits_and_masks
    assert fscore(logits, gt) == pytest.approx(loop_fmeasure(logits, gt), abs=1e-5)


def test_fscore_of_a_perfect_binary_prediction_is_one():
    gt = torch.zeros(3, 10, 10)
    gt[:, 2:5, 2:8] = 1
    assert fscore(gt, gt, from_logits=False) == pytest.approx(1.0)
    assert fscore(torch.zeros(2, 4, 4), torch.zeros(2, 4, 4)) == 0.0  # all GTs empty: AVSBench returns 0


def test_any_leading_shape_is_frames(logits_and_masks):
    logits, gt = logits_and_masks
    five_d = logits.reshape(2, 3, 1, 24, 24)
    assert jaccard_per_frame(five_d, gt.reshape(2, 3, 1, 24, 24)).shape == (6,)
    assert jaccard(five_d, gt.reshape(2, 3, 1, 24, 24)) == pytest.approx(jaccard(logits, gt))


def test_meter_over_batches_equals_one_call(logits_and_masks):
    logits, gt = logits_and_masks
    meter = SegmentationMeter()
    meter.update(logits[:4], gt[:4])
    meter.update(logits[4:], gt[4:])
    scores = meter.compute()
    assert scores["miou"] == pytest.approx(jaccard(logits, gt), abs=1e-6)
    assert scores["fscore"] == pytest.approx(fscore(logits, gt), abs=1e-6)


def test_mismatched_shapes_raise():
    with pytest.raises(InputShapeError):
        jaccard(torch.zeros(2, 8, 8), torch.zeros(2, 8, 9))
