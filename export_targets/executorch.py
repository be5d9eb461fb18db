"""ExecuTorch ``.pte`` with the XNNPACK partitioner (fp32), its runner, and the post-lowering checks."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import torch

from edgeav.specs import IOSpec
from export_targets.base import (
    ArtifactStructure,
    ExportTarget,
    LoweringReport,
    LoweringRequest,
    TensorInfo,
)
from export_targets.formats import format_info
from export_targets.runners import ExecuTorchRunner, load_program

# Edge ops that must never run on portable kernels: a portable conv is ~200x slower (backends.md §3).
HEAVY_OPS = ("convolution", "linear", "addmm", "mm", "bmm")
_NOT_OPS = ("executorch_call_delegate", "getitem")


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


def heavy_ops_left(summary: dict[str, Any]) -> list[str]:
    """Portable ops that should have been delegated (conv/linear/matmul)."""
    return [op for op in summary["portable"] if op.removeprefix("aten.").split(".")[0] in HEAVY_OPS]


class ExecuTorchTarget(ExportTarget):
    info = format_info("executorch")

    def lower(self, request: LoweringRequest) -> LoweringReport:
        model, example_inputs, io_spec, precision, dest = request.fields()
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
            XnnpackPartitioner,
        )
        from executorch.exir import to_edge_transform_and_lower

        exported = torch.export.export(model, example_inputs)
        drop_noop_expands(exported.graph_module)
        edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
        summary = delegation_summary(edge.exported_program().graph_module)
        dest.write_bytes(edge.to_executorch().buffer)
        heavy = heavy_ops_left(summary)
        warnings = (
            (f"ExecuTorch: {', '.join(heavy)} left on portable kernels (not in an XNNPACK subgraph); "
             "expect a large slowdown — check dtypes, ranks and layouts of those ops",)
            if heavy else ()
        )
        ops = tuple(sorted({*summary["delegated"], *summary["portable"]}))
        return LoweringReport(details={"delegation": summary}, warnings=warnings, ops=ops)

    def inspect(self, path: Path) -> ArtifactStructure:
        method = _load_method(path)
        meta = method.metadata
        inputs = tuple(_tensor_info(meta.input_tensor_meta(i)) for i in range(meta.num_inputs()))
        outputs = tuple(_tensor_info(meta.output_tensor_meta(i)) for i in range(meta.num_outputs()))
        return ArtifactStructure(inputs=inputs, outputs=outputs, ops=())

    def load(self, path: Path, io_spec: IOSpec | None = None) -> ExecuTorchRunner:
        return ExecuTorchRunner(path, io_spec)


# c10::ScalarType codes as MethodMeta reports them -> numpy dtype names.
_SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16", 6: "float32",
                 7: "float64", 11: "bool"}


def _tensor_info(meta: Any) -> TensorInfo:
    code = int(meta.dtype())
    return TensorInfo(name=None, shape=tuple(int(s) for s in meta.sizes()), dtype=_SCALAR_TYPES.get(code, f"scalar_type_{code}"))


def _load_method(path: Path) -> Any:
    return load_program(path).load_method("forward")
