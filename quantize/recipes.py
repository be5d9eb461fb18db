"""One int8 recipe per target backend, in a registry: which PT2E quantizer annotates the graph, what the
backend's converter does with it, and whether quantization-aware training works on that path.

The three phone backends share one int8 *scheme* — int8 weights, symmetric, per output channel
(qmin −127), and int8 activations, affine, per tensor — because it is what XNNPACK, TFLite's int8
kernels and Core ML's A8W8 all execute. So one calibrated or QAT-fine-tuned graph serves every target.

Why LiteRT uses the XNNPACK quantizer's annotations: litert-torch 0.10's own ``PT2EQuantizer`` fails in
QAT mode with torch 2.13 (``_do_annotate_conv_bn`` hands a function to ``torch.export``; backends.md §2),
while its converter turns any PT2E ``quantize/dequantize`` pair into TFLite int8 tensors
(``QuantConfig`` only switches the converter to static Q/DQ folding). The annotations differ only where
TFLite has no int8 kernel anyway, and the converted model is fully XNNPACK-delegated.
ai-edge-quantizer (static_wi8_ai8 on the fp32 .tflite) was the other candidate; it cannot do QAT,
leaves attention's BATCH_MATMUL/SOFTMAX outside XNNPACK and loses more accuracy (backends.md §2).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from torch import nn

from edgeav.errors import UsageError
from edgeav.registry import ModelEntry

SCHEME = {
    "name": "int8-xnnpack",
    "weights": "int8, symmetric, per output channel (qmin -127, qmax 127)",
    "activations": "int8, affine, per tensor (qmin -128, qmax 127)",
    "quantizer": "executorch.backends.xnnpack.quantizer.XNNPACKQuantizer (PT2E)",
}

@dataclass(frozen=True)
class Recipe:
    """How one backend gets int8: the PT2E annotation (``activations == 'int8'``) or weights only."""

    name: str  # the export format it feeds
    title: str
    activations: str  # "int8" (A8W8 via PT2E Q/DQ) | "fp16" (weights only, on the converter side)
    qat: bool  # whether QAT fine-tuning applies (a weights-only recipe takes the fine-tuned weights)
    conversion: str  # what the backend does with the graph
    notes: str = ""
    fold_quantize: bool = True  # int8 weight constants in the converted graph (False: float weight + Q/DQ)

    def describe(self) -> dict[str, Any]:
        """The manifest's ``quantization.scheme`` record."""
        weights = SCHEME["weights"]
        acts = SCHEME["activations"] if self.activations == "int8" else "fp16 (Core ML compute precision)"
        return {"recipe": self.name, "name": SCHEME["name"] if self.activations == "int8" else "int8-weights-fp16",
                "weights": weights, "activations": acts, "conversion": self.conversion}


