"""SalTR's objective: the set-prediction loss (Hungarian matching, aux losses on every decoder layer)
against the image's fixation points (plus, when ``map_weight`` > 0, KL − CC of the rendered map against the
ground-truth map); the prediction evaluation scores is the rendered map."""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.matching import SetLossWeights, set_prediction_loss
from edgeav.models.saliency_losses import kl_cc_loss
from edgeav.models.saltr.configs import SalTRConfig
from edgeav.registry import Batch, Objective


def loss_weights(cfg: SalTRConfig) -> SetLossWeights:
    return SetLossWeights(class_cost=cfg.match_class_cost, point_cost=cfg.match_point_cost,
                          point_weight=cfg.point_weight, no_fixation_weight=cfg.no_fixation_weight)


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    out = net(batch["image"])
    cfg = model.cfg
    parts = set_prediction_loss(out.logits, out.points, batch["points"], batch["num_points"], loss_weights(cfg), cfg.matching)
    if cfg.map_weight:
        map_parts = kl_cc_loss(out.saliency, batch["saliency"])
        parts = {**parts, "loss": parts["loss"] + cfg.map_weight * map_parts["loss"], "map_kl": map_parts["kl"],
                 "map_cc": map_parts["cc"]}
    return parts


def saliency_map(model: nn.Module, batch: Batch) -> torch.Tensor:
    """The deployed map [B, 1, H, W] in [0, 1]."""
    return model(batch["image"])[0]


SALTR_OBJECTIVE = Objective(loss=_loss, logits=saliency_map, task="saliency")
