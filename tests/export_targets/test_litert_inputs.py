"""LiteRT int8 keeps graph inputs and outputs float: ``recipe.keep_graph_io_float`` on a toy whose inputs go straight
into quantized ops (a conv, and a cat like a streaming model's state stack)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from export_targets.litert.recipe import FLOAT_BOUNDARY, keep_graph_io_float


class StraightIn(nn.Module):
    """``x`` feeds a conv and ``state`` a cat directly: both are quantized at the graph input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.out = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([torch.relu(self.conv(x)), state], 1))


def _int8_graph() -> tuple[torch.fx.GraphModule, tuple[torch.Tensor, torch.Tensor]]:
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    from quantize.recipes import build_quantizer

    torch.manual_seed(0)
    example = (torch.rand(1, 3, 8, 8), torch.rand(1, 4, 8, 8))
    prepared = prepare_pt2e(torch.export.export(StraightIn().eval(), example).module(), build_quantizer(qat=False))
    for _ in range(3):
        prepared(torch.rand(1, 3, 8, 8), torch.rand(1, 4, 8, 8))
    return convert_pt2e(prepared, fold_quantize=False), example


def _is_quantize(node: torch.fx.Node) -> bool:
    return node.target == torch.ops.quantized_decomposed.quantize_per_tensor.default


def _quantized_inputs(gm: torch.fx.GraphModule) -> set[str]:
    return {n.name for n in gm.graph.nodes if n.op == "placeholder" and any(_is_quantize(u) for u in n.users)}


def test_every_input_read_by_a_quantize_gets_a_float_add_and_the_codes_do_not_change() -> None:
    gm, example = _int8_graph()
    assert _quantized_inputs(gm) == {"x", "state"}
    before = gm(*example)
    changed = keep_graph_io_float(nn.Sequential(gm))  # found inside a wrapper too
    assert {"state", "x"} <= set(changed) and len(changed) == 3  # both inputs and the one output
    assert _quantized_inputs(gm) == set()
    adds = [n for n in gm.graph.nodes if n.target == torch.ops.aten.add.Tensor and n.args[1] == FLOAT_BOUNDARY]
    assert len(adds) == 3 and sum(_is_quantize(next(iter(a.users))) for a in adds) == 2
    output = next(n for n in gm.graph.nodes if n.op == "output")
    assert all(a in adds for a in output.all_input_nodes)  # the output is read after a float add
    assert torch.equal(gm(*example)[0], before[0])  # the same int8 codes, so the same output, bit for bit
    assert keep_graph_io_float(gm) == []  # a second call finds nothing to do


@pytest.mark.converter
def test_litert_int8_inputs_stay_float32_with_the_pass_and_not_without(tmp_path) -> None:
    import litert_torch

    from export_targets.litert.interpreter import interpreter_class
    from export_targets.litert.passes import NamedIO
    from export_targets.litert.recipe import static_int8_config

    def convert(fix: bool) -> tuple[list[type], list[type]]:
        gm, (x, state) = _int8_graph()
        if fix:
            keep_graph_io_float(gm)
        named = NamedIO(gm, ["x", "state"], ["y"])
        path = tmp_path / f"toy_{fix}.tflite"
        litert_torch.convert(named, sample_kwargs={"x": x, "state": state}, quant_config=static_int8_config()).export(str(path))
        interpreter = interpreter_class()[0](model_path=str(path))
        ops = [op["op_name"] for op in interpreter._get_ops_details()]
        assert "CONV_2D" in ops and "CONCATENATION" in ops
        return [d["dtype"] for d in interpreter.get_input_details()], [d["dtype"] for d in interpreter.get_output_details()]

    assert convert(fix=False)[0] == [np.int8, np.int8]  # the hazard: the converter folds the input quantize
    assert convert(fix=True) == ([np.float32, np.float32], [np.float32])
