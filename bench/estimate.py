"""Per-op roofline latency *estimates* on a device profile. Always an estimate, never a measurement.

    t_op = max(FLOPs / peak(precision, threads), bytes / DRAM bandwidth) + per-op overhead

Peak is the sum of the ``threads`` fastest cores (perfect scaling), bandwidth the theoretical DRAM
figure, and the overhead a fixed dispatch cost per op; int8 artifacts use the SDOT peak and a quarter
of the fp32 bytes. It ignores caches (small activations that stay in L2 beat DRAM), kernel efficiency
(real kernels reach a fraction of peak) and thermal throttling, so it bounds latency from below.

``class_floor_ms`` splits the same floor by op class (bench.cost.OP_CLASSES, no dispatch overhead): the
host calibration (bench.calibration) divides each class by the kernel efficiency measured on this host.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.cost import OP_CLASSES, OpCost
from bench.profiles import DeviceProfile

# Assumed, not measured: a runtime's dispatch cost per operator on a phone core.
PER_OP_OVERHEAD_MS = 0.002
LABEL = "estimate (roofline floor)"


@dataclass(frozen=True)
class Estimate:
    profile: str
    threads: int
    precision: str
    ms: float
    compute_ms: float  # sum over ops of the compute term
    memory_ms: float  # sum over ops of the memory term
    overhead_ms: float
    ops: int
    memory_bound_ops: int
    gflops: float

    def to_dict(self) -> dict[str, float | int | str]:
        return {"label": LABEL, **self.__dict__}


def _terms(costs: Sequence[OpCost], profile: DeviceProfile, threads: int, precision: str) -> list[tuple[float, float]]:
    """(compute s, memory s) of every op: int8 uses the dot-product peak and a quarter of the fp32 bytes."""
    peak = profile.peak_gops(precision, threads) * 1e9
    bw = profile.dram_gbs * 1e9
    byte_scale = 0.25 if precision == "int8" else 1.0
    return [(c.flops / peak, c.bytes * byte_scale / bw) for c in costs]


def estimate(costs: Sequence[OpCost], profile: DeviceProfile, threads: int, precision: str = "fp32",
             overhead_ms: float = PER_OP_OVERHEAD_MS) -> Estimate:
    """Roofline floor of one inference of ``costs`` on ``profile`` with ``threads`` threads."""
    terms = _terms(costs, profile, threads, precision)
    overhead = overhead_ms * len(costs)
    return Estimate(profile=profile.key, threads=threads, precision=precision,
                    ms=sum(max(t) for t in terms) * 1e3 + overhead,
                    compute_ms=sum(t[0] for t in terms) * 1e3, memory_ms=sum(t[1] for t in terms) * 1e3,
                    overhead_ms=overhead, ops=len(costs), memory_bound_ops=sum(m > c for c, m in terms),
                    gflops=sum(c.flops for c in costs) / 1e9)


def class_floor_ms(costs: Sequence[OpCost], profile: DeviceProfile, threads: int,
                   precision: str = "fp32") -> dict[str, float]:
    """The roofline floor per op class in ms (every class in OP_CLASSES; no dispatch overhead)."""
    out = dict.fromkeys(OP_CLASSES, 0.0)
    for c, t in zip(costs, _terms(costs, profile, threads, precision)):
        out[c.kind] += max(t) * 1e3
    return out
