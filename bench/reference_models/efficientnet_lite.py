"""EfficientNet-Lite0..4 (tensorflow/tpu ``efficientnet/lite``): EfficientNet-B0's MBConv stack with the
README's three changes — no squeeze-and-excite, ReLU6 instead of swish, stem (32) and head (1280) fixed
while scaling — plus the builder's fourth: the first and last stages keep their repeats when depth scales.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from bench.reference_models.mobilenet import Classifier, InvertedResidual, conv_bn_act
from edgeav.models.layers.conv import make_divisible

# (kernel, repeats, out channels, expansion, first stride): EfficientNet-B0's stages
_B0 = ((3, 1, 16, 1, 1), (3, 2, 24, 6, 2), (5, 2, 40, 6, 2), (3, 3, 80, 6, 2), (5, 3, 112, 6, 1),
       (5, 4, 192, 6, 2), (3, 1, 320, 6, 1))


@dataclass(frozen=True)
class LiteConfig:
    width: float
    depth: float
    image_size: int


# efficientnet_lite_builder.efficientnet_lite_params: (width, depth, resolution)
LITE = {f"lite{i}": LiteConfig(*p) for i, p in enumerate(
    ((1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 280), (1.4, 1.8, 300)))}


def efficientnet_lite(cfg: LiteConfig, classes: int = 1000) -> Classifier:
    ch = 32  # fixed stem
    layers: list[nn.Module] = [conv_bn_act(3, ch, 3, 2, act="RE6")]
    for stage, (kernel, repeats, out, t, stride) in enumerate(_B0):
        out = make_divisible(out * cfg.width)
        if 0 < stage < len(_B0) - 1:
            repeats = int(math.ceil(cfg.depth * repeats))
        for i in range(repeats):
            layers.append(InvertedResidual(ch, ch * t, out, kernel, stride if i == 0 else 1, "RE6"))
            ch = out
    layers.append(conv_bn_act(ch, 1280, act="RE6"))  # fixed head
    return Classifier(nn.Sequential(*layers), nn.Conv2d(1280, classes, 1))
