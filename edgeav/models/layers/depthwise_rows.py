"""A large depthwise convolution as a sum of row pieces small enough for a runtime's fast depthwise kernels.

XNNPACK's depthwise microkernels here go up to 25 taps (5×5); a 7×7 (49 taps) depthwise convolution falls
back to a grouped indirect GEMM, one tiny GEMM per channel (AVESFormer's Early-Focus 7×7 at 512 channels
and 28²: 16 ms in a ``.pte``). Convolution is linear in its kernel, so a k×k kernel split into row bands
(7×7 → 3×7 + 3×7 + 1×7, each ≤ 25 taps) gives the same output as the sum of the bands' convolutions, each
run on the input rows its band reads. The input is padded once; each band is a valid (unpadded)
convolution of a row slice of it. Only float rounding changes (the sum is taken in a different order).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MAX_TAPS = 25  # the largest depthwise kernel XNNPACK runs with its own (unipass) depthwise microkernels


def row_bands(kernel_h: int, kernel_w: int, max_taps: int = MAX_TAPS) -> list[tuple[int, int]]:
    """(first row, rows) of each band: as many kernel rows per band as fit in ``max_taps`` taps."""
    per_band = max(1, max_taps // kernel_w)
    return [(r, min(per_band, kernel_h - r)) for r in range(0, kernel_h, per_band)]


def is_large_depthwise(conv: nn.Module, max_taps: int = MAX_TAPS) -> bool:
    """A plain (stride 1, dilation 1, zero 'same'-style padding) depthwise Conv2d with more than ``max_taps`` taps."""
    if type(conv) is not nn.Conv2d or conv.groups != conv.in_channels or conv.out_channels != conv.in_channels:
        return False
    kh, kw = conv.kernel_size
    return (kh * kw > max_taps and kw <= max_taps and conv.stride == (1, 1) and conv.dilation == (1, 1)
            and conv.padding_mode == "zeros" and isinstance(conv.padding, tuple))


class RowSplitDepthwiseConv2d(nn.Module):
    """``conv`` (a depthwise k×k Conv2d, :func:`is_large_depthwise`) as a sum of row-band convolutions.

    Shares nothing with ``conv``: the bands are slices of its weight, copied (a rewrite works on a copy).
    """

    def __init__(self, conv: nn.Conv2d, max_taps: int = MAX_TAPS) -> None:
        super().__init__()
        if not is_large_depthwise(conv, max_taps):
            raise ValueError(f"{conv} is not a stride-1 depthwise convolution with more than {max_taps} taps")
        self.channels = conv.in_channels
        kh, kw = conv.kernel_size
        ph, pw = conv.padding
        self.pad = (pw, pw, ph, ph)
        self.bands = tuple(row_bands(kh, kw, max_taps))
        weight = conv.weight.detach()
        for i, (first, rows) in enumerate(self.bands):
            self.register_parameter(f"weight{i}", nn.Parameter(weight[:, :, first:first + rows].clone()))
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
        self.kernel_h = kh

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, self.pad)
        out_h = padded.shape[-2] - self.kernel_h + 1
        out = None
        for i, (first, rows) in enumerate(self.bands):
            # The bias rides on the first band only (one add less than adding it after the sum).
            bias = self.bias if i == 0 else None
            band = F.conv2d(padded[:, :, first:first + out_h + rows - 1], getattr(self, f"weight{i}"), bias,
                            groups=self.channels)
            out = band if out is None else out + band
        return out
