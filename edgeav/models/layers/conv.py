"""Convolutional building blocks shared by the architectures, and reductions written as pooling."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBN(nn.Sequential):
    """Conv2d (no bias) + BatchNorm2d, with the child names ``c`` and ``bn`` that SeaFormer checkpoints use."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bn_weight_init: float = 1.0,
    ) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding, groups=groups, bias=False))
        bn = nn.BatchNorm2d(out_ch)
        nn.init.constant_(bn.weight, bn_weight_init)
        nn.init.constant_(bn.bias, 0.0)
        self.add_module("bn", bn)


class HSigmoid(nn.Module):
    """h-sigmoid = ReLU6(x + 3) / 6, the gate SeaFormer and LightAVSeg use."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x + 3.0, 0.0, 6.0) / 6.0


class DropPath(nn.Module):
    """Stochastic depth per sample; the identity at inference so it vanishes from exported graphs."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class GlobalMaxPool(nn.AdaptiveMaxPool2d):
    """Spatial max pool to 1×1, written as the natural module.

    Targets that cannot run or delegate ``adaptive_max_pool2d`` get it replaced through the named export
    rewrites ``adaptive_max_pool_to_max_pool`` (ExecuTorch) and ``adaptive_max_pool_to_amax`` (LiteRT) —
    the model itself stays plain PyTorch.
    """

    def __init__(self) -> None:
        super().__init__(1)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round channel counts the way MobileNet-family configs do (never below 90% of the request)."""
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def init_conv_fan_out(module: nn.Module) -> None:
    """He-normal (fan-out) init for every conv and small normal linears — the MobileNet/SeaFormer recipe.

    BatchNorm weights are left as built (ConvBN zero-initialises SeaFormer's residual projections).

    PyTorch's default conv init shrinks activations layer by layer; through a 19-block trunk the signal
    all but vanishes, which matters when a model is trained without pretrained weights.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            nn.init.normal_(m.weight, 0.0, (2.0 / fan_out) ** 0.5)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


# Reductions over one spatial axis of an NCHW tensor, written as pooling. ``x.mean(-1)`` and ``amax`` are
# the same arithmetic but XNNPACK delegates only pooling (and means over both H and W), so each of them
# would split the ExecuTorch graph and run on portable kernels.
def mean_over_width(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] → [B, C, H, 1], the mean over W."""
    # stride is spelled out: Core ML's converter requires it even though it defaults to the kernel.
    return F.avg_pool2d(x, kernel_size=(1, x.shape[-1]), stride=(1, x.shape[-1]))


def mean_over_height(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] → [B, C, 1, W], the mean over H."""
    return F.avg_pool2d(x, kernel_size=(x.shape[-2], 1), stride=(x.shape[-2], 1))


def max_over_height(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] → [B, C, 1, W], the max over H."""
    return F.max_pool2d(x, kernel_size=(x.shape[-2], 1), stride=(x.shape[-2], 1))
