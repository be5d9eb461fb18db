"""Loading released (upstream) weights into part of a model: the key map is the model's, the copy is shared."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def load_fitting(model: nn.Module, mapped: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Copy every tensor of ``mapped`` (already in ``model``'s names) whose name and shape ``model`` has;
    returns (loaded names, names that did not fit). Everything else in ``model`` keeps its values."""
    own = model.state_dict()
    fits = {k: v for k, v in mapped.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fits, strict=False)
    return sorted(fits), [k for k in mapped if k not in fits]
