"""Running and reading an ``.onnx`` with ONNX Runtime (CPU execution provider)."""
from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.errors import ExportError, MissingDependencyError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets.onnx.lower import opset
from export_targets.onnx.profile import METHOD, ort_profile
from export_targets.runtime import ArtifactRunner, OpProfile, to_numpy
from export_targets.target import ArtifactStructure, TensorInfo


class ONNXRunner(ArtifactRunner):
    """ONNX Runtime on the CPU execution provider, sequential, ``threads`` intra-op threads."""

    runtime = "ONNX Runtime"
    per_op_method = METHOD

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        self._session = self._session_with()
        graph_inputs = [i.name for i in self._session.get_inputs()]
        named = [t.name for t in io_spec.inputs] if io_spec else []
        self._inputs = named if set(named) == set(graph_inputs) else graph_inputs  # bind by name when possible

    def _session_with(self, profile_prefix: str | None = None) -> Any:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingDependencyError("no ONNX Runtime; install it with: pip install 'edgeav[onnx]'") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or 0
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if profile_prefix:
            options.enable_profiling = True
            options.profile_file_prefix = profile_prefix
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> dict[str, np.ndarray]:
        return {name: to_numpy(x) for name, x in zip(self._inputs, inputs)}

    def invoke(self, feed: dict[str, np.ndarray]) -> Any:
        return self._session.run(None, feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return list(raw)

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        with tempfile.TemporaryDirectory(prefix="edgeav-ort-") as tmp:
            session = self._session_with(str(Path(tmp) / "ort"))
            feed = self.prepare(inputs)
            for _ in range(warmup + runs):
                session.run(None, feed)
            trace = json.loads(Path(session.end_profiling()).read_text())
        return ort_profile(trace, skip=warmup)


RUNNER = ONNXRunner


def inspect(path: Path) -> ArtifactStructure:
    """The graph's inputs (initializers left out), outputs, op set with counts, and opset (checked model)."""
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
        details={"op_counts": dict(sorted(ops.items())), "opset": opset(model)},
    )


def _value_info(value: Any) -> TensorInfo:
    import onnx

    tensor = value.type.tensor_type
    shape = tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in tensor.shape.dim)
    return TensorInfo(name=value.name, shape=shape, dtype=onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name)
