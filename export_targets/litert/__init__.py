"""LiteRT ``.tflite`` via ``litert_torch.convert``: the format's table row.

The folder: lower.py (convert, fp32 or static int8), passes.py (the named-I/O wrapper that makes the
signature use IOSpec names), interpreter.py (opening the interpreter, signature order: shared by the
runner and the profiler), runner.py, profile.py (per-op times by op isolation), recipe.py (int8).
"""
from types import MappingProxyType

from export_targets.target import TargetInfo

INFO = TargetInfo(
    name="litert",
    package=__name__,
    lowering_cost=3,
    title="LiteRT (TFLite)",
    suffix=".tflite",
    precisions=MappingProxyType({"fp32": "fp32", "int8": "int8"}),  # int8: recipe.py
    requires=("litert_torch",),
    runtimes=("ai_edge_litert", "tflite_runtime"),
    pip_extra="tflite",
    rewrites=("fold_conv_batchnorm", "adaptive_max_pool_to_amax", "deformable_attention_to_matmul",
              "norm_to_mean_reduction", "split_large_depthwise_rows"),
    checks=("adaptive_max_pool_left",),
    notes="litert_torch.convert -> .tflite; the interpreter applies XNNPACK by default",
)
