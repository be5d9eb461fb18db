"""Core ML's own pass: which MIL ops compute in fp16 (``ct.transform.FP16ComputePrecision``'s op selector)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def fp16_outside_log_domain() -> Callable[[Any], bool]:
    """An ``op_selector`` that computes in fp16 everything except the ops that feed a ``log``.

    A log-mel front end spans ~1e-10 … 6.5e4 in power before its log: fp16 flushes the floor (amin) to 0,
    giving −inf dB on quiet bins, and overflows on loud ones. Those few ops (a DFT conv, squares, a mel
    matmul) stay fp32; the network after the log is fp16 as asked.
    """
    feeds_log: dict[int, bool] = {}

    def reaches_log(op: Any) -> bool:
        key = id(op)
        if key not in feeds_log:
            feeds_log[key] = False  # guards against cycles while recursing
            feeds_log[key] = op.op_type == "log" or any(
                reaches_log(child) for out in op.outputs for child in out.child_ops
            )
        return feeds_log[key]

    return lambda op: not reaches_log(op)
