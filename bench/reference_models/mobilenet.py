"""MobileNet v1 (Howard et al. 2017), v2 (Sandler et al. 2018) and v3 Large/Small (Howard et al. 2019),
ImageNet classifiers at 224², written from the papers' layer tables with edgeav's shared layers.

v3 follows the paper's Tables 1–2 (the TF-slim layout): squeeze-and-excite to ``make_divisible(exp / 4)``
with a hard-sigmoid gate, hard-swish where the table says HS, a 1×1 head conv, a 1280-d (Large) / 1024-d
(Small) pre-logits conv without BatchNorm. ``minimalistic`` is slim's variant without SE, hard-swish or
5×5 kernels (same channel plan), which the slim README times beside the full model.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeav.models.layers.conv import ConvBN, HSigmoid, make_divisible

_ACT = {"RE": nn.ReLU, "RE6": nn.ReLU6, "HS": nn.Hardswish}


def conv_bn_act(in_ch: int, out_ch: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                act: str | None = "RE") -> nn.Sequential:
    block = ConvBN(in_ch, out_ch, kernel, stride, kernel // 2, groups)
    if act is not None:
        block.add_module("act", _ACT[act]())
    return block


class Classifier(nn.Module):
    """features → global average pool → ``head`` (linear layers, or 1×1 convs on the pooled map)."""

    def __init__(self, features: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.features(x).mean((2, 3), keepdim=True)
        return self.head(pooled).flatten(1)


# ------------------------------------------------------------------------------------------ v1
_V1 = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *((512, 1),) * 5, (1024, 2), (1024, 1))


def mobilenet_v1(width: float = 1.0, classes: int = 1000) -> Classifier:
    """Depthwise-separable stack of the paper's Table 1 (13 dw+pw pairs after a stride-2 stem)."""
    ch = make_divisible(32 * width)
    layers = [conv_bn_act(3, ch, 3, 2)]
    for out, stride in _V1:
        out = make_divisible(out * width)
        layers += [conv_bn_act(ch, ch, 3, stride, groups=ch), conv_bn_act(ch, out)]
        ch = out
    return Classifier(nn.Sequential(*layers), nn.Conv2d(ch, classes, 1))


# ------------------------------------------------------------------------------------------ v2
class InvertedResidual(nn.Module):
    """1×1 expand → k×k depthwise → (SE) → 1×1 linear projection, residual when shapes match."""

    def __init__(self, in_ch: int, exp: int, out_ch: int, kernel: int, stride: int, act: str,
                 se: int = 0) -> None:
        super().__init__()
        layers: list[nn.Module] = [] if exp == in_ch else [conv_bn_act(in_ch, exp, act=act)]
        layers.append(conv_bn_act(exp, exp, kernel, stride, groups=exp, act=act))
        if se:
            layers.append(SqueezeExcite(exp, se))
        layers.append(conv_bn_act(exp, out_ch, act=None))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class SqueezeExcite(nn.Module):
    """Global pool → 1×1 reduce + ReLU → 1×1 expand → hard-sigmoid gate (MobileNetV3 §5.3)."""

    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.expand = nn.Conv2d(reduced, channels, 1)
        self.act = nn.ReLU()
        self.gate = HSigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.expand(self.act(self.reduce(x.mean((2, 3), keepdim=True))))
        return x * self.gate(s)


# (expansion t, channels c, repeats n, first stride s): the paper's Table 2
_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2(width: float = 1.0, classes: int = 1000) -> Classifier:
    ch = make_divisible(32 * width)
    layers: list[nn.Module] = [conv_bn_act(3, ch, 3, 2, act="RE6")]
    for t, c, n, s in _V2:
        out = make_divisible(c * width)
        for i in range(n):
            layers.append(InvertedResidual(ch, ch * t, out, 3, s if i == 0 else 1, "RE6"))
            ch = out
    last = make_divisible(1280 * max(1.0, width))
    layers.append(conv_bn_act(ch, last, act="RE6"))
    return Classifier(nn.Sequential(*layers), nn.Conv2d(last, classes, 1))


# ------------------------------------------------------------------------------------------ v3
# (kernel, expansion size, out channels, SE, activation, stride): the paper's Tables 1 and 2
_V3_LARGE = (
    (3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2), (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2), (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1), (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1), (5, 960, 160, True, "HS", 1),
)
_V3_SMALL = (
    (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1),
)


@dataclass(frozen=True)
class MobileNetV3Config:
    size: str = "large"  # "large" | "small"
    width: float = 1.0  # slim's depth multiplier (dm)
    minimalistic: bool = False  # no SE, no hard-swish, 3×3 kernels only


def mobilenet_v3(cfg: MobileNetV3Config = MobileNetV3Config(), classes: int = 1000) -> Classifier:
    table = _V3_LARGE if cfg.size == "large" else _V3_SMALL
    stem_act = "RE" if cfg.minimalistic else "HS"
    ch = 16
    layers: list[nn.Module] = [conv_bn_act(3, ch, 3, 2, act=stem_act)]
    for kernel, exp, out, se, act, stride in table:
        if cfg.minimalistic:
            kernel, se, act = 3, False, "RE"
        out, exp = make_divisible(out * cfg.width), make_divisible(exp * cfg.width)
        layers.append(InvertedResidual(ch, exp, out, kernel, stride, act, make_divisible(exp / 4) if se else 0))
        ch = out
    # slim keeps the last two layers at full width when dm < 1
    head_in = make_divisible(table[-1][1] * max(1.0, cfg.width))
    layers.append(conv_bn_act(ch, head_in, act=stem_act))
    pre_logits = 1280 if cfg.size == "large" else 1024
    head = nn.Sequential(nn.Conv2d(head_in, pre_logits, 1), _ACT[stem_act](), nn.Conv2d(pre_logits, classes, 1))
    return Classifier(nn.Sequential(*layers), head)
