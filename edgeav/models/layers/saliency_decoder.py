"""The saliency students' 2-D decoder (DTFSal-S, SalTR-S): top-down through strides 32 → 4 with
depthwise-separable 3×3 convs and bilinear ×2 upsampling, one side map per level, fused by a 1×1 conv
(DTFSal's hierarchical 4-branch decoder made 2-D).

Side map ``i`` (level i = stride 4·2^i) is a student's counterpart of the teacher's s_{i+1}: both are
upsampled to the frame size, so distillation compares them pixel for pixel.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.layers.conv import ConvBN


class SeparableBlock(nn.Sequential):
    """Depthwise 3×3 + BN + ReLU, pointwise 1×1 + BN + ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__(
            ConvBN(channels, channels, 3, 1, 1, groups=channels), nn.ReLU(inplace=True),
            ConvBN(channels, channels, 1), nn.ReLU(inplace=True),
        )


class SaliencyDecoder(nn.Module):
    """Features at strides 4..32 → (final logit map, 4 side logit maps), all [B, 1, H, W]."""

    def __init__(self, in_channels: tuple[int, ...], channels: tuple[int, ...], frame_size: tuple[int, int]) -> None:
        super().__init__()
        self.frame_size = tuple(frame_size)
        self.lateral = nn.ModuleList(ConvBN(i, c, 1) for i, c in zip(in_channels, channels))
        # top-down: level l+1's output (channels[l+1]) is upsampled and projected to channels[l]
        self.down = nn.ModuleList(ConvBN(channels[l + 1], channels[l], 1) for l in range(len(channels) - 1))
        self.blocks = nn.ModuleList(SeparableBlock(c) for c in channels)
        self.side = nn.ModuleList(nn.Conv2d(c, 1, 1) for c in channels)
        self.fuse = nn.Conv2d(len(channels), 1, 1)
        nn.init.constant_(self.fuse.weight, 1.0 / len(channels))
        nn.init.zeros_(self.fuse.bias)

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.blocks[-1](self.lateral[-1](feats[-1]))
        levels = [x]
        for l in range(len(feats) - 2, -1, -1):
            up = F.interpolate(self.down[l](x), scale_factor=2.0, mode="bilinear", align_corners=False)
            x = self.blocks[l](self.lateral[l](feats[l]) + up)
            levels.insert(0, x)
        sides = [
            F.interpolate(head(y), size=self.frame_size, mode="bilinear", align_corners=False)
            for head, y in zip(self.side, levels)
        ]
        return self.fuse(torch.cat(sides, 1)), sides
