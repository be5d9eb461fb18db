"""Running and reading a ``.pte`` through ``executorch.runtime`` (XNNPACK kernels are registered in the wheel)."""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.errors import ExportError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets._quiet import captured_output
from export_targets.executorch.profile import METHOD, etdump_profile
from export_targets.runtime import ArtifactRunner, OpProfile, to_numpy, to_tensor
from export_targets.target import ArtifactStructure, TensorInfo

# c10::ScalarType codes as MethodMeta reports them -> numpy dtype names.
_SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16", 6: "float32",
                 7: "float64", 11: "bool"}


class ExecuTorchRunner(ArtifactRunner):
    """A ``.pte``'s ``forward`` method.

    The XNNPACK threadpool is process-wide: setting ``threads`` resets it for every program in the process.
    """

    runtime = "ExecuTorch"
    per_op_method = METHOD

    def __init__(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        super().__init__(path, io_spec, threads)
        if threads is not None:
            set_threadpool_size(threads)
        self._method = load_program(self.path).load_method("forward")

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[torch.Tensor]:
        return [to_tensor(x) for x in inputs]

    def invoke(self, feed: list[torch.Tensor]) -> Any:
        return self._execute(self._method, feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        return [to_numpy(o) for o in raw]

    def _execute(self, method: Any, feed: list[torch.Tensor]) -> Any:
        try:
            return method.execute(feed)
        except RuntimeError as exc:
            raise ExportError(f"ExecuTorch could not run {self.label} ({one_line(exc)})") from exc

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        program = load_program(self.path, enable_etdump=True)
        method = program.load_method("forward")
        feed = self.prepare(inputs)
        for _ in range(warmup + runs):
            self._execute(method, feed)
        with tempfile.TemporaryDirectory(prefix="edgeav-etdump-") as tmp:
            etdump = Path(tmp) / "run.etdump"
            program.write_etdump_result_to_file(str(etdump), str(Path(tmp) / "debug.bin"))
            return etdump_profile(etdump, skip=warmup)


RUNNER = ExecuTorchRunner


def set_threadpool_size(threads: int) -> None:
    """Resize the process-wide XNNPACK threadpool (every loaded program uses it from its next call).

    Only when the size changes: a reset destroys and recreates the pool's threads.
    """
    from executorch.extension.pybindings import portable_lib

    if portable_lib._threadpool_get_thread_count() != threads:
        with captured_output():  # the reset logs a line to stderr
            portable_lib._unsafe_reset_threadpool(threads)


def load_program(path: Path, enable_etdump: bool = False) -> Any:
    """An ``executorch.runtime`` Program, or a one-line ExportError naming the fix."""
    from executorch.runtime import Runtime

    try:
        return Runtime.get().load_program(Path(path), enable_etdump=enable_etdump, debug_buffer_size=0)
    except (RuntimeError, ValueError) as exc:
        raise ExportError(f"ExecuTorch cannot load {Path(path).name} ({one_line(exc)}); re-export it") from exc


def inspect(path: Path) -> ArtifactStructure:
    """The ``forward`` method's input and output tensors, from its MethodMeta (the .pte lists no op set)."""
    meta = load_program(path).load_method("forward").metadata
    inputs = tuple(_tensor_info(meta.input_tensor_meta(i)) for i in range(meta.num_inputs()))
    outputs = tuple(_tensor_info(meta.output_tensor_meta(i)) for i in range(meta.num_outputs()))
    return ArtifactStructure(inputs=inputs, outputs=outputs, ops=())


def _tensor_info(meta: Any) -> TensorInfo:
    code = int(meta.dtype())
    return TensorInfo(name=None, shape=tuple(int(s) for s in meta.sizes()),
                      dtype=_SCALAR_TYPES.get(code, f"scalar_type_{code}"))
