"""Core ML lowering: ``torch.export(...).run_decompositions({})`` -> ``ct.convert`` (mlprogram, iOS16).

``ct.convert`` needs the decomposed program: a raw exported program is rejected, and the TorchScript trace
path breaks on shape arithmetic with numpy 2 (backends.md §1).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from export_targets.coreml.passes import fp16_outside_log_domain
from export_targets.coreml.recipe import quantize_weights_int8
from export_targets.target import LoweringReport, LoweringRequest, TargetInfo

MINIMUM_DEPLOYMENT_TARGET = "iOS16"
_COMPUTE_PRECISION = {"fp16": "FLOAT16", "fp32": "FLOAT32"}


def lower(request: LoweringRequest, info: TargetInfo) -> LoweringReport:
    """Write ``request.model`` as an .mlpackage with IOSpec-named fp32 I/O and ``info``'s compute precision."""
    import coremltools as ct

    io_spec, precision = request.io_spec, request.precision
    compute = "fp16" if precision == "int8" else info.precisions[precision]  # w8a16: fp16 compute
    program = torch.export.export(request.model.eval(), request.example_inputs).run_decompositions({})
    mlmodel = ct.convert(
        program,
        convert_to="mlprogram",
        minimum_deployment_target=getattr(ct.target, MINIMUM_DEPLOYMENT_TARGET),
        compute_precision=_compute_precision(compute),
        # Name the I/O after the IOSpec and keep it fp32 (fp16 I/O would be the default for outputs).
        inputs=[ct.TensorType(name=t.name, shape=t.shape, dtype=np.float32) for t in io_spec.inputs],
        outputs=[ct.TensorType(name=t.name, dtype=np.float32) for t in io_spec.outputs],
        skip_model_load=True,
    )
    if precision == "int8":
        mlmodel = quantize_weights_int8(mlmodel)
    mlmodel.short_description = io_spec.output_reading[:200]
    mlmodel.save(str(request.dest))
    return LoweringReport(
        details={
            "minimum_deployment_target": MINIMUM_DEPLOYMENT_TARGET,
            "compute_precision": compute,
            "fp32_islands": "ops feeding a log (the in-graph log-mel front end)" if compute == "fp16" else "",
            **({"weights": "int8 per output channel, symmetric (coremltools.optimize.coreml.linear_quantize_weights)"}
               if precision == "int8" else {}),
        }
    )


def _compute_precision(compute: str) -> Any:
    """``ct.precision`` for fp32; for fp16 the transform that keeps the log domain fp32 (passes.py)."""
    import coremltools as ct

    if compute == "fp16":
        return ct.transform.FP16ComputePrecision(op_selector=fp16_outside_log_domain())
    return getattr(ct.precision, _COMPUTE_PRECISION[compute])
