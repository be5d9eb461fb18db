"""The runner protocol every runtime implements, and the per-operator records they all report in.

Every runner loads an artifact, takes the inputs in IOSpec order, runs with a chosen thread count, and
can report per-operator times in one shape (:class:`OpRecord`), each runtime through its own profiler
(the ``profile.py`` of each format folder; PyTorch eager in :mod:`export_targets.eager`).

Timing (``invoke``) excludes input conversion: ``prepare`` turns inputs into the runtime's own objects
once, so the harness times only the inference.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from edgeav.errors import ExportError
from edgeav.specs import IOSpec


@dataclass(frozen=True)
class OpRecord:
    """One operator as a runtime reports it, per inference (median over the profiled runs)."""

    name: str  # the runtime's name for this op instance (node name, XNNPACK label, ATen op)
    op_type: str  # its kind: Conv, CONV_2D, aten::convolution, "Convolution (NHWC, F32) IGEMM", ...
    backend: str  # what executed it: XNNPACK, portable, CPUExecutionProvider, TFLite builtin, ATen
    delegated: bool  # inside an accelerator delegate (XNNPACK) rather than the runtime's own kernels
    ms: float  # time per inference, summed over its calls in one inference
    calls: int = 1  # calls per inference

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OpProfile:
    """Per-op records of one runtime on one artifact, and what the numbers mean."""

    runtime: str
    method: str  # how the times were obtained, for the report (e.g. "ETDump via Inspector")
    records: tuple[OpRecord, ...]
    runs: int  # inferences profiled
    total_ms: float | None = None  # whole-inference median in the same session (None: not measured)
    notes: tuple[str, ...] = ()

    @property
    def op_ms(self) -> float:
        return float(sum(r.ms for r in self.records))

    def top(self, n: int) -> list[OpRecord]:
        return sorted(self.records, key=lambda r: -r.ms)[:n]

    def by_type(self) -> dict[str, float]:
        """Milliseconds per op type, largest first."""
        out: dict[str, float] = defaultdict(float)
        for r in self.records:
            out[r.op_type] += r.ms
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "method": self.method,
            "runs": self.runs,
            "total_ms": self.total_ms,
            "op_ms": self.op_ms,
            "notes": list(self.notes),
            "records": [r.to_dict() for r in self.records],
        }


class Runner(Protocol):
    """A loaded artifact. ``run`` takes the inputs in IOSpec order and returns the outputs in order."""

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]: ...


class ArtifactRunner(ABC):
    """A loaded artifact (or the eager model) ready to run with a fixed thread count.

    ``threads`` None leaves the runtime's default. Subclasses set ``runtime`` and implement
    ``prepare``/``invoke``/``outputs``; ``profile`` is optional (``per_op_method`` says how).
    """

    runtime: ClassVar[str]
    per_op_method: ClassVar[str] = ""

    def __init__(self, path: Path | None, io_spec: IOSpec | None = None, threads: int | None = None) -> None:
        if threads is not None and threads < 1:
            raise ExportError(f"thread count must be at least 1 (got {threads})")
        self.path = Path(path) if path is not None else None
        self.io_spec = io_spec
        self.threads = threads

    @property
    def label(self) -> str:
        return self.path.name if self.path else self.runtime

    @abstractmethod
    def prepare(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> Any:
        """The inputs as this runtime takes them (done once, outside the timed region)."""

    @abstractmethod
    def invoke(self, feed: Any) -> Any:
        """One inference on a prepared feed; returns the runtime's raw outputs."""

    @abstractmethod
    def outputs(self, raw: Any) -> list[np.ndarray]:
        """Raw outputs as numpy arrays, in IOSpec order."""

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]:
        """Inputs in IOSpec order → outputs in IOSpec order (what parity checks call)."""
        return self.outputs(self.invoke(self.prepare(inputs)))

    def profile(self, inputs: Sequence[torch.Tensor | np.ndarray], runs: int = 10, warmup: int = 2) -> OpProfile:
        """Per-op records over ``runs`` inferences; ExportError when the runtime has no per-op source."""
        raise ExportError(f"{self.runtime} has no per-operator profiler in edgeav; run without --per-op")


def to_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """A C-contiguous numpy array (no 0-strides, which some runtimes misread)."""
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return np.ascontiguousarray(arr)


def to_tensor(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A contiguous CPU tensor that owns its memory."""
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    return t.clone(memory_format=torch.contiguous_format)
