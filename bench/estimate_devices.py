"""The devices of the published validation rows (bench.estimate_rows) as bench.profiles.DeviceProfile.

Cores and clocks: the SoCs' public specifications (Paddle-Lite's benchmark page lists them for its eight
devices; Pixel SoCs: Pixel = SD821, Pixel 2 = SD835, Pixel 3 = SD845, Pixel 3a = SD670, Pixel 4 = SD855;
RPi 4 = BCM2711, 4× A72 @1.5 GHz). DRAM: theoretical bus figure (MT/s × bus bytes), used only by the
``roofline`` mode of bench.estimate_transfer.

Per-cycle rates follow one rule, not a per-device fit:
- fp32: 16 FLOP/cycle (two 128-bit FMLA per cycle) for Cortex-A76/A77, measured for the A76 with
  pigirons/cpufp (38.0 GFLOP/s @2.4 GHz); 8 for every older core (one 128-bit FMLA per cycle): measured
  for A72 (RPi 4: 11.96 GFLOP/s @1.5 GHz) and A55 (14.6 @1.8 GHz), assumed for A53, A73, A75 and Kryo.
- int8: 4× the fp32 rate where the runtimes use the dot-product instructions (SDOT) — A76/A77 — and 2×
  elsewhere (int8 as 16-bit widening multiply-accumulates: 8 lanes instead of 4). A75/A55 implement SDOT
  too, but the calibration rows (Paddle-Lite MobileNet v1 int8 over fp32: 1.33× on the SD845's A75 against
  2.45× on the SD855's A76) show the runtimes of these releases not using it there, so they count at 2×.
"""
from __future__ import annotations

from bench.profiles import CoreCluster, DeviceProfile
from edgeav.errors import UsageError

SDOT_CORES = frozenset({"A76", "A77"})  # SDOT used by the runtimes (see the module doc)
WIDE_FMA_CORES = frozenset({"A76", "A77"})


def cluster(core: str, count: int, ghz: float) -> CoreCluster:
    fp32 = 16 if core in WIDE_FMA_CORES else 8
    return CoreCluster(core, count, ghz, fp32, fp32 * (4 if core in SDOT_CORES else 2))


def _device(key: str, title: str, cores: tuple[tuple[str, int, float], ...], dram_gbs: float, source: str) -> DeviceProfile:
    return DeviceProfile(key=key, title=title, clusters=tuple(cluster(*c) for c in cores), dram_gbs=dram_gbs,
                         source=source)


_SD855 = (("A76", 1, 2.84), ("A76", 3, 2.42), ("A55", 4, 1.78))
_SD845 = (("A75", 4, 2.8), ("A55", 4, 1.77))
_SD835 = (("A73", 4, 2.45), ("A53", 4, 1.9))
_PADDLE = "PaddlePaddle/Paddle-Lite:docs/performance/benchmark.md (test machines)"

DEVICES: dict[str, DeviceProfile] = {d.key: d for d in (
    _device("pixel", "Pixel (SD821)", (("Kryo", 2, 2.15), ("Kryo", 2, 1.6)), 29.9, "SD821; LPDDR4-1866 ×64 bit"),
    _device("pixel2", "Pixel 2 (SD835)", _SD835, 29.9, "SD835; LPDDR4X-1866 ×64 bit"),
    _device("pixel3a", "Pixel 3a (SD670)", (("A75", 2, 2.0), ("A55", 6, 1.7)), 14.9, "SD670; LPDDR4X-1866 ×32 bit"),
    _device("pixel3", "Pixel 3 (SD845)", _SD845, 29.9, "SD845; LPDDR4X-1866 ×64 bit"),
    _device("pixel4", "Pixel 4 (SD855)", _SD855, 34.1, "SD855; LPDDR4X-2133 ×64 bit"),
    _device("rpi4", "Raspberry Pi 4 (BCM2711)", (("A72", 4, 1.5),), 12.8, "BCM2711; LPDDR4-3200 ×32 bit"),
    _device("sd865", "Xiaomi Mi 10 (SD865)", (("A77", 1, 2.84), ("A77", 3, 2.42), ("A55", 4, 1.8)), 44.0,
            _PADDLE + "; LPDDR5-2750 ×64 bit"),
    _device("sd855", "Xiaomi Mi 9 (SD855)", _SD855, 34.1, _PADDLE + "; LPDDR4X-2133 ×64 bit"),
    _device("sd845", "Xiaomi Mi 8 (SD845)", _SD845, 29.9, _PADDLE + "; LPDDR4X-1866 ×64 bit"),
    _device("sd835", "Xiaomi Mi 6 (SD835)", _SD835, 29.9, _PADDLE + "; LPDDR4X-1866 ×64 bit"),
    _device("sd625", "Redmi 6 Pro (SD625)", (("A53", 4, 1.8), ("A53", 4, 1.6)), 7.5, _PADDLE + "; LPDDR3-933 ×32 bit"),
    _device("kirin990", "Huawei Mate 30 (Kirin 990)", (("A76", 2, 2.86), ("A76", 2, 2.09), ("A55", 4, 1.86)), 34.1,
            _PADDLE + "; LPDDR4X-2133 ×64 bit"),
    _device("kirin980", "Huawei Mate 20 (Kirin 980)", (("A76", 2, 2.6), ("A76", 2, 1.92), ("A55", 4, 1.8)), 34.1,
            _PADDLE + "; LPDDR4X-2133 ×64 bit"),
    _device("rk3399", "RK3399 board", (("A72", 2, 1.8), ("A53", 4, 1.4)), 12.8, _PADDLE + "; LPDDR4-1600 ×64 bit"),
)}


def get_device(key: str) -> DeviceProfile:
    if key not in DEVICES:
        raise UsageError(f"unknown validation device '{key}'; choose one of: {', '.join(DEVICES)}")
    return DEVICES[key]
