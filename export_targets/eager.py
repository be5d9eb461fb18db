"""The PyTorch module itself as a runner (the reference every artifact is timed and compared against)."""
from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeav.specs import IOSpec
from export_targets._quiet import captured_output
from export_targets.runtime import ArtifactRunner, OpProfile, OpRecord, to_numpy, to_tensor

METHOD = "torch.profiler (self CPU time per ATen op kind)"


class EagerRunner(ArtifactRunner):
    """The PyTorch module under ``inference_mode`` with ``threads`` intra-op threads.

    ``torch.set_num_threads`` is process-wide: it is set when the runner is made.
    """

    runtime = "PyTorch eager"
    per_op_method = METHOD

    def __init__(self, model: nn.Module, io_spec: IOSpec | None = None, threads: int | None = None,
                 name: str = "eager") -> None:
        super().__init__(None, io_spec, threads)
        if threads is not None:
            torch.set_num_threads(threads)
        self.model = model.eval()
        self.name = name

    @property
    def label(self) -> str:
        return self.name

    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> tuple[torch.Tensor, ...]:
        return tuple(to_tensor(x) for x in inputs)

    def invoke(self, feed: tuple[torch.Tensor, ...]) -> Any:
        with torch.inference_mode():
            return self.model(*feed)

    def outputs(self, raw: Any) -> list[np.ndarray]:
        outs = [raw] if isinstance(raw, torch.Tensor) else list(raw)
        return [to_numpy(o) for o in outs]

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        from torch.profiler import ProfilerActivity, profile

        feed = self.prepare(inputs)
        for _ in range(warmup):
            self.invoke(feed)
        walls = []
        with captured_output(), profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                start = time.perf_counter_ns()
                self.invoke(feed)
                walls.append((time.perf_counter_ns() - start) / 1e6)
        events = [(e.key, e.self_cpu_time_total / 1000.0, e.count) for e in prof.key_averages()]
        return dataclasses.replace(eager_profile(events, runs), total_ms=float(statistics.median(walls)))


def eager_profile(events: Sequence[tuple[str, float, int]], runs: int) -> OpProfile:
    """Records from torch.profiler key averages (op name, self ms summed over runs, count over runs)."""
    records = tuple(
        OpRecord(name=key, op_type=key, backend="ATen", delegated=False, ms=self_ms / runs,
                 calls=max(count // runs, 1))
        for key, self_ms, count in events
        if key.startswith("aten::") and self_ms > 0
    )
    return OpProfile(runtime="PyTorch eager", method=METHOD, records=records, runs=runs,
                     notes=("self time: an op's own kernel time, excluding the ATen ops it calls; the total is "
                            "wall time under the profiler, which adds overhead per op",))
