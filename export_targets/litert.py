"""LiteRT ``.tflite`` via ``litert_torch.convert`` (fp32) and its interpreter runner."""
from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeav.errors import ExportError, MissingDependencyError
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
from export_targets.runners import LiteRTRunner


class LiteRTTarget(ExportTarget):
    info = format_info("litert")

    def lower(self, request: LoweringRequest) -> LoweringReport:
        model, example_inputs, io_spec, precision, dest = request.fields()
        import litert_torch

        # Keyword samples and a dict result make the signature's names the IOSpec names (not args_0, output_0).
        kwargs = {spec.name: x for spec, x in zip(io_spec.inputs, example_inputs)}
        named = _NamedIO(model, [t.name for t in io_spec.inputs], [t.name for t in io_spec.outputs]).eval()
        if precision == "int8":
            edge_model = litert_torch.convert(named, sample_kwargs=kwargs, quant_config=static_int8_config())
        else:
            edge_model = litert_torch.convert(named, sample_kwargs=kwargs)
        edge_model.export(str(dest))
        return LoweringReport(details={"quantized": "int8 Q/DQ folded into TFLite int8 tensors"} if precision == "int8" else {})

    def inspect(self, path: Path) -> ArtifactStructure:
        interpreter = _interpreter(path)
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

    def load(self, path: Path, io_spec: IOSpec | None = None) -> LiteRTRunner:
        return LiteRTRunner(path, io_spec)


def static_int8_config() -> Any:
    """A ``QuantConfig`` that makes the converter fold the graph's PT2E Q/DQ pairs into int8 tensors.

    The graph was annotated by the shared-scheme quantizer (quantize.recipes); the converter reads only
    ``global_config.is_dynamic`` from the quantizer it is given, to choose static Q/DQ conversion.
    """
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )
    from litert_torch.quantize.quant_config import QuantConfig

    return QuantConfig(pt2e_quantizer=PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True)))


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
