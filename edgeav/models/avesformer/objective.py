"""AVESFormer's S4/MS3 objective: λ_IoU·BCE + λ_Dice·Dice on the mask logits, plus λ_aux·Dice of the
channel-mean of the stride-4 mask feature upsampled to the mask (AVSegFormer's auxiliary "mix" loss)."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.errors import UsageError
from edgeav.models.losses import dice_loss
from edgeav.models.segmentation import segmentation_logits
from edgeav.registry import Batch, Objective


def avesformer_loss(
    output: Any, target: torch.Tensor, iou_weight: float, dice_weight: float, aux_weight: float
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


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    if model.cfg.num_classes != 1:
        raise UsageError("AVESFormer's objective is the binary S4/MS3 one; use a config with num_classes=1")
    c = model.cfg
    return avesformer_loss(net(batch["frames"], batch["audio"]), batch["mask"], c.iou_weight, c.dice_weight, c.aux_weight)


AVESFORMER_OBJECTIVE = Objective(loss=_loss, logits=segmentation_logits, task="segmentation")
