"""The device interface: where a benchmark runs. Host, a phone over adb, an emulated ARM core over qemu.

A device takes one :class:`~bench.targets.BenchTarget` and :class:`RunSettings` and returns a
:class:`Measurement`: whole-run timing statistics and per-op records (host, phone), or guest instruction
counts and ARM-vs-host parity (the emulated ARM core, whose emulated time is no latency). A device that
cannot run here says why in ``skip_reason`` (no adb, no runner binary, not set up) instead of failing
halfway. Remote devices share one flow (bench/devices/measure.py) over a transport (transport.py).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.stats import Stats
from bench.targets import BenchTarget
from export_targets.runtime import OpProfile

if TYPE_CHECKING:
    from bench.devices.counts import InstructionCounts
    from bench.devices.parity import DeviceParity


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
    error: str = ""  # set when the target could not run; stats and instructions are then None
    instructions: InstructionCounts | None = None  # emulated devices: guest instructions instead of stats
    parity: tuple[DeviceParity, ...] = ()  # emulated devices: outputs against the host's and eager's

    @property
    def ok(self) -> bool:
        """Measured: timed, or counted."""
        return not self.error and (self.stats is not None or self.instructions is not None)

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "label": t.label, "format": t.format, "model": t.model, "config": t.config,
            "precision": t.precision, "path": str(t.path) if t.path else None, "size_mb": t.size_mb,
            "device": self.device, "threads": self.threads,
            "stats": self.stats.to_dict() if self.stats else None,
            "samples_ms": list(self.samples_ms), "per_op": self.profile.to_dict() if self.profile else None,
            "instructions": self.instructions.to_dict() if self.instructions else None,
            "parity": [p.to_dict() for p in self.parity],
            "notes": list(self.notes), "error": self.error,
        }


@dataclass
class Device(ABC):
    """Where targets run. ``name`` is what the user typed (``host``, ``adb:SERIAL``, ``arm:cortex-a76``)."""

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
        """Warm up, time (or count) ``settings.runs`` inferences, and profile per op when asked."""

    def compare(self, targets: list[BenchTarget], settings: RunSettings) -> dict[str, list[float]]:
        """Timings per target label, interleaved run by run (devices that cannot interleave raise)."""
        from edgeav.errors import UsageError

        raise UsageError(f"device {self.name} cannot interleave targets; run --compare on --device host")
