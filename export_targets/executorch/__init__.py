"""ExecuTorch ``.pte`` with the XNNPACK partitioner: the format's table row.

The folder: lower.py (torch.export -> edge -> XNNPACK -> .pte, delegation summary), passes.py (graph
passes run on the exported program before lowering), runner.py (``executorch.runtime``), profile.py
(ETDump -> OpProfile), recipe.py (its int8 recipe in quantize.recipes).
"""
from types import MappingProxyType

from export_targets.target import TargetInfo

INFO = TargetInfo(
    name="executorch",
    package=__name__,
    lowering_cost=4,
    title="ExecuTorch (XNNPACK)",
    suffix=".pte",
    precisions=MappingProxyType({"fp32": "fp32", "int8": "int8"}),  # int8: recipe.py
    requires=("executorch",),
    runtimes=("executorch",),
    pip_extra="executorch",
    rewrites=("adaptive_max_pool_to_max_pool", "fold_conv_batchnorm", "deformable_attention_to_matmul",
              "norm_to_mean_reduction", "split_large_depthwise_rows"),
    checks=("gelu_tanh_on_xnnpack", "adaptive_max_pool_left"),
    notes="torch.export -> to_edge_transform_and_lower(XnnpackPartitioner) -> .pte",
)
