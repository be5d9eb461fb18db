"""The validated estimator: host-measured latency by op class, transferred to a published row's device.

For one row (device, runtime family, threads T, precision p, model m) and the host measurement of m at p
in the family's format (bench.estimate_host):

    raw  = Σ_class host_ms[class] × transfer[class] / speedup(T)
    est  = raw / η[family, p]

- ``transfer`` (``mode``): ``peak`` — every class scales by host core peak / device fastest-core peak at
  p (bench.profiles: FLOP/cycle × clock); at int8 only conv/GEMM classes use the dot-product peaks (x86
  VNNI, ARM SDOT: they reduce along input channels), depthwise/elementwise/other the widening
  multiply-add rate (2× fp32 on both ISAs), i.e. the fp32 ratio (``DOT_CLASSES``); ``roofline`` — each class scales by the ratio of its one-thread
  roofline floors on device and host (bench.estimate.class_floor_ms: compute-bound classes by peak,
  memory-bound ones by DRAM bandwidth).
- ``speedup(T)`` = (Σ of the T fastest cores' peaks / the fastest core's) × T^(α−1): perfect scaling over
  the cores used, less a parallel-efficiency exponent α.
- ``η`` and α are fitted on the calibration rows only (bench.estimate_rows.CALIBRATION_MODELS): α from the
  rows that time the calibration model on the same device at one and at T > 1 threads (mean of
  1 + log(s / cores) / log T); η as the geometric mean of raw / published per (family, precision, core
  class) — in-order A53/A55 vs out-of-order cores — falling back to (family, precision) for a core class
  the family's calibration rows lack.
- The mode is fixed to ``peak``. ``roofline`` is kept for comparison (``python -m bench.validate --mode
  roofline``): it needs DRAM figures (theoretical, and the host's is a one-core copy measurement), and
  choosing between the modes by calibration fit picked it while it generalised worse (README).

Always labelled an estimate: it predicts a phone from this host's kernels and published per-core peaks.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench.cost import OP_CLASSES, OpCost
from bench.estimate import class_floor_ms
from bench.estimate_devices import get_device
from bench.estimate_host import HostMeasurement
from bench.estimate_rows import CALIBRATE, PublishedRow
from bench.profiles import DeviceProfile
from edgeav.errors import UsageError

MODES = ("peak", "roofline")
LABEL = "estimate (host-transferred, calibrated on disjoint rows)"
# Measurements by (model, precision, format suffix).
Measurements = Mapping[tuple[str, str, str], HostMeasurement]


def speedup(device: DeviceProfile, threads: int, precision: str, alpha: float) -> float:
    peaks = device.core_peaks(precision)[: max(1, threads)]
    return sum(peaks) / peaks[0] * threads ** (alpha - 1.0)


# Classes whose int8 kernels reduce along input channels, which dot-product instructions (x86 VNNI, ARM
# SDOT) need; depthwise, elementwise and the rest run int8 as 16-bit widening multiply-adds on both ISAs:
# twice the fp32 lanes, i.e. at the fp32 peak ratio.
DOT_CLASSES = frozenset({"conv", "gemm"})


def peak_ratios(host: DeviceProfile, device: DeviceProfile, precision: str) -> dict[str, float]:
    """Host core peak / device fastest-core peak per op class (the ``peak`` mode's transfer)."""
    fp32 = host.core_peaks("fp32")[0] / device.core_peaks("fp32")[0]
    if precision != "int8":
        return dict.fromkeys(OP_CLASSES, fp32)
    dot = host.core_peaks("int8")[0] / device.core_peaks("int8")[0]
    return {k: dot if k in DOT_CLASSES else fp32 for k in OP_CLASSES}


def transfer(mode: str, host: DeviceProfile, device: DeviceProfile, precision: str,
             costs: Sequence[OpCost]) -> dict[str, float]:
    """Device time / host time per op class at one thread."""
    if mode == "peak":
        return peak_ratios(host, device, precision)
    peak_ratio = host.core_peaks(precision)[0] / device.core_peaks(precision)[0]
    if mode != "roofline":
        raise UsageError(f"unknown estimator mode '{mode}'; choose one of: {', '.join(MODES)}")
    dev, hst = class_floor_ms(costs, device, 1, precision), class_floor_ms(costs, host, 1, precision)
    return {k: (dev[k] / hst[k] if hst[k] > 0 else peak_ratio) for k in OP_CLASSES}


def raw_estimate(row: PublishedRow, m: HostMeasurement, host: DeviceProfile, costs: Sequence[OpCost],
                 mode: str, alpha: float) -> float:
    device = get_device(row.device)
    ratio = transfer(mode, host, device, row.precision, costs)
    share = m.class_share or {"gemm": 1.0}  # no split: all of it in a dot-product class
    t1 = sum(m.ms * share.get(k, 0.0) * ratio[k] for k in OP_CLASSES)
    return t1 / speedup(device, row.threads, row.precision, alpha)


IN_ORDER_CORES = frozenset({"A53", "A55"})


def core_class(row: PublishedRow) -> str:
    """``in-order`` (A53/A55: no out-of-order window to hide load latency and per-op overhead) or ``out-of-order``."""
    fastest = max(get_device(row.device).clusters, key=lambda c: c.peak_gops(row.precision))
    return "in-order" if fastest.name in IN_ORDER_CORES else "out-of-order"


def groups(row: PublishedRow) -> tuple[str, str]:
    """The η keys of a row, most specific first: family/precision/core class, then family/precision."""
    general = f"{row.family}/{row.precision}"
    return f"{general}/{core_class(row)}", general


def fit_eta(cal: Sequence[PublishedRow], raws: Mapping[str, float]) -> dict[str, float]:
    """Geometric mean of raw / published per η key (each calibration row counts in both of its keys)."""
    logs: dict[str, list[float]] = {}
    for r in cal:
        for key in groups(r):
            logs.setdefault(key, []).append(math.log(raws[r.key] / r.ms))
    return {k: math.exp(statistics.fmean(v)) for k, v in sorted(logs.items())}


def eta_of(eta: Mapping[str, float], row: PublishedRow) -> float | None:
    return next((eta[k] for k in groups(row) if k in eta), None)


def fit_alpha(rows: Sequence[PublishedRow]) -> float:
    """Parallel-efficiency exponent from calibration rows timed at 1 and T > 1 threads on one device."""
    one = {(r.family, r.device, r.precision, r.model): r.ms for r in rows if r.threads == 1}
    terms = []
    for r in rows:
        base = one.get((r.family, r.device, r.precision, r.model))
        if r.threads > 1 and base is not None:
            cores = speedup(get_device(r.device), r.threads, r.precision, 1.0)
            terms.append(1.0 + math.log(base / r.ms / cores) / math.log(r.threads))
    return statistics.fmean(terms) if terms else 1.0


@dataclass(frozen=True)
class Fit:
    mode: str
    alpha: float
    eta: dict[str, float]  # "family/precision[/core class]" -> η (see groups)
    calibration_mdape: float

    def to_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "alpha": self.alpha, "eta": self.eta, "calibration_mdape": self.calibration_mdape}


