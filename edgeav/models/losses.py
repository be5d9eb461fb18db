"""Segmentation losses as the papers define them.

LightAVSeg (eq. 1, 7-10): L = Dice + BCE + λ · L_align, where L_align is the BCE between
sigmoid(cos(X̂, D̂)/τ) upsampled to the mask size and the binary foreground, averaged over the last three
decoder scales. Dice follows AVSegFormer: 1 − 2Σpg / (Σp² + Σg² + 2ε) per sample, ε = 1e-3.
Semantic AVS (AVSS-like data, a head with background + categories) uses per-pixel cross-entropy.
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


def semantic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-pixel cross-entropy over classes for semantic AVS (AVSBench-semantic's objective):
    logits [B, C, H, W], labels [B, 1, H, W] or [B, H, W] class indices, 0 = background."""
    return F.cross_entropy(logits, labels.reshape(labels.shape[0], *labels.shape[-2:]).long())


def lightavseg_loss(
    output, target: torch.Tensor, temperature: float, weight: float, labels: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """The total LightAVSeg objective and its parts (for logging).

    With ``labels`` (semantic data, a multi-class head) the segmentation term is the cross-entropy over
    classes; the alignment term still aligns audio with the binary sounding-object mask ``target``.
    """
    seg = segmentation_loss(output.logits, target) if labels is None else semantic_loss(output.logits, labels)
    align = alignment_loss(output.decoder_features, output.decoder_audio, target, temperature)
    return {"loss": seg + weight * align, "seg": seg, "align": align}


def avesformer_loss(
    output, target: torch.Tensor, iou_weight: float, dice_weight: float, aux_weight: float
) -> dict[str, torch.Tensor]:
    """AVESFormer's S4/MS3 objective: λ_IoU·BCE + λ_Dice·Dice on the mask logits, plus λ_aux·Dice of the
    channel-mean of the stride-4 mask feature upsampled to the mask (AVSegFormer's auxiliary "mix" loss)."""
    bce = F.binary_cross_entropy_with_logits(output.logits, target)
    dice = dice_loss(output.logits, target)
    aux_logits = F.interpolate(
        output.mask_feature.mean(1, keepdim=True), size=target.shape[-2:], mode="bilinear", align_corners=False
    )
    aux = dice_loss(aux_logits, target)
    return {"loss": iou_weight * bce + dice_weight * dice + aux_weight * aux, "bce": bce, "dice": dice, "aux": aux}
