"""The device interface: where a benchmark runs. Host, a phone over adb, and next an ARM emulator.

A device takes one :class:`~bench.targets.BenchTarget` and :class:`RunSettings` and returns a
:class:`Measurement` (whole-run statistics, and per-op records when asked). A device that cannot run
here says why in ``skip_reason`` (no adb, no runner binary, no phone) instead of failing halfway.
An ARM emulator device (qemu-user + a sysroot, see shared/design/arm.md) fits the same shape as
``AdbDevice``: push = copy into the sysroot, shell = ``qemu-aarch64 -L <sysroot> ...``; its timings
are not latencies, so it would fill ``Measurement.notes`` and per-op instruction counts instead.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from bench.stats import Stats
from bench.targets import BenchTarget
from export_targets.runtime import OpProfile


@dataclass(frozen=True)
class RunSettings:
    threads: int = 1
    runs: int = 50
    warmup: int = 5
    per_op: bool = False
    per_op_runs: int = 10


@dataclass(frozen=True)
class Measurement:
    """What one device measured for one target."""

    target: BenchTarget
    device: str
    threads: int
    stats: Stats | None
    profile: OpProfile | None = None
    samples_ms: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()
    error: str = ""  # set when the target could not run; stats is then None

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "label": t.label, "format": t.format, "model": t.model, "config": t.config,
            "precision": t.precision, "path": str(t.path) if t.path else None, "size_mb": t.size_mb,
            "device": self.device, "threads": self.threads,
            "stats": self.stats.to_dict() if self.stats else None,
            "samples_ms": list(self.samples_ms), "per_op": self.profile.to_dict() if self.profile else None,
            "notes": list(self.notes), "error": self.error,
        }


@dataclass
class Device(ABC):
    """Where targets run. ``name`` is what the user typed (``host``, ``adb:SERIAL``)."""

    name: str
    options: dict[str, str] = field(default_factory=dict)

    def skip_reason(self) -> str | None:
        """Why this device cannot run anything now, or None."""
        return None

    def unsupported(self, target: BenchTarget) -> str | None:
        """Why this device cannot run ``target``, or None."""
        return None

    @abstractmethod
    def measure(self, target: BenchTarget, settings: RunSettings) -> Measurement:
        """Warm up, time ``settings.runs`` inferences, and profile per op when asked."""

    def compare(self, targets: list[BenchTarget], settings: RunSettings) -> dict[str, list[float]]:
        """Timings per target label, interleaved run by run (devices that cannot interleave raise)."""
        from edgeav.errors import UsageError

        raise UsageError(f"device {self.name} cannot interleave targets; run --compare on --device host")
