"""Snapdragon-class device profiles: per-core peak compute and DRAM bandwidth (figures: anchors.md §4).

Peaks are per-cycle throughput × clock. Per-cycle rates were measured with cpufp on the same core
families (Cortex-A720/A520, Oryon gen 1, Cortex-A76) and *derived* for the rest (X3/X4: four 128-bit
FMA pipes; A710/A715 like A720; A510 like A520; Oryon gen 2 like gen 1). Bandwidth is the theoretical
LPDDR5X figure (MT/s × 8 bytes); sustained CPU bandwidth is lower. So every latency computed from a
profile is a floor, and the harness labels it *estimate*.

``host_profile`` describes this machine's CPU the same way, for the host calibration (bench.calibration):
its FLOPs per cycle follow from the vector ISA in ``/proc/cpuinfo`` and its clock is the one the kernel
reports (see ``host_profile`` for the assumptions).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeav.errors import UsageError


@dataclass(frozen=True)
class CoreCluster:
    name: str
    count: int
    ghz: float
    fp32_flops_per_cycle: int  # FMA = 2 FLOPs
    int8_ops_per_cycle: int  # SDOT

    def peak_gops(self, precision: str) -> float:
        per_cycle = self.int8_ops_per_cycle if precision == "int8" else self.fp32_flops_per_cycle
        return per_cycle * self.ghz


@dataclass(frozen=True)
class DeviceProfile:
    key: str
    title: str
    clusters: tuple[CoreCluster, ...]
    dram_gbs: float  # theoretical DRAM bandwidth
    source: str

    def core_peaks(self, precision: str) -> list[float]:
        """Peak GFLOP/s (or GOP/s) of every core, fastest first."""
        return sorted((c.peak_gops(precision) for c in self.clusters for _ in range(c.count)), reverse=True)

    def peak_gops(self, precision: str, threads: int) -> float:
        """Peak of the ``threads`` fastest cores (one thread per core)."""
        return sum(self.core_peaks(precision)[: max(1, threads)])

    @property
    def cores(self) -> int:
        return sum(c.count for c in self.clusters)


PROFILES: dict[str, DeviceProfile] = {
    p.key: p
    for p in (
        DeviceProfile(
            key="sd8gen2", title="Snapdragon 8 Gen 2",
            clusters=(CoreCluster("Cortex-X3", 1, 3.19, 32, 128), CoreCluster("Cortex-A715", 2, 2.8, 16, 64),
                      CoreCluster("Cortex-A710", 2, 2.8, 16, 64), CoreCluster("Cortex-A510", 3, 2.0, 8, 32)),
            dram_gbs=67.2, source="SM8550; LPDDR5X-4200 (8400 MT/s); anchors.md §4",
        ),
        DeviceProfile(
            key="sd8gen3", title="Snapdragon 8 Gen 3",
            clusters=(CoreCluster("Cortex-X4", 1, 3.3, 32, 128), CoreCluster("Cortex-A720", 3, 3.2, 16, 64),
                      CoreCluster("Cortex-A720", 2, 3.0, 16, 64), CoreCluster("Cortex-A520", 2, 2.3, 8, 32)),
            dram_gbs=76.8, source="SM8650; LPDDR5X-4800 (9600 MT/s); anchors.md §4",
        ),
        DeviceProfile(
            key="sd8elite", title="Snapdragon 8 Elite",
            clusters=(CoreCluster("Oryon Prime", 2, 4.32, 32, 128), CoreCluster("Oryon Performance", 6, 3.53, 32, 128)),
            dram_gbs=84.8, source="SM8750; LPDDR5X-5300 (10600 MT/s); anchors.md §4",
        ),
    )
}


def get_profile(key: str) -> DeviceProfile:
    if key not in PROFILES:
        raise UsageError(f"unknown device profile '{key}'; choose one of: {', '.join(PROFILES)}")
    return PROFILES[key]


# x86 vector ISAs, widest first: (cpuinfo flag, fp32 FLOPs/cycle, int8 ops/cycle) for a core with two FMA
# ports, which every AVX2 core since Haswell and the Xeon Gold/Platinum AVX-512 cores have (some Xeon
# Silver/Bronze parts have one 512-bit FMA port: half the AVX-512 figure). fp32: ports × lanes × 2 (FMA).
# int8: VNNI (VPDPBUSD) does 4 multiply-adds per 32-bit lane; AVX2 without VNNI needs three instructions
# for the same work, taken here as a quarter of the VNNI rate per lane.
X86_VECTOR_RATES: tuple[tuple[str, int, int], ...] = (
    ("avx512f", 64, 256),  # 2 × 16 lanes × 2; int8 with avx512_vnni (else half, see _int8_rate)
    ("fma", 32, 64),  # AVX2 + FMA3: 2 × 8 × 2
    ("avx", 16, 32),  # separate add and multiply ports, 8 lanes each
    ("sse2", 8, 16),
)


@dataclass(frozen=True)
class CpuInfo:
    model: str
    mhz: float
    flags: frozenset[str]
    cpus: int


def parse_cpuinfo(text: str) -> CpuInfo:
    """Model name, clock, ISA flags and CPU count from the text of ``/proc/cpuinfo`` (x86 layout)."""
    fields: dict[str, str] = {}
    cpus = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep:
            continue
        if key == "processor":
            cpus += 1
        fields.setdefault(key, value.strip())
    if "flags" not in fields or "cpu MHz" not in fields:
        raise UsageError("cannot read this CPU's flags and clock from /proc/cpuinfo (x86 Linux only); "
                         "calibrate on an x86 Linux host")
    return CpuInfo(model=fields.get("model name", "unknown CPU"), mhz=float(fields["cpu MHz"]),
                   flags=frozenset(fields["flags"].split()), cpus=max(cpus, 1))


def host_profile(dram_gbs: float, cpuinfo: CpuInfo | None = None) -> DeviceProfile:
    """This machine as a DeviceProfile: per-core peak from its widest vector ISA × its reported clock.

    Assumptions (also written into every calibration file): two FMA ports per core (see
    ``X86_VECTOR_RATES``); the clock is ``cpu MHz`` from /proc/cpuinfo, which in a VM is the nominal (TSC)
    clock: turbo above it makes the real peak higher and the derived kernel efficiencies lower than
    stated. ``dram_gbs`` is supplied by the caller (the calibration measures one core's copy bandwidth).
    """
    info = cpuinfo or parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    flag, fp32, int8 = next((r for r in X86_VECTOR_RATES if r[0] in info.flags), ("scalar", 2, 2))
    if flag == "avx512f" and "avx512_vnni" not in info.flags:
        int8 //= 2
    core = CoreCluster(f"{info.model} ({flag})", info.cpus, info.mhz / 1000.0, fp32, int8)
    return DeviceProfile(
        key="host", title=f"host: {info.model}", clusters=(core,), dram_gbs=dram_gbs,
        source=f"/proc/cpuinfo: {flag}, {info.mhz:.0f} MHz reported; {fp32} fp32 FLOP/cycle assumes two FMA ports",
    )
