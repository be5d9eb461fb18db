"""PANNs MobileNetV2 audio trunk (Kong et al., ``qiuqiangkong/audioset_tagging_cnn``).

Layout follows the upstream model so its checkpoint keys load unchanged: ``bn0`` over the mel axis, a
stem ``features.0`` (Conv3×3 → AvgPool → BN → ReLU6), inverted residuals whose stride is an
**AvgPool2d after the depthwise conv** (not a strided conv), a 1×1 conv to 1280, then mean over frequency,
max + mean over time, and ``fc1`` (1280 → 1024, ReLU) as the clip embedding. The AudioSet classifier
``fc_audioset`` is not part of the trunk (LightAVSeg uses the embedding); its keys are dropped on load.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.layers.conv import (
    init_conv_fan_out,
    max_over_height,
    mean_over_height,
    mean_over_width,
)

# (expansion t, channels c, repeats n, stride s) as in the upstream MobileNetV2.
PANNS_MV2_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 2),
    (6, 160, 3, 1),
    (6, 320, 1, 1),
)


@dataclass(frozen=True)
class PannsMobileNetV2Config:
    n_mels: int = 64
    stem_channels: int = 32
    setting: tuple[tuple[int, int, int, int], ...] = PANNS_MV2_SETTING
    last_channels: int = 1280
    embedding_dim: int = 1024


PANNS_MV2_SMALL = PannsMobileNetV2Config(
    stem_channels=8,
    setting=((1, 8, 1, 1), (4, 16, 1, 2), (4, 24, 1, 2), (4, 32, 1, 2), (4, 48, 1, 2)),
    last_channels=128,
    embedding_dim=96,
)
"""A tiny config for fast tests (not an upstream config)."""


class PannsInvertedResidual(nn.Module):
    """Inverted residual with the stride done by average pooling after the depthwise conv."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = round(inp * expand_ratio)
        self.use_residual = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += [nn.Conv2d(inp, hidden, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=False),
            nn.AvgPool2d(stride),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class PannsMobileNetV2(nn.Module):
    """Log-mel [B, 1, frames, mels] → clip embedding [B, embedding_dim]."""

    def __init__(self, cfg: PannsMobileNetV2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.bn0 = nn.BatchNorm2d(cfg.n_mels)
        stem = nn.Sequential(
            nn.Conv2d(1, cfg.stem_channels, 3, 1, 1, bias=False),
            nn.AvgPool2d(2),
            nn.BatchNorm2d(cfg.stem_channels),
            nn.ReLU6(),
        )
        layers: list[nn.Module] = [stem]
        in_ch = cfg.stem_channels
        for t, c, n, s in cfg.setting:
            for i in range(n):
                layers.append(PannsInvertedResidual(in_ch, c, s if i == 0 else 1, t))
                in_ch = c
        layers.append(
            nn.Sequential(nn.Conv2d(in_ch, cfg.last_channels, 1, 1, 0, bias=False), nn.BatchNorm2d(cfg.last_channels), nn.ReLU6())
        )
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(cfg.last_channels, cfg.embedding_dim)
        init_conv_fan_out(self)
        nn.init.xavier_uniform_(self.fc1.weight)  # upstream init_layer; keeps the embedding's scale

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        # bn0 normalises each mel bin: move mels onto the channel axis and back.
        x = self.bn0(logmel.transpose(1, 3)).transpose(1, 3)
        x = self.features(x)
        x = mean_over_width(x)  # mean over frequency → [B, C, T, 1]
        x = max_over_height(x) + mean_over_height(x)  # max + mean over time → [B, C, 1, 1]
        return F.relu(self.fc1(x.flatten(1)))


def panns_state_dict_from_upstream(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map a PANNs checkpoint (``torch.load(p)['model']`` or that dict itself) onto :class:`PannsMobileNetV2`.

    Drops the torchlibrosa front-end buffers (edgeav computes log-mel in-graph with its own front end)
    and the AudioSet classifier ``fc_audioset``.
    """
    if "model" in state and isinstance(state["model"], Mapping):
        state = state["model"]
    keep = ("bn0.", "features.", "fc1.")
    return {k: v for k, v in state.items() if k.startswith(keep)}
