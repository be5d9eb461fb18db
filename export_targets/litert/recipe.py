"""LiteRT's int8: the shared-scheme PT2E graph (``quantize.recipes.RECIPES["litert"]``), the converter
setting that folds its Q/DQ pairs into TFLite int8 tensors, and the pass that keeps graph inputs and outputs float."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from quantize.recipes import Recipe, get_recipe

RECIPE: Recipe = get_recipe("litert")

# x + 2^-100 is x for every |x| >= 2^-76 and moves smaller values by less than any int8 step: the same int8
# codes, but an op the converter can neither fold (x + 0 and x * 1 are folded) nor quantize through
# (MAXIMUM, RESHAPE and CONCATENATION pass the quantization on to their input).
FLOAT_BOUNDARY = 2.0**-100
_QUANTIZE = "quantized_decomposed.quantize_per_tensor."  # by name: the ops exist once torchao is imported
_DEQUANTIZE = "quantized_decomposed.dequantize_per_tensor."


def static_int8_config() -> Any:
    """A ``QuantConfig`` that makes the converter fold the graph's PT2E Q/DQ pairs into int8 tensors.

    The graph was annotated by the shared-scheme quantizer (quantize.recipes); the converter reads only
    ``global_config.is_dynamic`` from the quantizer it is given, to choose static Q/DQ conversion.
    """
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )
    from litert_torch.quantize.quant_config import QuantConfig

    return QuantConfig(pt2e_quantizer=PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True)))


def keep_graph_io_float(model: nn.Module) -> list[str]:
    """Put a float ``ADD 2^-100`` between every graph input and a quantize node that reads it directly, and
    after every dequantize node that is itself a graph output.

    Why: when a quantized op (a conv, or a cat such as a streaming model's state stack) consumes a graph input
    straight away, litert-torch folds that input's quantize into the signature, and the .tflite then wants
    int8 where the IOSpec (and every app) feeds float32; likewise a graph output taken straight from a
    dequantize (e.g. a slice of that stack, the next state) comes out int8. An input that reaches its quantize
    through a float op (e.g. in-graph normalisation) stays float; this gives every input and output such an
    op. Applies to the outermost ``torch.fx.GraphModule`` s of ``model`` (in place); returns the names of the
    inputs and output nodes it changed.
    """
    changed = []
    for graph_module in _outer_graph_modules(model):
        graph = graph_module.graph
        for node in [n for n in graph.nodes if n.op == "placeholder"]:
            quantizes = [u for u in node.users if _is_quantize(u)]
            if quantizes:
                boundary = _float_add_after(graph, node)
                for q in quantizes:
                    q.replace_input_with(node, boundary)
                changed.append(node.name)
        output = next(n for n in graph.nodes if n.op == "output")
        for node in [a for a in output.all_input_nodes if _is_dequantize(a)]:
            output.replace_input_with(node, _float_add_after(graph, node))
            changed.append(node.name)
        graph_module.recompile()
    return changed


def _float_add_after(graph: torch.fx.Graph, node: torch.fx.Node) -> torch.fx.Node:
    with graph.inserting_after(node):
        boundary = graph.call_function(torch.ops.aten.add.Tensor, (node, FLOAT_BOUNDARY))
    boundary.meta = dict(node.meta)  # same shape and dtype: the converter reads tensor_meta
    return boundary


def _is_dequantize(node: torch.fx.Node) -> bool:
    return node.op == "call_function" and str(node.target).startswith(_DEQUANTIZE)


def _is_quantize(node: torch.fx.Node) -> bool:
    return node.op == "call_function" and str(node.target).startswith(_QUANTIZE)


def _outer_graph_modules(model: nn.Module) -> list[torch.fx.GraphModule]:
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, torch.fx.GraphModule)]
    names = [name for name, _ in found]
    return [m for name, m in found if not any(name.startswith(f"{o}.") or (o == "" and name) for o in names if o != name)]
