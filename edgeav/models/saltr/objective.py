"""SalTR's objective: the set-prediction loss (Hungarian matching, aux losses on every decoder layer)
against the image's fixation points; the prediction evaluation scores is the rendered map."""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.matching import SetLossWeights, set_prediction_loss
from edgeav.models.saltr.configs import SalTRConfig
from edgeav.registry import Batch, Objective


def loss_weights(cfg: SalTRConfig) -> SetLossWeights:
    return SetLossWeights(class_cost=cfg.match_class_cost, point_cost=cfg.match_point_cost,
                          point_weight=cfg.point_weight, no_fixation_weight=cfg.no_fixation_weight)


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    out = net(batch["image"])
    cfg = model.cfg
    return set_prediction_loss(out.logits, out.points, batch["points"], batch["num_points"], loss_weights(cfg), cfg.matching)


def saliency_map(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The deployed map [B, 1, H, W] in [0, 1]."""
    return model(batch["image"])[0]


SALTR_OBJECTIVE = Objective(loss=_loss, logits=saliency_map, task="saliency")
