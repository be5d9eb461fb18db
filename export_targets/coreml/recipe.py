"""Core ML's int8: weights only (``quantize.recipes.RECIPES["coreml"]``), quantized on the converter side."""
from __future__ import annotations

from typing import Any

from quantize.recipes import Recipe, get_recipe

RECIPE: Recipe = get_recipe("coreml")


def quantize_weights_int8(mlmodel: Any) -> Any:
    """int8 weights (symmetric, per output channel) dequantized on load by ``constexpr_affine_dequantize``;
    activations stay fp16. Activation quantization needs predictions, i.e. macOS (backends.md §2)."""
    import coremltools.optimize.coreml as cto

    config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(
        mode="linear_symmetric", dtype="int8", granularity="per_channel", weight_threshold=0))
    return cto.linear_quantize_weights(mlmodel, config)
