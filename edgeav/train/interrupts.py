"""Ctrl-C and SIGTERM during training: finish the step in flight, then stop with a checkpoint.

A signal that lands in the middle of ``optimizer.step()`` would leave half-updated weights, so the first
SIGINT/SIGTERM only raises a flag that the training loop reads between steps; the loop then saves and
stops. A second Ctrl-C stops at once (the user insists; the last checkpoint is what survives).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class StopRequest:
    """Set by the first stop signal; ``signal_name`` says which one arrived."""

    requested: bool = False
    signal_name: str = ""


@contextmanager
def stop_requests() -> Iterator[StopRequest]:
    """Within the block, SIGINT/SIGTERM set the yielded flag instead of raising; a second SIGINT raises
    KeyboardInterrupt. Outside the main thread (where Python cannot install handlers) nothing changes."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.requested, stop.signal_name = True, signal.Signals(signum).name

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
