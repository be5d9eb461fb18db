"""SalTR-S on ground truth alone: KL − CC (λ 1 / −1) on the fused map plus the same loss on each side map
(deep supervision, ``side_weight``). ``edgeav distill`` adds the teacher's rendered map to these terms."""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.saliency_losses import kl_cc_loss
from edgeav.registry import Batch, Objective


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    out = net(batch["image"])
    gt = batch["saliency"]
    parts = kl_cc_loss(torch.sigmoid(out.logits), gt)
    side = torch.stack([kl_cc_loss(torch.sigmoid(s), gt)["loss"] for s in out.side_logits]).mean()
    return {"loss": parts["loss"] + model.cfg.side_weight * side, "kl": parts["kl"], "cc": parts["cc"], "side": side}


def saliency_map(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The deployed map [B, 1, H, W] in [0, 1]."""
    return torch.sigmoid(model.forward_train(batch["image"]).logits)


SALTR_S_OBJECTIVE = Objective(loss=_loss, logits=saliency_map, task="saliency")