RECIPES: dict[str, Recipe] = {
    "executorch": Recipe(
        name="executorch", title="ExecuTorch XNNPACK int8", activations="int8", qat=True,
        conversion="convert_pt2e -> torch.export -> to_edge_transform_and_lower(XnnpackPartitioner)",
    ),
    "litert": Recipe(
        name="litert", title="LiteRT int8", activations="int8", qat=True,
        conversion="convert_pt2e -> litert_torch.convert(quant_config=QuantConfig(static PT2E)) -> int8 TFLite ops",
        notes="QAT through the shared XNNPACK annotation: litert-torch's PT2EQuantizer QAT path is broken",
        fold_quantize=False,  # stablehlo.uniform_dequantize rejects a plain int8 constant
    ),
    "coreml": Recipe(
        name="coreml", title="Core ML int8 weights, fp16 activations", activations="fp16", qat=True,
        conversion="ct.convert(fp16) -> coremltools.optimize.coreml.linear_quantize_weights(int8, per channel)",
        notes="activation quantization needs macOS to calibrate (linear_quantize_activations) — see coreml-a8w8",
    ),
    "coreml-a8w8": Recipe(
        name="coreml-a8w8", title="Core ML A8W8", activations="int8", qat=True,
        conversion="convert_pt2e -> torch.export -> ct.convert: Q/DQ become MIL quantize/dequantize + int8 constexpr weights",
    ),
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise UsageError(f"no int8 recipe '{name}'; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def build_quantizer(qat: bool, keep_float: Iterable[str] = (), only: Iterable[str] | None = None,
                    wholly_float: Iterable[str] = ()) -> Any:
    """The shared-scheme PT2E quantizer.

    ``keep_float``: module names (as in ``model.named_modules()``) left in float. ``only``: when given,
    quantize just these modules (the sensitivity report's one-block-at-a-time mode). ``wholly_float``:
    module names whose nodes carry no annotation at all (see ``SharedSchemeQuantizer``).
    """
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantizer.utils import get_module_name_filter

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_qat=qat))
    # The XNNPACK quantizer has no "leave this module float" setting; a node filter does it (and "only").
    floats = [get_module_name_filter(n) for n in keep_float]
    wanted = None if only is None else [get_module_name_filter(n) for n in only]

    def quantize_node(node: Any) -> bool:
        if any(f(node) for f in floats):
            return False
        return wanted is None or any(f(node) for f in wanted)

    stripped = [get_module_name_filter(n) for n in wholly_float]
    return SharedSchemeQuantizer(quantizer.set_filter_function(quantize_node),
                                 strip=lambda node: any(f(node) for f in stripped))


# TFLite's int8 SOFTMAX and LOGISTIC kernels only accept an output grid of scale 1/256, zero point -128 (the
# whole [0, 1) range in 256 steps); any other scale fails at load ("output->params.scale not near 1.f / 256";
# measured for LOGISTIC on DTFSal-S's audio gates: the .tflite ran under XNNPACK, which
# re-plans the op, but TFLite's own kernels refused it, so `edgeav bench --per-op` could not profile it).
# XNNPACK runs softmax in float between its Q/DQ, so the fixed grid costs it nothing.
SOFTMAX_OUTPUT_SCALE = 1.0 / 256
SOFTMAX_OUTPUT_ZERO_POINT = -128
_UNIT_GRID_OPS = ("softmax.int", "_softmax.default", "_safe_softmax.default", "aten.sigmoid.default")  # not hardsigmoid


def _softmax_output_qspec() -> Any:
    import torch
    from torchao.quantization.pt2e.quantizer import FixedQParamsQuantizationSpec

    return FixedQParamsQuantizationSpec(dtype=torch.int8, scale=SOFTMAX_OUTPUT_SCALE,
                                        zero_point=SOFTMAX_OUTPUT_ZERO_POINT, quant_min=-128, quant_max=127,
                                        qscheme=torch.per_tensor_affine)


def _on_unit_grid(node: Any) -> bool:
    return node.op == "call_function" and any(str(node.target).endswith(op) for op in _UNIT_GRID_OPS)


