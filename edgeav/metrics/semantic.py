"""Semantic AVS metrics (AVSS-like data): per-category IoU and F-score from one dataset-wide confusion matrix.

AVSBench-semantic reports mIoU over categories, accumulated over the whole split, not averaged per frame.
Choices where the benchmark code is not the reference here:

* a category enters the means only if it occurs in the ground truth of the split (categories never seen
  have no defined IoU); background (class 0) is a category like the others, as in AVSBench-semantic;
* F-score per category from the accumulated counts: P = TP / (TP + FP), R = TP / (TP + FN),
  F = (1 + β²)·P·R / (β²·P + R), β² = 0.3 as in the binary metric; the reported F is the mean over
  the same categories as mIoU.

Predictions are [N, C, H, W] scores (logits or probabilities: only the argmax is used) and labels
[N, H, W] or [N, 1, H, W] integer class indices.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from edgeav.errors import InputShapeError


class SemanticSegmentationMeter:
    """Accumulates a C×C confusion matrix (rows: ground truth, columns: prediction) over a split."""

    def __init__(self, num_classes: int, *, beta2: float = 0.3) -> None:
        if num_classes < 2:
            raise InputShapeError(f"a semantic meter needs at least 2 classes (background + one), got {num_classes}")
        self.num_classes = num_classes
        self.beta2 = beta2
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.float64)
        self._frames = 0

    def update(self, scores: Tensor, labels: Tensor) -> None:
        if scores.dim() != 4 or scores.shape[1] != self.num_classes:
            raise InputShapeError(
                f"semantic scores must be [N, {self.num_classes}, H, W], got {tuple(scores.shape)}"
            )
        labels = labels.reshape(labels.shape[0], *labels.shape[-2:]).long()
        if labels.shape != (scores.shape[0], *scores.shape[-2:]):
            raise InputShapeError(f"labels {tuple(labels.shape)} do not match scores {tuple(scores.shape)}")
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise InputShapeError(f"labels must be class indices in 0..{self.num_classes - 1}")
        pred = scores.argmax(1)
        pairs = labels.flatten() * self.num_classes + pred.flatten()
        self.confusion += torch.bincount(pairs, minlength=self.num_classes**2).reshape(
            self.num_classes, self.num_classes).double()
        self._frames += scores.shape[0]

    def per_category(self) -> list[dict[str, float]]:
        """One row per category present in the ground truth: index, IoU, F, ground-truth pixels."""
        tp = self.confusion.diag()
        gt = self.confusion.sum(1)
        pred = self.confusion.sum(0)
        rows = []
        for c in torch.nonzero(gt > 0).flatten().tolist():
            union = gt[c] + pred[c] - tp[c]
            precision = tp[c] / pred[c] if pred[c] > 0 else torch.tensor(0.0)
            recall = tp[c] / gt[c]
            denom = self.beta2 * precision + recall
            f = (1 + self.beta2) * precision * recall / denom if denom > 0 else torch.tensor(0.0)
            rows.append({"category": c, "iou": float(tp[c] / union), "fscore": float(f), "pixels": float(gt[c])})
        return rows

    def compute(self) -> dict[str, Any]:
        """``{"miou", "fscore", "frames", "per_category"}``; mIoU and F in [0, 1]."""
        rows = self.per_category()
        n = max(len(rows), 1)
        return {
            "miou": sum(r["iou"] for r in rows) / n if rows else 0.0,
            "fscore": sum(r["fscore"] for r in rows) / n if rows else 0.0,
            "frames": float(self._frames),
            "per_category": rows,
        }
