"""The float_hardsigmoids pass: hardsigmoid rewritten with float constants, so XNNPACK takes all of it
(edge lowering's own decomposition casts int64 constants on portable kernels, two per hardsigmoid)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from export_targets.executorch.passes import PASSES, float_hardsigmoids


class _Gate(nn.Module):
    """MobileNetV3's squeeze-excitation gate shape: x · hardsigmoid(conv(x))."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.gate = nn.Conv2d(8, 8, 1), nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.conv(x))


def _hardsigmoids(gm: torch.fx.GraphModule) -> int:
    return sum(n.op == "call_function" and n.target is torch.ops.aten.hardsigmoid.default for n in gm.graph.nodes)


def test_hardsigmoid_is_rewritten_with_the_same_values() -> None:
    model, x = _Gate().eval(), torch.randn(1, 8, 4, 4) * 4  # values on both clamps and in between
    exported = torch.export.export(model, (x,))
    assert _hardsigmoids(exported.graph_module) == 1
    assert float_hardsigmoids in PASSES
    assert float_hardsigmoids(exported.graph_module) == 1
    assert _hardsigmoids(exported.graph_module) == 0
    torch.testing.assert_close(exported.module()(x), model(x))
    assert float_hardsigmoids(exported.graph_module) == 0  # nothing left


@pytest.mark.slow
def test_rewritten_hardsigmoid_lowers_without_portable_ops() -> None:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from export_targets.executorch.lower import delegation_summary

    def portable(rewrite: bool) -> dict[str, int]:
        exported = torch.export.export(_Gate().eval(), (torch.randn(1, 8, 4, 4),))
        if rewrite:
            float_hardsigmoids(exported.graph_module)
        edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
        return delegation_summary(edge.exported_program().graph_module)["portable"]

    assert portable(rewrite=False) == {"dim_order_ops._to_dim_order_copy.default": 2}  # the cause, still there upstream
    assert portable(rewrite=True) == {}
