"""A model's training objective, as the trainer runs it: the registry entry's :class:`Objective`, and the
wrapper that makes ``forward_train`` a module's forward.

The objectives themselves live with their models (``edgeav/models/<name>/objective.py``, named by each
registry entry); :class:`~edgeav.registry.Objective` is defined in the registry so that layer 1 can name it.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.registry import Objective, get_model_entry, list_models


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


def get_objective(model_name: str) -> Objective:
    """The registry entry's objective; a one-line error naming the trainable models when it has none."""
    objective = get_model_entry(model_name).objective
    if objective is None:
        trainable = ", ".join(e.name for e in list_models() if e.objective is not None)
        raise UsageError(f"no training objective for '{model_name}'; trainable models: {trainable}")
    return objective
