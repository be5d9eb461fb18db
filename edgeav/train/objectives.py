"""How each model family is trained: its loss and its prediction, looked up by model name."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.train.losses import avesformer_loss, lightavseg_loss

Batch = dict[str, Any]


class TrainingForward(nn.Module):
    """Makes ``model.forward_train`` the module's forward, so DistributedDataParallel can wrap it.

    DDP synchronises gradients only for calls that go through its own ``forward``; calling
    ``ddp.module.forward_train`` directly would silently skip the all-reduce.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> Any:
        return self.model.forward_train(*inputs)


@dataclass(frozen=True)
class Objective:
    """``loss(net, model, batch)``: named scalars, the total under "loss"; ``net`` runs ``forward_train``
    (possibly DDP-wrapped), ``model`` is the bare model for its config. ``logits(model, batch)`` predicts.
    Batches arrive with unannotated samples already removed (``samples.annotated_only``)."""

    loss: Callable[[nn.Module, nn.Module, Batch], dict[str, torch.Tensor]]
    logits: Callable[[nn.Module, Batch], torch.Tensor]


def _lightavseg_loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    labels = batch.get("semantic") if model.cfg.num_classes > 1 else None
    if model.cfg.num_classes > 1 and labels is None:
        raise UsageError(
            f"this config has a {model.cfg.num_classes}-class head but the data has no semantic labels; "
            "use an AVSS-like dataset (synthetic-avss, avsbench-avss:PATH) or a binary config"
        )
    out = net(batch["frames"], batch["audio"])
    return lightavseg_loss(out, batch["mask"], model.cfg.align_temperature, model.cfg.align_weight, labels)


def _lightavseg_logits(model: nn.Module, batch: Batch) -> torch.Tensor:
    return model.forward_train(batch["frames"], batch["audio"]).logits


def _avesformer_loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    if model.cfg.num_classes != 1:
        raise UsageError("AVESFormer's objective is the binary S4/MS3 one; use a config with num_classes=1")
    c = model.cfg
    return avesformer_loss(net(batch["frames"], batch["audio"]), batch["mask"], c.iou_weight, c.dice_weight, c.aux_weight)


# AVESFormer's forward_train has LightAVSeg's contract (an output with .logits), so the prediction is shared.
_AVESFORMER = Objective(loss=_avesformer_loss, logits=_lightavseg_logits)

OBJECTIVES: dict[str, Objective] = {
    "lightavseg": Objective(loss=_lightavseg_loss, logits=_lightavseg_logits),
    "avesformer-r18": _AVESFORMER,
    "avesformer-r50": _AVESFORMER,
}


def get_objective(model_name: str) -> Objective:
    if model_name not in OBJECTIVES:
        raise UsageError(f"no training objective for '{model_name}'; trainable models: {', '.join(OBJECTIVES)}")
    return OBJECTIVES[model_name]
