"""DTFSal's training objective (eq. 16): L = λ1·KL + λ2·CC on the final map, λ1 = 1, λ2 = −1.

The paper supervises the fused map S only (the side maps s1..s4 are not in its loss). Samples whose
ground-truth map is withheld (``labelled`` False: teacher-only distillation data) are left out.
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.registry import Batch, Objective
from edgeav.models.saliency_losses import kl_cc_loss

KL_WEIGHT, CC_WEIGHT = 1.0, -1.0


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    if "saliency" not in batch:
        raise UsageError("DTFSal trains on saliency maps; use a saliency dataset (synthetic-saliency, avsal-NAME:PATH)")
    labelled = torch.as_tensor(batch.get("labelled", [True] * len(batch["saliency"])), dtype=torch.bool)
    if not bool(labelled.any()):
        raise UsageError("no sample in this batch has a ground-truth map; train DTFSal on labelled clips")
    out = net(batch["frames"][labelled], batch["audio"][labelled])
    return kl_cc_loss(out.saliency, batch["saliency"][labelled], KL_WEIGHT, CC_WEIGHT)


def saliency_map(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The deployed map ``[B, 1, H, W]`` in (0, 1) of each clip's last frame."""
    return model.forward_train(batch["frames"], batch["audio"]).saliency


DTFSAL_OBJECTIVE = Objective(loss=_loss, logits=saliency_map, task="saliency")
