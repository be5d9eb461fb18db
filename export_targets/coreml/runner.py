"""Running (macOS) and reading (anywhere) a Core ML ``.mlpackage``."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.errors import ExportError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets.runtime import ArtifactRunner, to_numpy
from export_targets.target import ArtifactStructure, TensorInfo

# Core ML ArrayFeatureType.ArrayDataType names -> numpy dtype names.
_ARRAY_DTYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "DOUBLE": "float64", "INT32": "int32", "INT8": "int8"}


class CoreMLRunner(ArtifactRunner):
    """``MLModel.predict`` on macOS; inputs in IOSpec order, bound by the package's input names.

    Core ML chooses its own threads and compute units: ``threads`` bounds nothing here beyond what the
    caller does (the host bench pins the process to that many cores).
    """

    runtime = "Core ML"

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        if sys.platform != "darwin":
            raise ExportError("Core ML runs only on macOS; validate the package with its inspect() instead")
        import coremltools as ct

        self._model = ct.models.MLModel(str(path))
        spec = self._model.get_spec()
        self._inputs = [f.name for f in spec.description.input]
        self._outputs = [f.name for f in spec.description.output]

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> dict[str, np.ndarray]:
        return {name: to_numpy(x) for name, x in zip(self._inputs, inputs)}

    def invoke(self, feed: dict[str, np.ndarray]) -> Any:
        return self._model.predict(feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return [np.asarray(raw[name]) for name in self._outputs]


RUNNER = CoreMLRunner


def inspect(path: Path) -> ArtifactStructure:
    """The package's spec: I/O features, the MIL op set (constants left out), opsets; mlProgram only."""
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
