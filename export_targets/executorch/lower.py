"""ExecuTorch lowering: torch.export -> passes -> to_edge_transform_and_lower(XNNPACK) -> .pte, and the
delegation summary that says which ops XNNPACK took."""
from __future__ import annotations

from collections import Counter
from typing import Any

import torch

from export_targets.executorch.passes import run_passes
from export_targets.target import LoweringReport, LoweringRequest, TargetInfo

# Edge ops that must never run on portable kernels: a portable conv is ~200x slower (backends.md §3).
HEAVY_OPS = ("convolution", "linear", "addmm", "mm", "bmm")
_NOT_OPS = ("executorch_call_delegate", "getitem")


def lower(request: LoweringRequest, info: TargetInfo) -> LoweringReport:
    """Write ``request.model`` as a .pte with every op XNNPACK takes inside its delegate."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    exported = torch.export.export(request.model, request.example_inputs)
    run_passes(exported.graph_module)
    edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
    summary = delegation_summary(edge.exported_program().graph_module)
    request.dest.write_bytes(edge.to_executorch().buffer)
    heavy = heavy_ops_left(summary)
    warnings = (
        (f"ExecuTorch: {', '.join(heavy)} left on portable kernels (not in an XNNPACK subgraph); "
         "expect a large slowdown — check dtypes, ranks and layouts of those ops",)
        if heavy else ()
    )
    ops = tuple(sorted({*summary["delegated"], *summary["portable"]}))
    return LoweringReport(details={"delegation": summary}, warnings=warnings, ops=ops)


def _op_name(target: Any) -> str:
    """``aten.convolution.default`` for an edge op (its ``__name__``), else the callable's name."""
    return str(getattr(target, "__name__", target))


def delegation_summary(graph_module: torch.fx.GraphModule) -> dict[str, Any]:
    """Count edge ops inside XNNPACK-lowered modules vs ops left for portable kernels."""
    delegated: Counter[str] = Counter()
    portable: Counter[str] = Counter()
    portable_sources: dict[str, list[str]] = {}
    subgraphs = 0
    for node in graph_module.graph.nodes:
        if node.op == "get_attr" and str(node.target).startswith("lowered_module"):
            lowered = getattr(graph_module, node.target)
            subgraphs += 1
            for inner in lowered.original_module.graph.nodes:
                if inner.op == "call_function" and _op_name(inner.target) not in _NOT_OPS:
                    delegated[_op_name(inner.target)] += 1
        elif node.op == "call_function" and (name := _op_name(node.target)) not in _NOT_OPS:
            portable[name] += 1
            sources = portable_sources.setdefault(name, [])
            if (where := node_source(node)) not in sources:
                sources.append(where)
    return {
        "backend": "XnnpackBackend",
        "delegated_subgraphs": subgraphs,
        "delegated_ops": sum(delegated.values()),
        "portable_ops": sum(portable.values()),
        "delegated": dict(sorted(delegated.items())),
        "portable": dict(sorted(portable.items())),
        # Where each op left outside XNNPACK comes from, so a report can say which layer to change.
        "portable_sources": dict(sorted(portable_sources.items())),
    }


def node_source(node: torch.fx.Node) -> str:
    """The model code an exported node came from: its innermost module and source line, as far as known."""
    modules = node.meta.get("nn_module_stack") or {}
    module = ""
    if modules:
        path, type_name = next(reversed(modules.values()))
        module = f"{path} ({str(type_name).rsplit('.', 1)[-1]})".lstrip()
    trace = (node.meta.get("stack_trace") or "").strip().splitlines()
    frames = [line.strip() for line in trace if line.strip().startswith("File ")]
    line = frames[-1].replace("File ", "", 1) if frames else ""
    return " @ ".join(part for part in (module, line) if part) or "unknown (no export metadata)"


def heavy_ops_left(summary: dict[str, Any]) -> list[str]:
    """Portable ops that should have been delegated (conv/linear/matmul)."""
    return [op for op in summary["portable"] if op.removeprefix("aten.").split(".")[0] in HEAVY_OPS]
