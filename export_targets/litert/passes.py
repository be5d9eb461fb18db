"""LiteRT's own pass on the module: a wrapper that makes the ``.tflite`` signature use IOSpec names.

``litert_torch.convert`` names signature inputs after the keyword samples and outputs after a returned
dict's keys; positional samples and tensor results give ``args_0`` / ``output_0`` instead.
"""
from __future__ import annotations

import torch
from torch import nn


class NamedIO(nn.Module):
    """Takes the inputs by IOSpec name and returns {IOSpec output name: tensor}.

    The wrapped model is called positionally, so its forward() parameter names do not matter.
    """

    def __init__(self, model: nn.Module, inputs: list[str], outputs: list[str]) -> None:
        super().__init__()
        self.model = model
        self.inputs = inputs
        self.outputs = outputs

    def forward(self, **named: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.model(*(named[name] for name in self.inputs))
        outs = [out] if isinstance(out, torch.Tensor) else list(out)
        return dict(zip(self.outputs, outs, strict=True))
