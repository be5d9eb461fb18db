"""Core ML ``.mlpackage`` (mlprogram, fp16 compute, iOS16+) via the torch.export path.

``ct.convert`` needs ``torch.export(...).run_decompositions({})``: a raw exported program is rejected, and
the TorchScript trace path breaks on shape arithmetic with numpy 2 (backends.md §1). Predictions need
macOS; elsewhere the saved package is validated structurally (spec, I/O, MIL op set).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
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
    to_numpy,
)
from export_targets.formats import format_info

MINIMUM_DEPLOYMENT_TARGET = "iOS16"
_COMPUTE_PRECISION = {"fp16": "FLOAT16", "fp32": "FLOAT32"}
# Core ML ArrayFeatureType.ArrayDataType names -> numpy dtype names.
_ARRAY_DTYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "DOUBLE": "float64", "INT32": "int32", "INT8": "int8"}


class CoreMLTarget(ExportTarget):
    info = format_info("coreml")

    def lower(self, request: LoweringRequest) -> LoweringReport:
        model, example_inputs, io_spec, precision, dest = request.fields()
        import coremltools as ct

        compute = "fp16" if precision == "int8" else self.info.precisions[precision]  # w8a16: fp16 compute
        compute_precision = getattr(ct.precision, _COMPUTE_PRECISION[compute])
        if compute == "fp16":
            compute_precision = ct.transform.FP16ComputePrecision(op_selector=fp16_outside_log_domain())
        program = torch.export.export(model.eval(), example_inputs).run_decompositions({})
        mlmodel = ct.convert(
            program,
            convert_to="mlprogram",
            minimum_deployment_target=getattr(ct.target, MINIMUM_DEPLOYMENT_TARGET),
            compute_precision=compute_precision,
            # Name the I/O after the IOSpec and keep it fp32 (fp16 I/O would be the default for outputs).
            inputs=[ct.TensorType(name=t.name, shape=t.shape, dtype=np.float32) for t in io_spec.inputs],
            outputs=[ct.TensorType(name=t.name, dtype=np.float32) for t in io_spec.outputs],
            skip_model_load=True,
        )
        if precision == "int8":
            mlmodel = quantize_weights_int8(mlmodel)
        mlmodel.short_description = io_spec.output_reading[:200]
        mlmodel.save(str(dest))
        return LoweringReport(
            details={
                "minimum_deployment_target": MINIMUM_DEPLOYMENT_TARGET,
                "compute_precision": compute,
                "fp32_islands": "ops feeding a log (the in-graph log-mel front end)" if compute == "fp16" else "",
                **({"weights": "int8 per output channel, symmetric (coremltools.optimize.coreml.linear_quantize_weights)"}
                   if precision == "int8" else {}),
            }
        )

    def inspect(self, path: Path) -> ArtifactStructure:
        import coremltools as ct

        try:
            spec = ct.utils.load_spec(str(path))
        except Exception as exc:  # coremltools raises bare Exceptions for unreadable packages
            raise ExportError(f"Core ML cannot read {Path(path).name} ({one_line(exc)}); re-export it") from exc
        kind = spec.WhichOneof("Type")
        if kind != "mlProgram":
            raise ExportError(f"{Path(path).name} is a Core ML '{kind}' model, expected mlProgram; re-export it")
        ops: set[str] = set()
        opsets: dict[str, str] = {}
        for fname, function in spec.mlProgram.functions.items():
            opsets[fname] = function.opset
            for block in function.block_specializations.values():
                _collect_ops(block, ops)
        return ArtifactStructure(
            inputs=tuple(_feature_info(f) for f in spec.description.input),
            outputs=tuple(_feature_info(f) for f in spec.description.output),
            ops=tuple(sorted(ops - {"const"})),
            details={"specification_version": spec.specificationVersion, "opsets": opsets},
        )

    def load(self, path: Path, io_spec: IOSpec | None = None) -> CoreMLRunner:
        return CoreMLRunner(path)


def quantize_weights_int8(mlmodel: Any) -> Any:
    """int8 weights (symmetric, per output channel) dequantized on load by ``constexpr_affine_dequantize``;
    activations stay fp16. Activation quantization needs predictions, i.e. macOS (backends.md §2)."""
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(
        mode="linear_symmetric", dtype="int8", granularity="per_channel", weight_threshold=0))
    return cto.linear_quantize_weights(mlmodel, config)


def fp16_outside_log_domain() -> Callable[[Any], bool]:
    """An ``op_selector`` that computes in fp16 everything except the ops that feed a ``log``.

    A log-mel front end spans ~1e-10 … 6.5e4 in power before its log: fp16 flushes the floor (amin) to 0,
    giving −inf dB on quiet bins, and overflows on loud ones. Those few ops (a DFT conv, squares, a mel
    matmul) stay fp32; the network after the log is fp16 as asked.
    """
    feeds_log: dict[int, bool] = {}

    def reaches_log(op: Any) -> bool:
        key = id(op)
        if key not in feeds_log:
            feeds_log[key] = False  # guards against cycles while recursing
            feeds_log[key] = op.op_type == "log" or any(
                reaches_log(child) for out in op.outputs for child in out.child_ops
            )
        return feeds_log[key]

    return lambda op: not reaches_log(op)


class CoreMLRunner:
    """``MLModel.predict`` on macOS; inputs in IOSpec order, bound by the package's input names."""

    def __init__(self, path: Path) -> None:
        if sys.platform != "darwin":
            raise ExportError("Core ML runs only on macOS; validate the package with CoreMLTarget.inspect instead")
        import coremltools as ct

        self.path = Path(path)
        self._model = ct.models.MLModel(str(path))
        spec = self._model.get_spec()
        self._inputs = [f.name for f in spec.description.input]
        self._outputs = [f.name for f in spec.description.output]

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]:
        out = self._model.predict({name: to_numpy(x) for name, x in zip(self._inputs, inputs)})
        return [np.asarray(out[name]) for name in self._outputs]


def _collect_ops(block: Any, ops: set[str]) -> None:
    for op in block.operations:
        ops.add(op.type)
        for nested in op.blocks:
            _collect_ops(nested, ops)


def _feature_info(feature: Any) -> TensorInfo:
    from coremltools.proto import FeatureTypes_pb2

    kind = feature.type.WhichOneof("Type")
    if kind != "multiArrayType":
        return TensorInfo(name=feature.name, shape=(), dtype=kind or "unknown")
    array = feature.type.multiArrayType
    dtype = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(array.dataType)
    return TensorInfo(
        name=feature.name, shape=tuple(int(s) for s in array.shape), dtype=_ARRAY_DTYPES.get(dtype, dtype.lower())
    )
