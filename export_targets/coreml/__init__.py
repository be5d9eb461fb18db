"""Core ML ``.mlpackage`` (mlprogram, fp16 compute, iOS16+) via the torch.export path: the format's table row.

The folder: lower.py (``ct.convert``), passes.py (which MIL ops stay fp32), runner.py (``MLModel.predict``
on macOS; off macOS the package is validated structurally), recipe.py (int8 weights). No per-op profiler:
coremltools reports no per-op times.
"""
from types import MappingProxyType

from export_targets.target import TargetInfo

INFO = TargetInfo(
    name="coreml",
    package=__name__,
    lowering_cost=2,
    title="Core ML",
    suffix=".mlpackage",
    # Core ML computes in fp16 (mlprogram default, what the Neural Engine runs); I/O stays fp32.
    # int8: int8 weights (per channel) with fp16 activations, via coremltools.optimize (recipe.py).
    precisions=MappingProxyType({"fp32": "fp16", "int8": "w8a16"}),
    requires=("coremltools",),
    runtimes=("coremltools",),
    pip_extra="coreml",
    rewrites=("deformable_attention_to_matmul",),
    platforms=("darwin",),
    is_directory=True,
    notes="torch.export(...).run_decompositions({}) -> ct.convert(mlprogram, iOS16, fp16)",
)
