"""Segmentation losses shared by the models' objectives (layer 1, so a model folder can name its objective).

Dice follows AVSegFormer: 1 − 2Σpg / (Σp² + Σg² + 2ε) per sample, ε = 1e-3. Semantic AVS (AVSS-like data,
a head with background + categories) uses per-pixel cross-entropy.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

DICE_EPS = 1e-3


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft Dice on sigmoid probabilities, mean over the batch (AVSegFormer's squared form)."""
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    denom = (prob * prob).sum(1) + (target * target).sum(1) + 2 * DICE_EPS
    return (1.0 - 2.0 * inter / denom).mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Dice + BCE on binary masks (LightAVSeg's L_seg with unit weights)."""
    return dice_loss(logits, target) + F.binary_cross_entropy_with_logits(logits, target)


def semantic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-pixel cross-entropy over classes for semantic AVS (AVSBench-semantic's objective):
    logits [B, C, H, W], labels [B, 1, H, W] or [B, H, W] class indices, 0 = background."""
    return F.cross_entropy(logits, labels.reshape(labels.shape[0], *labels.shape[-2:]).long())
