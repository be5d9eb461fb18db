"""A sequential encoder that returns the feature maps of chosen blocks (the strides 4/8/16/32 a decoder reads)."""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.layers.conv import init_conv_fan_out


class TappedEncoder(nn.Module):
    """``blocks`` run in order; ``forward`` returns the outputs of the blocks at ``taps`` (their channels in
    ``channels``). Subclasses build the blocks and call :meth:`set_blocks` once."""

    features: nn.Sequential
    taps: tuple[int, ...]
    channels: tuple[int, ...]

    def set_blocks(self, blocks: list[nn.Module], taps: list[int], channels: list[int]) -> None:
        self.features = nn.Sequential(*blocks)
        self.taps = tuple(taps)
        self.channels = tuple(channels)
        init_conv_fan_out(self)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, block in enumerate(self.features):
            x = block(x)
            if i in self.taps:
                out.append(x)
        return out
