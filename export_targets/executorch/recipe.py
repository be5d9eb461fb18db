"""ExecuTorch's int8 recipe: the shared-scheme PT2E graph, ``quantize.recipes.RECIPES["executorch"]``.

Quantization sits below export (layer 3), so the recipe row lives there; this format lowers the converted
Q/DQ graph exactly as it lowers fp32 (lower.py), and XNNPACK's partitioner takes the int8 patterns.
"""
from __future__ import annotations

from quantize.recipes import Recipe, get_recipe

RECIPE: Recipe = get_recipe("executorch")
