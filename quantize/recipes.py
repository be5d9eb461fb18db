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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from torch import nn

from edgeav.errors import UsageError

SCHEME = {
    "name": "int8-xnnpack",
    "weights": "int8, symmetric, per output channel (qmin -127, qmax 127)",
    "activations": "int8, affine, per tensor (qmin -128, qmax 127)",
    "quantizer": "executorch.backends.xnnpack.quantizer.XNNPACKQuantizer (PT2E)",
}

# Modules whose outputs must stay float whatever the user asks: a log-mel front end spans ~1e-10 … 6.5e4
# in power before its log, which one per-tensor int8 scale cannot hold.
ALWAYS_FLOAT_TYPES = ("LogMelFrontEnd",)


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


def build_quantizer(qat: bool, keep_float: Iterable[str] = (), only: Iterable[str] | None = None) -> Any:
    """The shared-scheme PT2E quantizer.

    ``keep_float``: module names (as in ``model.named_modules()``) left in float. ``only``: when given,
    quantize just these modules (the sensitivity report's one-block-at-a-time mode).
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

    return quantizer.set_filter_function(quantize_node)


def always_float_modules(model: nn.Module) -> list[str]:
    """Names of the modules that must stay float (see ``ALWAYS_FLOAT_TYPES``)."""
    return [n for n, m in model.named_modules() if n and type(m).__name__ in ALWAYS_FLOAT_TYPES]


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
