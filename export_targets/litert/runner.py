"""Running and reading a ``.tflite`` through its default signature (the interpreter applies XNNPACK by default)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.errors import ExportError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets.litert.interpreter import open_interpreter, signature_order
from export_targets.litert.profile import METHOD, isolated_op_profile
from export_targets.runtime import ArtifactRunner, OpProfile, to_numpy
from export_targets.target import ArtifactStructure, TensorInfo


class LiteRTRunner(ArtifactRunner):
    """A ``.tflite``'s default signature, inputs and outputs bound by IOSpec name when they match."""

    runtime = "LiteRT"
    per_op_method = METHOD

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        self._interpreter = open_interpreter(self.path, threads)
        self._runner = self._interpreter.get_signature_runner()
        names_in = [t.name for t in io_spec.inputs] if io_spec else None
        names_out = [t.name for t in io_spec.outputs] if io_spec else None
        self._inputs = signature_order(self._runner.get_input_details(), names_in)
        self._outputs = signature_order(self._runner.get_output_details(), names_out)

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> dict[str, np.ndarray]:
        return {name: to_numpy(x) for name, x in zip(self._inputs, inputs)}

    def invoke(self, feed: dict[str, np.ndarray]) -> Any:
        try:
            return self._runner(**feed)
        except (RuntimeError, ValueError) as exc:
            raise ExportError(f"LiteRT could not run {self.label} ({one_line(exc)})") from exc

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return [np.asarray(raw[name]) for name in self._outputs]

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        return isolated_op_profile(self.path, self.prepare(inputs), runs=runs, warmup=warmup, threads=self.threads)


RUNNER = LiteRTRunner


def inspect(path: Path) -> ArtifactStructure:
    """The default signature's inputs and outputs (in call order) and the op set with counts."""
    interpreter = open_interpreter(path)
    runner = interpreter.get_signature_runner()
    in_details, out_details = runner.get_input_details(), runner.get_output_details()
    inputs = tuple(_tensor_info(k, in_details[k]) for k in signature_order(in_details))
    outputs = tuple(_tensor_info(k, out_details[k]) for k in signature_order(out_details))
    ops = Counter(op["op_name"] for op in interpreter._get_ops_details())
    return ArtifactStructure(
        inputs=inputs,
        outputs=outputs,
        ops=tuple(sorted(ops)),
        details={"op_counts": dict(sorted(ops.items())), "signatures": interpreter.get_signature_list()},
    )


def _tensor_info(name: str, detail: dict[str, Any]) -> TensorInfo:
    return TensorInfo(name=name, shape=tuple(int(s) for s in detail["shape"]), dtype=np.dtype(detail["dtype"]).name)
