"""A 2-D MobileNetV2 trunk with feature taps at strides 4, 8, 16 and 32 (Sandler et al. 2018).

Plain ``nn.Conv2d``/``BatchNorm2d``/``ReLU6`` only, so every target delegates it and int8 folds it. The
ImageNet classifier and the final 1×1 conv to 1280 are left out: the decoder reads the taps. Module
names follow torchvision's ``mobilenet_v2().features`` (``features.{i}.conv...``), so an ImageNet
checkpoint's ``features.*`` keys of blocks 0..17 line up.
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.layers.taps import TappedEncoder


class ConvBNReLU6(nn.Sequential):
    """Conv2d (no bias) + BatchNorm2d + ReLU6, torchvision's ``Conv2dNormActivation`` layout (0, 1, 2)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """Expand 1×1 → depthwise 3×3 (strided) → project 1×1, with a residual when the shape is kept."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_residual = stride == 1 and inp == oup
        layers: list[nn.Module] = [ConvBNReLU6(inp, hidden, 1)] if expand_ratio != 1 else []
        layers += [
            ConvBNReLU6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, oup, 1, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2Taps(TappedEncoder):
    """Frames [N, 3, H, W] (normalised) → 4 feature maps at strides 4, 8, 16, 32."""

    def __init__(self, stem_channels: int, setting: tuple[tuple[int, int, int, int], ...]) -> None:
        super().__init__()
        blocks: list[nn.Module] = [ConvBNReLU6(3, stem_channels, 3, 2)]
        in_ch, stride, taps, channels = stem_channels, 2, [], []
        for t, c, n, s in setting:
            for i in range(n):
                blocks.append(InvertedResidual(in_ch, c, s if i == 0 else 1, t))
                in_ch = c
            stride *= s
            if stride in (4, 8, 16, 32):
                if channels and taps and stride == _stride_of(len(channels) - 1):
                    taps[-1], channels[-1] = len(blocks) - 1, c  # a later stage at the same stride
                else:
                    taps.append(len(blocks) - 1)
                    channels.append(c)
        if len(taps) != 4:
            raise ValueError(f"setting reaches strides {[4, 8, 16, 32][:len(taps)]}; it must reach 4, 8, 16 and 32")
        self.set_blocks(blocks, taps, channels)


def _stride_of(level: int) -> int:
    return 4 * 2**level
