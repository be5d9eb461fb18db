"""Saliency losses: KL divergence, linear correlation (CC) and DTFSal's L = λ1·KL + λ2·CC (λ1 = 1, λ2 = −1).

Layer 1, beside ``models/losses.py``: model folders name their own objectives.

Conventions follow TMFI-Net's ``loss.py`` (which DTFSal's loss cites): both maps are normalised to sum 1
per sample before KL, ``KL = Σ g · log(ε + g / (p + ε))`` with ε = 2.2204e-16 (float64 machine epsilon,
MATLAB's ``eps``), and the batch mean is taken. CC is Pearson's correlation per sample, computed exactly
(centred sums, no N vs N−1 mismatch between covariance and standard deviations). Maps may be
``[B, 1, H, W]`` or ``[B, H, W]`` and on any positive scale (a sigmoid map, a density, a logit-free score).
"""
from __future__ import annotations

import torch

from edgeav.errors import UsageError

KL_EPS = 2.2204e-16
CC_EPS = 1e-8


def _flat(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.shape != target.shape:
        raise UsageError(
            f"saliency loss needs the prediction and the target on the same grid, got {tuple(pred.shape)} vs "
            f"{tuple(target.shape)}: resize the target map to the model's output size"
        )
    return pred.flatten(1).float(), target.flatten(1).float()


def kl_div(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL(target ‖ pred) of the sum-normalised maps, batch mean (0 when they agree; lower is better)."""
    p, g = _flat(pred, target)
    p = p / (p.sum(1, keepdim=True) + KL_EPS)
    g = g / (g.sum(1, keepdim=True) + KL_EPS)
    return (g * torch.log(KL_EPS + g / (p + KL_EPS))).sum(1).mean()


def cc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pearson correlation per sample, batch mean (1 when linearly related; higher is better)."""
    p, g = _flat(pred, target)
    p = p - p.mean(1, keepdim=True)
    g = g - g.mean(1, keepdim=True)
    return ((p * g).sum(1) / torch.sqrt((p * p).sum(1) * (g * g).sum(1) + CC_EPS)).mean()


def kl_cc_loss(
    pred: torch.Tensor, target: torch.Tensor, kl_weight: float = 1.0, cc_weight: float = -1.0
) -> dict[str, torch.Tensor]:
    """DTFSal's eq. 16, ``kl_weight·KL + cc_weight·CC``, with its parts under "kl" and "cc" (for logging)."""
    kl, corr = kl_div(pred, target), cc(pred, target)
    return {"loss": kl_weight * kl + cc_weight * corr, "kl": kl, "cc": corr}
