"""ONNX via the dynamo exporter (``torch.onnx.export(dynamo=True)``) + onnxsim, run with ONNX Runtime (CPU)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import torch

from edgeav.errors import ExportError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets.base import (
    ArtifactStructure,
    ExportTarget,
    LoweringReport,
    LoweringRequest,
    TensorInfo,
)
from export_targets.formats import format_info
from export_targets.runners import ONNXRunner


class ONNXTarget(ExportTarget):
    info = format_info("onnx")

    def lower(self, request: LoweringRequest) -> LoweringReport:
        model, example_inputs, io_spec, precision, dest = request.fields()
        import onnx
        import onnxsim

        program = torch.onnx.export(
            model.eval(),
            example_inputs,
            dynamo=True,
            input_names=[t.name for t in io_spec.inputs],
            output_names=[t.name for t in io_spec.outputs],
        )
        if program is None:
            raise ExportError("torch.onnx.export returned no program; check that dynamo=True is supported")
        raw = program.model_proto
        simplified, ok = onnxsim.simplify(raw)
        if not ok:
            raise ExportError("onnxsim could not verify the simplified graph; export with onnxsim disabled to compare")
        onnx.save(simplified, str(dest))
        return LoweringReport(details={"opset": _opset(simplified), "simplified": True})

    def inspect(self, path: Path) -> ArtifactStructure:
        import onnx

        try:
            model = onnx.load(str(path))
            onnx.checker.check_model(model)
        except Exception as exc:  # onnx raises its own ValidationError and DecodeError types
            raise ExportError(f"{Path(path).name} is not a valid ONNX model ({one_line(exc)}); re-export it") from exc
        initializers = {i.name for i in model.graph.initializer}
        inputs = tuple(_value_info(v) for v in model.graph.input if v.name not in initializers)
        outputs = tuple(_value_info(v) for v in model.graph.output)
        ops = Counter(n.op_type for n in model.graph.node)
        return ArtifactStructure(
            inputs=inputs,
            outputs=outputs,
            ops=tuple(sorted(ops)),
            details={"op_counts": dict(sorted(ops.items())), "opset": _opset(model)},
        )

    def load(self, path: Path, io_spec: IOSpec | None = None) -> ONNXRunner:
        return ONNXRunner(path, io_spec)


def _opset(model: Any) -> int | None:
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def _value_info(value: Any) -> TensorInfo:
    import onnx

    tensor = value.type.tensor_type
    shape = tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tensor.shape.dim)
    return TensorInfo(name=value.name, shape=shape, dtype=onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name)
