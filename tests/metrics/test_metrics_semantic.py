"""Semantic AVS metric: a dataset-wide confusion matrix, per-category IoU and F, means over present categories."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import InputShapeError
from edgeav.metrics import SemanticSegmentationMeter


def _one_hot_scores(pred: torch.Tensor, classes: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(pred, classes).permute(0, 3, 1, 2).float()


def test_counts_match_a_hand_computed_confusion_matrix() -> None:
    # Two 1×4 frames; classes 0 (background), 1, 2, and 3 that never occurs in the ground truth.
    gt = torch.tensor([[[0, 1, 1, 2]], [[0, 0, 2, 2]]])
    pred = torch.tensor([[[0, 1, 2, 2]], [[1, 0, 2, 3]]])
    meter = SemanticSegmentationMeter(4)
    meter.update(_one_hot_scores(pred, 4), gt[:, None])  # labels as [N, 1, H, W]
    rows = {r["category"]: r for r in meter.per_category()}
    assert set(rows) == {0, 1, 2}  # class 3 is predicted but absent from the ground truth
    # class 0: gt 3 px, pred 2 px, tp 2 -> IoU 2/3; class 1: gt 2, pred 2, tp 1 -> 1/3; class 2: gt 3, pred 3, tp 2 -> 2/4
    assert rows[0]["iou"] == pytest.approx(2 / 3)
    assert rows[1]["iou"] == pytest.approx(1 / 3)
    assert rows[2]["iou"] == pytest.approx(2 / 4)
    p, r = 2 / 3, 2 / 3  # class 2: precision tp/pred = 2/3, recall tp/gt = 2/3
    assert rows[2]["fscore"] == pytest.approx(1.3 * p * r / (0.3 * p + r))
    scores = meter.compute()
    assert scores["miou"] == pytest.approx((2 / 3 + 1 / 3 + 2 / 4) / 3)
    assert scores["frames"] == 2


def test_accumulates_over_batches_not_per_batch_means() -> None:
    gt = torch.randint(0, 5, (6, 8, 8), generator=torch.Generator().manual_seed(0))
    scores = torch.randn(6, 5, 8, 8, generator=torch.Generator().manual_seed(1))
    whole, split = SemanticSegmentationMeter(5), SemanticSegmentationMeter(5)
    whole.update(scores, gt)
    split.update(scores[:1], gt[:1])
    split.update(scores[1:], gt[1:])
    assert torch.equal(whole.confusion, split.confusion)
    assert whole.compute()["miou"] == pytest.approx(split.compute()["miou"])


def test_perfect_prediction_scores_one() -> None:
    gt = torch.randint(0, 3, (2, 4, 4), generator=torch.Generator().manual_seed(2))
    meter = SemanticSegmentationMeter(3)
    meter.update(_one_hot_scores(gt, 3), gt)
    assert meter.compute()["miou"] == pytest.approx(1.0)
    assert meter.compute()["fscore"] == pytest.approx(1.0)


def test_rejects_mismatched_shapes_and_labels_out_of_range() -> None:
    meter = SemanticSegmentationMeter(3)
    with pytest.raises(InputShapeError, match=r"\[N, 3, H, W\]"):
        meter.update(torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
    with pytest.raises(InputShapeError, match="class indices"):
        meter.update(torch.zeros(1, 3, 4, 4), torch.full((1, 4, 4), 3))
