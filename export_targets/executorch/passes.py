"""ExecuTorch's own graph passes: run on the exported program's graph before edge lowering.

Unlike the model-layer rewrites (module swaps named in ``INFO.rewrites``), these work on the captured
FX graph, where the construct only exists after ``torch.export``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch


def drop_noop_expands(graph_module: torch.fx.GraphModule) -> int:
    """Remove ``expand`` nodes whose output has their input's shape; returns how many.

    The int8 path lowers a graph captured with a dynamic batch, re-exported at batch 1: a batch broadcast
    there (e.g. learnable queries ``expand(B, -1, -1)``) becomes ``expand(1, -1, -1)`` of a batch-1 tensor.
    XNNPACK has no expand, so the no-op would stay on portable kernels, outside the delegate.
    """
    dropped = 0
    for node in list(graph_module.graph.nodes):
        if node.op != "call_function" or node.target is not torch.ops.aten.expand.default:
            continue
        source = node.args[0]
        before, after = source.meta.get("val"), node.meta.get("val")
        if before is not None and after is not None and tuple(before.shape) == tuple(after.shape):
            node.replace_all_uses_with(source)
            graph_module.graph.erase_node(node)
            dropped += 1
    if dropped:
        graph_module.graph.eliminate_dead_code()
        graph_module.recompile()
    return dropped


def float_hardsigmoids(graph_module: torch.fx.GraphModule) -> int:
    """Write ``hardsigmoid(x)`` as ``hardtanh(x + 3.0, 0, 6) · (1/6)``; returns how many.

    XNNPACK has no hardsigmoid, so edge lowering decomposes it with *integer* constants (``x + 3``, ``/ 6``),
    which become int64 0-dim tensors cast to float by a ``_to_dim_order_copy`` each: two portable ops per
    hardsigmoid (MobileNetV3's squeeze-excitation gates, 16 in SalTR-S). With float constants nothing is
    cast and add, hardtanh and mul are all delegated. Same values (3.0 and 1/6 are exact in float32 up to
    the rounding of 1/6, which the integer form's division has as well).
    """
    aten = torch.ops.aten
    count = 0
    for node in list(graph_module.graph.nodes):
        if node.op != "call_function" or node.target is not aten.hardsigmoid.default:
            continue
        graph = graph_module.graph
        with graph.inserting_before(node):
            shifted = graph.call_function(aten.add.Tensor, (node.args[0], 3.0))
            clamped = graph.call_function(aten.hardtanh.default, (shifted, 0.0, 6.0))
            scaled = graph.call_function(aten.mul.Tensor, (clamped, 1.0 / 6.0))
        for new in (shifted, clamped, scaled):
            new.meta = dict(node.meta)  # same shape, dtype and source as the hardsigmoid
        node.replace_all_uses_with(scaled)
        graph.erase_node(node)
        count += 1
    if count:
        graph_module.recompile()
    return count


# In the order they run; each returns how many nodes it changed.
PASSES: tuple[Callable[[torch.fx.GraphModule], int], ...] = (drop_noop_expands, float_hardsigmoids)


def run_passes(graph_module: torch.fx.GraphModule) -> dict[str, int]:
    """Apply every pass in ``PASSES`` in place; the count of each that changed something, by name."""
    counts = {p.__name__: p(graph_module) for p in PASSES}
    return {name: n for name, n in counts.items() if n}
