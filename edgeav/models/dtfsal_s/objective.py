"""DTFSal-S trained on ground truth alone: the teacher's loss (KL − CC, λ 1 / −1) on the fused map, plus the
same loss on each side map (deep supervision, weight ``SIDE_WEIGHT``). Distillation from DTFSal
(:mod:`edgeav.train.distill`) adds the teacher's maps to these terms; this objective is what `edgeav train
--model dtfsal-s` and label-aware QAT use.

Maps are compared after their sigmoid (the deployed output); samples without a ground-truth map
(``labelled`` False) are left out of the loss.
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.saliency_losses import kl_cc_loss
from edgeav.registry import Batch, Objective

SIDE_WEIGHT = 0.25


def labelled_rows(batch: Batch) -> torch.Tensor:
    """[B] bool: the samples whose ground-truth map is real."""
    labelled = batch.get("labelled")
    if labelled is None:
        return torch.ones(len(batch["saliency"]), dtype=torch.bool)
    return torch.as_tensor(labelled, dtype=torch.bool)


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    keep = labelled_rows(batch)
    out = net(batch["history"], batch["audio"])
    gt = batch["saliency"][keep]
    parts = kl_cc_loss(torch.sigmoid(out.logits[keep]), gt)
    side = torch.stack([kl_cc_loss(torch.sigmoid(s[keep]), gt)["loss"] for s in out.side_logits]).mean()
    return {"loss": parts["loss"] + SIDE_WEIGHT * side, "kl": parts["kl"], "cc": parts["cc"], "side": side}


def saliency_map(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The deployed map [B, 1, H, W] in [0, 1] of the newest frame of each sample's history."""
    return torch.sigmoid(model.forward_train(batch["history"], batch["audio"]).logits)


DTFSAL_S_OBJECTIVE = Objective(loss=_loss, logits=saliency_map, task="saliency")