RawFn = Callable[[PublishedRow, str, float], float]  # (row, mode, alpha) -> raw ms


def fit(rows: Sequence[PublishedRow], raw: RawFn, modes: Sequence[str] = ("peak",)) -> Fit:
    """α and η (and, given several ``modes``, the better-fitting mode) from ``rows``' calibration rows alone
    (held-out rows are never passed to ``raw``)."""
    cal = [r for r in rows if r.role == CALIBRATE]
    if not cal:
        raise UsageError("no calibration rows: every family needs rows of its calibration model")
    alpha = fit_alpha(cal)
    best: Fit | None = None
    for mode in modes:
        raws = {r.key: raw(r, mode, alpha) for r in cal}
        eta = fit_eta(cal, raws)
        mdape = statistics.median(abs(raws[r.key] / eta_of(eta, r) / r.ms - 1) for r in cal)  # type: ignore[operator]
        if best is None or mdape < best.calibration_mdape:
            best = Fit(mode, alpha, eta, mdape)
    assert best is not None
    return best


@dataclass(frozen=True)
class RowResult:
    row: PublishedRow
    estimate_ms: float | None  # None: no host measurement for this row's artifact
    note: str = ""

    @property
    def error(self) -> float | None:
        return None if self.estimate_ms is None else (self.estimate_ms - self.row.ms) / self.row.ms

    @property
    def ratio(self) -> float | None:
        """max(est / published, published / est): 2.0 means a factor of two off either way."""
        if self.estimate_ms is None:
            return None
        return max(self.estimate_ms / self.row.ms, self.row.ms / self.estimate_ms)


def apply(rows: Sequence[PublishedRow], model_fit: Fit, raw: RawFn) -> list[RowResult]:
    out = []
    for r in rows:
        eta = eta_of(model_fit.eta, r)
        if eta is None:
            out.append(RowResult(r, None, f"no calibration rows for {groups(r)[1]}"))
            continue
        out.append(RowResult(r, raw(r, model_fit.mode, model_fit.alpha) / eta))
    return out


@dataclass(frozen=True)
class Summary:
    rows: int
    mdape: float  # median absolute relative error
    within_2x: int
    worst_ratio: float


def summarize(results: Sequence[RowResult]) -> Summary | None:
    done = [r for r in results if r.error is not None]
    if not done:
        return None
    return Summary(len(done), statistics.median(abs(r.error) for r in done),  # type: ignore[arg-type]
                   sum(r.ratio <= 2.0 for r in done), max(r.ratio for r in done))  # type: ignore[operator]
