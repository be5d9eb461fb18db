"""ONNX lowering: ``torch.onnx.export(dynamo=True)`` with IOSpec names, then onnxsim (passes.py)."""
from __future__ import annotations

from typing import Any

import torch

from edgeav.errors import ExportError
from export_targets.onnx.passes import simplify
from export_targets.target import LoweringReport, LoweringRequest, TargetInfo


def lower(request: LoweringRequest, info: TargetInfo) -> LoweringReport:
    """Write ``request.model`` as a simplified .onnx whose inputs and outputs carry the IOSpec names."""
    import onnx

    program = torch.onnx.export(
        request.model.eval(),
        request.example_inputs,
        dynamo=True,
        input_names=[t.name for t in request.io_spec.inputs],
        output_names=[t.name for t in request.io_spec.outputs],
    )
    if program is None:
        raise ExportError("torch.onnx.export returned no program; check that dynamo=True is supported")
    simplified = simplify(program.model_proto)
    onnx.save(simplified, str(request.dest))
    return LoweringReport(details={"opset": opset(simplified), "simplified": True})


def opset(model: Any) -> int | None:
    """The default-domain opset version a ModelProto imports."""
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
