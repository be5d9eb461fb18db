"""LiteRT's int8: the shared-scheme PT2E graph (``quantize.recipes.RECIPES["litert"]``) and the converter
setting that folds its Q/DQ pairs into TFLite int8 tensors."""
from __future__ import annotations

from typing import Any

from quantize.recipes import Recipe, get_recipe

RECIPE: Recipe = get_recipe("litert")


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
