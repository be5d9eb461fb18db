"""Audio-visual segmentation metrics, computed the way AVSBench's ``utility.py`` computes them.

* Jaccard (``mask_iou``): the prediction is binarised with ``sigmoid(pred) > 0.5``; per frame
  IoU = |P ∩ G| / (|P ∪ G| + 1e-7); a frame whose ground truth is empty scores the fraction of pixels
  predicted empty (true negatives over all pixels); the result is the mean over frames.
* F-score (``Eval_Fmeasure``): ``sigmoid(pred)`` is thresholded at 255 values
  ``linspace(0, 1 - 1e-10, 255)``; per frame precision = TP / (#P + 1e-20), recall = TP / (#G + 1e-20),
  F = (1 + β²)·P·R / (β²·P + R) with NaN → 0; frames with an empty ground truth are skipped; the
  F curves are averaged over frames and the maximum over thresholds is returned.

Inputs are logits by default, like AVSBench's. Binary {0, 1} masks give the same Jaccard whether passed
as logits or probabilities (sigmoid(1) > 0.5, sigmoid(0) = 0.5 is not). Any leading shape is accepted:
``[H, W]``, ``[N, H, W]``, ``[N, 1, H, W]``, ``[B, T, 1, H, W]``: every ``H×W`` slice is one frame.
"""
from __future__ import annotations

import torch
from torch import Tensor

from edgeav.errors import InputShapeError

IOU_EPS = 1e-7
PR_EPS = 1e-20
NUM_THRESHOLDS = 255


def _as_frames(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        x = torch.as_tensor(x)
    if x.dim() < 2:
        raise InputShapeError(f"{name} must have at least 2 dims [..., H, W], got shape {tuple(x.shape)}")
    return x.reshape(-1, x.shape[-2], x.shape[-1])


def _pair(pred: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
    p, g = _as_frames(pred, "pred"), _as_frames(gt, "gt")
    if p.shape != g.shape:
        raise InputShapeError(
            f"pred has {p.shape[0]} frames of {tuple(p.shape[1:])}, gt has {g.shape[0]} of {tuple(g.shape[1:])}; "
            "resize the prediction to the mask size before scoring"
        )
    return p.float(), (g > 0.5).float()


def _probabilities(pred: Tensor, from_logits: bool) -> Tensor:
    return torch.sigmoid(pred) if from_logits else pred


def jaccard_per_frame(pred: Tensor, gt: Tensor, *, from_logits: bool = True) -> Tensor:
    """IoU of each frame, shape ``[N]`` (AVSBench's ``mask_iou`` before averaging)."""
    p, g = _pair(pred, gt)
    binary = (_probabilities(p, from_logits) > 0.5).float()
    num_pixels = g.shape[-1] * g.shape[-2]
    inter = (binary * g).sum((1, 2))
    union = torch.maximum(binary, g).sum((1, 2))
    empty = g.sum((1, 2)) == 0
    true_negatives = ((1 - g) * (1 - binary)).sum((1, 2))
    inter = torch.where(empty, true_negatives, inter)
    union = torch.where(empty, torch.full_like(union, float(num_pixels)), union)
    return inter / (union + IOU_EPS)


def jaccard(pred: Tensor, gt: Tensor, *, from_logits: bool = True) -> float:
    """Mean Jaccard index (mIoU) over all frames, in [0, 1]."""
    return float(jaccard_per_frame(pred, gt, from_logits=from_logits).mean())


def _thresholds(num: int) -> Tensor:
    return torch.linspace(0, 1 - 1e-10, num)


def fscore_curves(
    pred: Tensor, gt: Tensor, *, beta2: float = 0.3, from_logits: bool = True, num_thresholds: int = NUM_THRESHOLDS
) -> Tensor:
    """F-measure of each frame at each threshold, ``[N_nonempty, num_thresholds]``; empty-GT frames dropped."""
    p, g = _pair(pred, gt)
    keep = g.mean((1, 2)) != 0
    p, g = _probabilities(p, from_logits)[keep], g[keep]
    n = p.shape[0]
    if n == 0:
        return torch.zeros(0, num_thresholds)
    th = _thresholds(num_thresholds)
    # pixel >= th[k]  <=>  k < (number of thresholds <= pixel); count per bin, then reverse-cumulate.
    bins = torch.searchsorted(th, p.reshape(n, -1).contiguous(), right=True)
    offset = (torch.arange(n) * (num_thresholds + 1)).unsqueeze(1)
    flat = (bins + offset).reshape(-1)
    size = n * (num_thresholds + 1)
    hist_all = torch.bincount(flat, minlength=size).reshape(n, -1).float()
    hist_tp = torch.bincount(flat, weights=g.reshape(-1).double(), minlength=size).reshape(n, -1).float()
    above = hist_all.flip(1).cumsum(1).flip(1)[:, 1:]
    tp = hist_tp.flip(1).cumsum(1).flip(1)[:, 1:]
    prec = tp / (above + PR_EPS)
    recall = tp / (g.reshape(n, -1).sum(1, keepdim=True) + PR_EPS)
    f = (1 + beta2) * prec * recall / (beta2 * prec + recall)
    return torch.nan_to_num(f, nan=0.0)


def fscore(
    pred: Tensor, gt: Tensor, *, beta2: float = 0.3, from_logits: bool = True, num_thresholds: int = NUM_THRESHOLDS
) -> float:
    """Max over thresholds of the frame-averaged F-measure (AVSBench's ``Eval_Fmeasure``); 0 if all GTs are empty."""
    curves = fscore_curves(pred, gt, beta2=beta2, from_logits=from_logits, num_thresholds=num_thresholds)
    if curves.shape[0] == 0:
        return 0.0
    return float(curves.mean(0).max())


class SegmentationMeter:
    """Accumulates Jaccard and F-score over a whole evaluation set, frame by frame.

    AVSBench's test scripts average per-batch values; averaging per frame equals that when batches are
    equal-sized, and does not depend on the batch size otherwise.
    """

    def __init__(self, *, beta2: float = 0.3, from_logits: bool = True) -> None:
        self.beta2 = beta2
        self.from_logits = from_logits
        self._iou_sum = 0.0
        self._frames = 0
        self._curve_sum = torch.zeros(NUM_THRESHOLDS, dtype=torch.float64)
        self._curve_frames = 0

    def update(self, pred: Tensor, gt: Tensor) -> None:
        ious = jaccard_per_frame(pred, gt, from_logits=self.from_logits)
        self._iou_sum += float(ious.double().sum())
        self._frames += ious.numel()
        curves = fscore_curves(pred, gt, beta2=self.beta2, from_logits=self.from_logits)
        self._curve_sum += curves.double().sum(0)
        self._curve_frames += curves.shape[0]

    def compute(self) -> dict[str, float]:
        """``{"miou": ..., "fscore": ..., "frames": ...}``; mIoU and F in [0, 1]."""
        miou = self._iou_sum / self._frames if self._frames else 0.0
        f = float((self._curve_sum / self._curve_frames).max()) if self._curve_frames else 0.0
        return {"miou": miou, "fscore": f, "frames": float(self._frames)}
