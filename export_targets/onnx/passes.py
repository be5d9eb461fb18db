"""ONNX's own pass on the exported graph: onnxsim (constant folding, shape inference, dead nodes)."""
from __future__ import annotations

from typing import Any

from edgeav.errors import ExportError


def simplify(model: Any) -> Any:
    """The onnxsim-simplified ModelProto; ExportError when onnxsim cannot verify it matches the input."""
    import onnxsim

    simplified, ok = onnxsim.simplify(model)
    if not ok:
        raise ExportError("onnxsim could not verify the simplified graph; export with onnxsim disabled to compare")
    return simplified