class SharedSchemeQuantizer:
    """The XNNPACK quantizer plus two rules the shared int8 scheme needs.

    1. Nodes of wholly-float modules (``FloatModules.wholly``) carry no annotation. The XNNPACK quantizer consults its
       filter only in some annotators: view-like ops after a quantized producer (reshape, slice, permute)
       and ``cat`` are annotated whatever the filter says, so a module kept float still carries int8
       observers (the deformable sampling matrix's ``cat`` and every offset slice; a softmax on its
       input). For those modules they are dropped; a quantized producer outside still quantizes its own
       output, which the float node then reads dequantized.
    2. A softmax or sigmoid whose input is int8 (quantized by its producer) has its output quantized on
       TFLite's fixed [0, 1) grid, and its direct quantized consumers read that grid instead of observing their
       own range. The XNNPACK quantizer leaves softmax itself unannotated, so the consumer's observed
       range (the deformable attention's weights peak at ~0.5) would become the int8 SOFTMAX's output
       scale in the converted .tflite. A softmax with a float input is left alone: TFLite runs it in float
       and quantizes after, at any scale.

    Annotating after the wrapped quantizer rather than composing avoids ``ComposableQuantizer``'s rule that
    no quantizer may change another's annotations.
    """

    def __init__(self, inner: Any, strip: Callable[[Any], bool] = lambda node: False) -> None:
        """``strip(node)``: whether ``node`` lies in a wholly-float module (rule 1)."""
        from torchao.quantization.pt2e.quantizer import Quantizer

        if not isinstance(inner, Quantizer):
            raise TypeError(f"expected a PT2E Quantizer, got {type(inner).__name__}")
        self.inner = inner
        self.strip = strip

    def __getattr__(self, name: str) -> Any:  # transform_for_annotation, validate, ... of the wrapped quantizer
        if name in ("inner", "strip"):  # not set yet (copy/unpickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def annotate(self, model: Any) -> Any:
        from torchao.quantization.pt2e.quantizer import (
            QuantizationAnnotation,
            SharedQuantizationSpec,
        )

        model = self.inner.annotate(model)
        for node in model.graph.nodes:
            if node.op == "call_function" and self.strip(node):
                node.meta.pop("quantization_annotation", None)
        for node in model.graph.nodes:
            if not _on_unit_grid(node) or "quantization_annotation" in node.meta or not _output_quantized(node.args[0]):
                continue
            node.meta["quantization_annotation"] = QuantizationAnnotation(
                output_qspec=_softmax_output_qspec(), _annotated=True)
            for user in node.users:  # direct quantized consumers read the softmax's grid, not their own
                if node in _input_qspecs(user):
                    _input_qspecs(user)[node] = SharedQuantizationSpec(node)
        return model


def _output_quantized(node: Any) -> bool:
    annotation = getattr(node, "meta", {}).get("quantization_annotation")
    return annotation is not None and annotation.output_qspec is not None


def _input_qspecs(node: Any) -> dict[Any, Any]:
    annotation = node.meta.get("quantization_annotation")
    return annotation.input_qspec_map if annotation is not None else {}


@dataclass(frozen=True)
class FloatModules:
    """Module types int8 keeps float whatever the user asks — a model's card says which
    (``ModelEntry.float_modules``; why each one, docs/quantize.md) — and of those the ones whose nodes
    carry no int8 observer at all (``wholly``: rule 1 of :class:`SharedSchemeQuantizer`)."""

    types: tuple[type[nn.Module], ...] = ()
    wholly: tuple[type[nn.Module], ...] = ()

    @classmethod
    def of(cls, entry: ModelEntry) -> FloatModules:
        return cls(tuple(entry.float_modules), tuple(entry.wholly_float_modules))

    def names(self, model: nn.Module) -> list[str]:
        """Names of ``model``'s modules of one of ``types`` (the exact type: a subclass is another module)."""
        return _of_types(model, self.types)

    def wholly_names(self, model: nn.Module) -> list[str]:
        return _of_types(model, self.wholly)


def _of_types(model: nn.Module, types: tuple[type[nn.Module], ...]) -> list[str]:
    return [n for n, m in model.named_modules() if n and type(m) in types]


def match_modules(model: nn.Module, patterns: Iterable[str]) -> list[str]:
    """Module names matching any glob ``pattern`` (``decoder.*``, ``*.attn``); UsageError if one matches none.

    Only the outermost match of a subtree is returned: keeping a block float keeps its children float.
    """
    names = [n for n, _ in model.named_modules() if n]
    out: list[str] = []
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            sample = ", ".join(n for n in names if "." not in n)
            raise UsageError(f"--keep-fp32 '{pattern}' matches no module; module names look like: {sample} (globs: decoder.*)")
        out.extend(hits)
    return outermost(out)


def outermost(names: Iterable[str]) -> list[str]:
    """Drop names inside another listed name (``a.b`` when ``a`` is listed), keeping order."""
    unique = list(dict.fromkeys(names))
    return [n for n in unique if not any(n != o and n.startswith(o + ".") for o in unique)]
