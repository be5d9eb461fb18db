"""Torch's own thread pool must not run beside a runtime's: artifacts are timed with torch at 1 thread.

An artifact's runtime (ExecuTorch's XNNPACK pthreadpool, LiteRT's, ONNX Runtime's) has its own threads;
torch only moves the inputs and outputs in and out of it. But every such copy is a torch op, and torch's
OpenMP threads spin-wait after each parallel region: with torch left at N threads, they spin on the cores
the runtime's N threads need. Measured on this 2-core VM in a quiet window (1024³ fp32 GEMM .pte, 3 s
each): XNNPACK at 2 threads 213 GFLOP/s with torch at 2 threads (process CPU/wall 1.8 even at 1 XNNPACK
thread: the spinning), 356 GFLOP/s with torch at 1 thread — against 202 at 1 thread. So the harness sets
torch's pool per call: the eager reference gets the asked thread count, every artifact 1 thread.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

EAGER = "eager"


def torch_threads_for(fmt: str, threads: int) -> int:
    """torch's intra-op threads while a target of format ``fmt`` runs at ``threads``."""
    return threads if fmt == EAGER else 1


def set_torch_threads_for(fmt: str, threads: int) -> None:
    """Set torch's pool for a target of format ``fmt`` at ``threads`` (only when it differs: resizing costs a few µs)."""
    import torch

    wanted = torch_threads_for(fmt, threads)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def with_torch_threads(fmt: str, threads: int, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` with torch's pool set for ``fmt`` first."""

    def run() -> Any:
        set_torch_threads_for(fmt, threads)
        return call()

    return run
