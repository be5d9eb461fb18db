"""ResNet-18/34/50 feature pyramids in torchvision's module layout (He et al. 2016).

The modules carry torchvision's names (``conv1``, ``bn1``, ``layer{1..4}.{i}.{conv,bn}{1..3}``,
``layer*.0.downsample.{0,1}``), so an ImageNet checkpoint such as ``resnet18-f37072fd.pth`` or
``resnet50-19c8e357.pth`` loads after dropping ``fc``. ``forward`` returns the four stage outputs
(strides 4, 8, 16, 32), which is what AVSegFormer's and AVESFormer's heads read.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

BLOCKS = ("basic", "bottleneck")


@dataclass(frozen=True)
class ResNetConfig:
    block: str  # "basic" (ResNet-18/34) | "bottleneck" (ResNet-50/101)
    layers: tuple[int, int, int, int]
    width: int = 64  # channels of the stem and of layer1's 3×3 convs

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ValueError(f"block {self.block!r} must be one of {BLOCKS}")

    @property
    def expansion(self) -> int:
        return 1 if self.block == "basic" else 4

    @property
    def pyramid_channels(self) -> tuple[int, ...]:
        return tuple(self.width * 2**i * self.expansion for i in range(4))


RESNET18 = ResNetConfig("basic", (2, 2, 2, 2))
RESNET50 = ResNetConfig("bottleneck", (3, 4, 6, 3))


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(out_ch)


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, planes: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(in_ch, planes, 3, stride)
        self.conv2, self.bn2 = _conv_bn(planes, planes, 3)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """torchvision's v1.5 bottleneck: the stride sits on the 3×3 conv."""

    def __init__(self, in_ch: int, planes: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(in_ch, planes, 1)
        self.conv2, self.bn2 = _conv_bn(planes, planes, 3, stride)
        self.conv3, self.bn3 = _conv_bn(planes, planes * 4, 1)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """RGB (already normalised) [B, 3, H, W] → ``[C1@H/4, C2@H/8, C3@H/16, C4@H/32]``."""

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.conv1, self.bn1 = _conv_bn(3, cfg.width, 7, 2)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        block = BasicBlock if cfg.block == "basic" else Bottleneck
        in_ch = cfg.width
        for i, depth in enumerate(cfg.layers):
            planes = cfg.width * 2**i
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or in_ch != planes * cfg.expansion:
                downsample = nn.Sequential(*_conv_bn(in_ch, planes * cfg.expansion, 1, stride))
            blocks = [block(in_ch, planes, stride, downsample)]
            in_ch = planes * cfg.expansion
            blocks += [block(in_ch, planes, 1, None) for _ in range(depth - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self._init_weights()

    def _init_weights(self) -> None:
        # torchvision's init: He (fan-out) convs, BN at identity; training from scratch needs it too.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        feats = []
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
            feats.append(x)
        return feats


# AVSegFormer's B2_ResNet keeps a second, unused copy of layer3/layer4 (``layer3_2``, ``layer4_2``);
# branch 1 (``layer3_1``, ``layer4_1``) is the one its forward runs.
_B2_BRANCH = re.compile(r"^layer([34])_1\.")
_B2_DEAD = re.compile(r"^layer[34]_2\.")


def resnet_key_from_upstream(key: str) -> str | None:
    """The :class:`ResNet` name of a torchvision / B2_ResNet key, or None for ``fc.*`` and B2's dead branch."""
    key = key.removeprefix("module.").removeprefix("backbone.")
    if key.startswith("fc.") or _B2_DEAD.match(key):
        return None
    return _B2_BRANCH.sub(r"layer\1.", key)


def resnet_state_dict_from_upstream(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map a torchvision ResNet or an AVSegFormer ``B2_ResNet`` state dict onto :class:`ResNet` keys.

    Drops the ImageNet classifier ``fc.*`` and B2_ResNet's dead branch 2, renames branch 1 to
    ``layer3``/``layer4``, strips a ``backbone.`` prefix, and adds the ``num_batches_tracked`` counters
    that checkpoints saved before PyTorch 0.4.1 (``resnet50-19c8e357.pth``) lack.
    """
    out = {new: v for k, v in state.items() if (new := resnet_key_from_upstream(k)) is not None}
    return with_bn_counters(out)


def with_bn_counters(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` plus a zero ``num_batches_tracked`` beside every BatchNorm ``running_mean`` that lacks one."""
    for key in [k for k in state if k.endswith(".running_mean")]:
        state.setdefault(key.removesuffix("running_mean") + "num_batches_tracked", torch.tensor(0))
    return state
