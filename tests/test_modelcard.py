"""Parameter and FLOP accounting: the all-op count, the conv+linear MAC convention, meta-device counting."""
from __future__ import annotations

import torch
from torch import nn

from edgeav.modelcard import measure_cost


class _ConvAttn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)  # 3·9·4 MACs per pixel
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.fc(self.conv(x).flatten(2).transpose(1, 2))  # [1, 64, 4]
        return (t @ t.transpose(1, 2)).softmax(-1) @ t  # attention matmuls: not conv/linear


def test_conv_linear_macs_leave_out_matmuls_and_meta_counts_the_same():
    x = torch.randn(1, 3, 8, 8)
    cost = measure_cost(_ConvAttn(), (x,))
    conv, fc, bmm = 64 * 3 * 9 * 4, 64 * 4 * 4, 2 * 64 * 64 * 4
    assert cost.conv_linear_macs == conv + fc
    assert cost.conv_linear_macs_by_part == {"conv": conv, "fc": fc}
    assert cost.flops == 2 * (conv + fc + bmm)
    meta = measure_cost(_ConvAttn(), (x,), on_meta=True)
    assert (meta.flops, meta.conv_linear_macs, meta.params) == (cost.flops, cost.conv_linear_macs, cost.params)
