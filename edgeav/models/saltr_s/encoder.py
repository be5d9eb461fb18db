"""MobileNetV3-Large trunk (Howard et al., ICCV 2019) with feature taps at strides 4, 8, 16 and 32.

torchvision's ``mobilenet_v3_large().features`` layout: ``features.0`` is the stem (conv, BN, hardswish),
``features.{1..15}.block.{i}`` the inverted residuals (expand, depthwise, squeeze-excitation ``fc1``/
``fc2``, project), so an ImageNet checkpoint's ``features.0-15`` keys line up. The last 1×1 conv to 960
and the classifier are left out: the decoder reads the taps (24, 40, 112, 160 channels).
Squeeze-excitation is a global average pool, two 1×1 convs and a hardsigmoid gate: all delegated.
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.layers.conv import make_divisible
from edgeav.models.layers.taps import TappedEncoder

# (kernel, expanded, out, squeeze-excite, activation, stride), torchvision's large setting.
MOBILENETV3_LARGE: tuple[tuple[int, int, int, bool, str, int], ...] = (
    (3, 16, 16, False, "relu", 1),
    (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1),
    (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hardswish", 2),
    (3, 200, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1),
    (3, 480, 112, True, "hardswish", 1),
    (3, 672, 112, True, "hardswish", 1),
    (5, 672, 160, True, "hardswish", 2),
    (5, 960, 160, True, "hardswish", 1),
    (5, 960, 160, True, "hardswish", 1),
)
ACTIVATIONS = {"relu": nn.ReLU, "hardswish": nn.Hardswish}


class ConvNormActivation(nn.Sequential):
    """Conv2d (no bias), BatchNorm2d, activation: torchvision's ``Conv2dNormActivation`` (children 0, 1, 2)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, act: str | None = "relu") -> None:
        layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                                   nn.BatchNorm2d(out_ch, eps=0.001, momentum=0.01)]
        if act:
            layers.append(ACTIVATIONS[act]())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """x · hardsigmoid(fc2(ReLU(fc1(avgpool(x))))), squeeze to make_divisible(C / 4)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        squeeze = make_divisible(channels // 4, 8)
        self.fc1, self.fc2 = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)
        self.pool, self.relu, self.gate = nn.AdaptiveAvgPool2d(1), nn.ReLU(), nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class InvertedResidualV3(nn.Module):
    def __init__(self, in_ch: int, kernel: int, expanded: int, out_ch: int, se: bool, act: str, stride: int) -> None:
        super().__init__()
        self.use_residual = stride == 1 and in_ch == out_ch
        layers: list[nn.Module] = [] if expanded == in_ch else [ConvNormActivation(in_ch, expanded, 1, act=act)]
        layers.append(ConvNormActivation(expanded, expanded, kernel, stride, groups=expanded, act=act))
        if se:
            layers.append(SqueezeExcitation(expanded))
        layers.append(ConvNormActivation(expanded, out_ch, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_residual else self.block(x)


class MobileNetV3Taps(TappedEncoder):
    """Normalised RGB [B, 3, H, W] → the last feature map at each of strides 4, 8, 16, 32."""

    def __init__(self, setting: tuple[tuple[int, int, int, bool, str, int], ...] = MOBILENETV3_LARGE, stem: int = 16) -> None:
        super().__init__()
        blocks: list[nn.Module] = [ConvNormActivation(3, stem, 3, 2, act="hardswish")]
        in_ch, stride, last_at = stem, 2, {}
        for kernel, expanded, out_ch, se, act, s in setting:
            blocks.append(InvertedResidualV3(in_ch, kernel, expanded, out_ch, se, act, s))
            in_ch, stride = out_ch, stride * s
            last_at[stride] = (len(blocks) - 1, out_ch)
        if any(s not in last_at for s in (4, 8, 16, 32)):
            raise ValueError(f"setting reaches strides {sorted(last_at)}; it must reach 4, 8, 16 and 32")
        self.set_blocks(blocks, [last_at[s][0] for s in (4, 8, 16, 32)], [last_at[s][1] for s in (4, 8, 16, 32)])
