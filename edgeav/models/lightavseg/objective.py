"""LightAVSeg's training objective (eq. 1, 7-10): L = Dice + BCE + λ · L_align.

L_align is the BCE between sigmoid(cos(X̂, D̂)/τ) upsampled to the mask size and the binary foreground,
averaged over the last three decoder scales. With semantic labels (a multi-class head) the segmentation
term is the cross-entropy over classes; the alignment term still aligns audio with the binary mask.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.errors import UsageError
from edgeav.models.losses import segmentation_loss, semantic_loss
from edgeav.models.segmentation import segmentation_logits
from edgeav.registry import Batch, Objective


def alignment_map(features: torch.Tensor, audio: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per-pixel alignment logits cos(X̂, D̂)/τ: features [B,C,H,W], audio [B,C,1,1] → [B,1,H,W]."""
    cos = (F.normalize(features, dim=1) * F.normalize(audio, dim=1)).sum(1, keepdim=True)
    return cos / temperature


def alignment_loss(
    features: list[torch.Tensor], audio: list[torch.Tensor], target: torch.Tensor, temperature: float, scales: int = 3
) -> torch.Tensor:
    """Multi-scale audio-visual alignment loss over the last ``scales`` decoder scales (eq. 7-9)."""
    fg = (target > 0).float()
    losses = []
    for feat, aud in list(zip(features, audio))[-scales:]:
        logits = alignment_map(feat, aud, temperature)
        # Upsampling the logits and then applying the sigmoid equals upsampling probabilities only for
        # nearest; bilinear on probabilities is what the paper states, so upsample the probabilities.
        prob = F.interpolate(torch.sigmoid(logits), size=target.shape[-2:], mode="bilinear", align_corners=False)
        losses.append(F.binary_cross_entropy(prob.clamp(1e-6, 1 - 1e-6), fg))
    return torch.stack(losses).mean()


def lightavseg_loss(
    output: Any, target: torch.Tensor, temperature: float, weight: float, labels: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """The total LightAVSeg objective and its parts (for logging).

    With ``labels`` (semantic data, a multi-class head) the segmentation term is the cross-entropy over
    classes; the alignment term still aligns audio with the binary sounding-object mask ``target``.
    """
    seg = segmentation_loss(output.logits, target) if labels is None else semantic_loss(output.logits, labels)
    align = alignment_loss(output.decoder_features, output.decoder_audio, target, temperature)
    return {"loss": seg + weight * align, "seg": seg, "align": align}


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    labels = batch.get("semantic") if model.cfg.num_classes > 1 else None
    if model.cfg.num_classes > 1 and labels is None:
        raise UsageError(
            f"this config has a {model.cfg.num_classes}-class head but the data has no semantic labels; "
            "use an AVSS-like dataset (synthetic-avss, avsbench-avss:PATH) or a binary config"
        )
    out = net(batch["frames"], batch["audio"])
    return lightavseg_loss(out, batch["mask"], model.cfg.align_temperature, model.cfg.align_weight, labels)


LIGHTAVSEG_OBJECTIVE = Objective(loss=_loss, logits=segmentation_logits, task="segmentation")
