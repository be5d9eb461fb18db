"""ONNX via the dynamo exporter + onnxsim, verified with ONNX Runtime (CPU): the format's table row.

The folder: lower.py (torch.onnx.export(dynamo=True)), passes.py (onnxsim on the ONNX graph), runner.py
(ONNX Runtime), profile.py (the session profiler's trace -> OpProfile). No recipe: ONNX exports fp32 only.
"""
from types import MappingProxyType

from export_targets.target import TargetInfo

INFO = TargetInfo(
    name="onnx",
    package=__name__,
    lowering_cost=1,
    title="ONNX",
    suffix=".onnx",
    precisions=MappingProxyType({"fp32": "fp32"}),
    requires=("onnx", "onnxscript", "onnxsim"),
    runtimes=("onnxruntime",),
    pip_extra="onnx",
    notes="torch.onnx.export(dynamo=True) -> onnxsim; verified with ONNX Runtime (CPU)",
)
