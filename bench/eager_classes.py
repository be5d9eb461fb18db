"""PyTorch eager's time per op class: the eager side of "where the time goes vs eager" (``bench.op_bounds``).

torch.profiler names ATen kernels (``aten::_slow_conv2d_forward``, ``aten::mkldnn_convolution``), which do
not say whether a convolution is 1×1, depthwise or dense; the op classes of ``bench.cost`` (the ones the
runtimes' per-op records and the floors use) need the op's arguments. So each ATen op eager dispatches is
timed here under a dispatch mode, classified from its arguments exactly as ``bench.cost`` classifies the
deployed graph, and its time summed per class. Times are this thread's CPU time around the kernel call
(immune to a shared core's preemption; one thread only); the Python of the mode itself is outside them
and is left out of the total, so "outside ops" is eager's own framework time measured separately.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from bench.cost import _FREE, _convolution_class, aten_class

# Ops that move memory without arithmetic: their own row, as the runtimes' Transpose/Copy records are.
_LAYOUT_OPS = {"copy_", "clone", "_to_copy", "cat", "stack", "contiguous", "permute", "transpose", "expand",
               "constant_pad_nd", "slice", "select", "index_select", "repeat"}
LAYOUT = "layout copies"


def eager_op_class(name: str, args: tuple) -> str:  # type: ignore[type-arg]
    """The class of one dispatched ATen op: ``bench.cost``'s classes, plus layout copies."""
    if name == "convolution":
        return _convolution_class(args)
    if name in _LAYOUT_OPS:
        return LAYOUT
    return aten_class(name)


class _ClassTimer(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ms: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = func._overloadpacket.__name__
        start = time.thread_time_ns()
        out = func(*args, **(kwargs or {}))
        elapsed = (time.thread_time_ns() - start) / 1e6
        if func.is_view or (name in _FREE and name not in _LAYOUT_OPS):
            return out
        kind = eager_op_class(name, args)
        self.ms[kind] = self.ms.get(kind, 0.0) + elapsed
        self.calls[kind] = self.calls.get(kind, 0) + 1
        return out


@dataclass(frozen=True)
class EagerClassTimes:
    """Eager's per-class kernel ms and op counts (per inference, median over runs) and its whole-inference ms."""

    ms: dict[str, float]
    calls: dict[str, int]
    total_ms: float  # one inference without the mode, this thread's CPU time (median)

    @property
    def outside_ms(self) -> float:
        return max(self.total_ms - sum(self.ms.values()), 0.0)


def eager_class_times(model: nn.Module, inputs: tuple[torch.Tensor, ...], runs: int = 3, warmup: int = 1) -> EagerClassTimes:
    """Time ``model`` on ``inputs`` per op class (at the thread count already set with torch.set_num_threads)."""
    model = model.eval()
    per_run: list[_ClassTimer] = []
    totals: list[float] = []
    with torch.no_grad():  # not inference_mode: composite ops (conv2d, linear) decompose as bench.cost sees them
        for _ in range(warmup):
            model(*inputs)
        for _ in range(runs):
            start = time.thread_time_ns()
            model(*inputs)
            totals.append((time.thread_time_ns() - start) / 1e6)
            timer = _ClassTimer()
            with timer:
                model(*inputs)
            per_run.append(timer)
    kinds = {k for t in per_run for k in t.ms}
    ms = {k: statistics.median(t.ms.get(k, 0.0) for t in per_run) for k in kinds}
    calls = {k: max(t.calls.get(k, 0) for t in per_run) for k in kinds}
    return EagerClassTimes(ms=ms, calls=calls, total_ms=statistics.median(totals))
