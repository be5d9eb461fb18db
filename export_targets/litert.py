"""LiteRT ``.tflite`` via ``litert_torch.convert`` (fp32) and its interpreter runner."""
from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from edgeav.errors import ExportError, MissingDependencyError
from edgeav.specs import IOSpec
from export_targets.base import (
    ArtifactStructure,
    ExportTarget,
    LoweringReport,
    LoweringRequest,
    TensorInfo,
    one_line,
    to_numpy,
)
from export_targets.formats import format_info


class LiteRTTarget(ExportTarget):
    info = format_info("litert")

    def lower(self, request: LoweringRequest) -> LoweringReport:
        model, example_inputs, io_spec, precision, dest = request.fields()
        import litert_torch

        # Keyword samples and a dict result make the signature's names the IOSpec names (not args_0, output_0).
        kwargs = {spec.name: x for spec, x in zip(io_spec.inputs, example_inputs)}
        named = _NamedIO(model, [t.name for t in io_spec.inputs], [t.name for t in io_spec.outputs]).eval()
        edge_model = litert_torch.convert(named, sample_kwargs=kwargs)
        edge_model.export(str(dest))
        return LoweringReport()

    def inspect(self, path: Path) -> ArtifactStructure:
        interpreter = _interpreter(path)
        runner = interpreter.get_signature_runner()
        in_details, out_details = runner.get_input_details(), runner.get_output_details()
        inputs = tuple(_tensor_info(k, in_details[k]) for k in signature_order(in_details))
        outputs = tuple(_tensor_info(k, out_details[k]) for k in signature_order(out_details))
        ops = Counter(op["op_name"] for op in interpreter._get_ops_details())  # noqa: SLF001 - no public API
        return ArtifactStructure(
            inputs=inputs,
            outputs=outputs,
            ops=tuple(sorted(ops)),
            details={"op_counts": dict(sorted(ops.items())), "signatures": interpreter.get_signature_list()},
        )

    def load(self, path: Path, io_spec: IOSpec | None = None) -> LiteRTRunner:
        if io_spec is None:
            return LiteRTRunner(path)
        return LiteRTRunner(path, [t.name for t in io_spec.inputs], [t.name for t in io_spec.outputs])


class _NamedIO(nn.Module):
    """Takes the inputs by IOSpec name and returns {IOSpec output name: tensor}.

    The wrapped model is called positionally, so its forward() parameter names do not matter.
    """

    def __init__(self, model: nn.Module, inputs: list[str], outputs: list[str]) -> None:
        super().__init__()
        self.model = model
        self.inputs = inputs
        self.outputs = outputs

    def forward(self, **named: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.model(*(named[name] for name in self.inputs))
        outs = [out] if isinstance(out, torch.Tensor) else list(out)
        return dict(zip(self.outputs, outs, strict=True))


class LiteRTRunner:
    """Runs a ``.tflite`` through its default signature (XNNPACK delegate applied by default)."""

    def __init__(
        self,
        path: Path,
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
        num_threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self._interpreter = _interpreter(self.path, num_threads)
        self._runner = self._interpreter.get_signature_runner()
        self._inputs = signature_order(self._runner.get_input_details(), input_names)
        self._outputs = signature_order(self._runner.get_output_details(), output_names)

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]:
        feed = {name: to_numpy(x) for name, x in zip(self._inputs, inputs)}
        try:
            out = self._runner(**feed)
        except (RuntimeError, ValueError) as exc:
            raise ExportError(f"LiteRT could not run {self.path.name} ({one_line(exc)})") from exc
        return [np.asarray(out[name]) for name in self._outputs]


def signature_order(details: dict[str, Any], preferred: Sequence[str] | None = None) -> list[str]:
    """Signature names in call order: ``preferred`` when it names them all, else by tensor index.

    Signature maps are keyed by name, and name order is not call order (``output_10`` < ``output_2``).
    """
    if preferred and set(preferred) == set(details):
        return list(preferred)
    numbered = [re.fullmatch(r"(?:args|output)_(\d+)", k) for k in details]
    if all(numbered):
        return [m.group(0) for m in sorted(numbered, key=lambda m: int(m.group(1)))]
    return sorted(details, key=lambda k: int(details[k]["index"]))


def interpreter_class() -> tuple[type, str]:
    """``ai_edge_litert.interpreter.Interpreter``, else ``tflite_runtime.interpreter.Interpreter``."""
    for module in ("ai_edge_litert.interpreter", "tflite_runtime.interpreter"):
        try:
            return importlib.import_module(module).Interpreter, module.split(".")[0]
        except ImportError:
            continue
    raise MissingDependencyError("no LiteRT runtime; install it with: pip install 'edgeav[tflite]'")


def _interpreter(path: Path, num_threads: int | None = None) -> Any:
    cls, _ = interpreter_class()
    try:
        interpreter = cls(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise ExportError(f"LiteRT cannot load {Path(path).name} ({one_line(exc)}); re-export it") from exc
    return interpreter


def _tensor_info(name: str, detail: dict[str, Any]) -> TensorInfo:
    return TensorInfo(name=name, shape=tuple(int(s) for s in detail["shape"]), dtype=np.dtype(detail["dtype"]).name)
