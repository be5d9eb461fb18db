"""The harness: time targets on a device, profile them per op, estimate them on device profiles.

    report = run_bench([resolve_target(p) for p in paths], get_device("host"), RunSettings(per_op=True))

The report holds data only; ``bench.report`` renders it (tables, JSON, CSV, chart).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.calibration import CAL_LABEL, CalibratedEstimate, Calibration
from bench.cost import registry_costs
from bench.devices import Device, Measurement, RunSettings
from bench.estimate import LABEL, Estimate, estimate
from bench.profiles import DeviceProfile
from bench.stats import Ratio, Stats, ratios
from bench.targets import BenchTarget, check_same_inputs
from edgeav.errors import EdgeAVError
from edgeav.files import one_line


@dataclass
class BenchReport:
    device: str
    settings: RunSettings
    measurements: list[Measurement] = field(default_factory=list)
    # label -> profile key -> estimate (threads as measured)
    estimates: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    # label -> profile key -> host-calibrated estimate (only with a calibration of the same precision)
    calibrated: dict[str, dict[str, CalibratedEstimate]] = field(default_factory=dict)
    comparison: dict[str, list[float]] = field(default_factory=dict)  # label -> interleaved ms
    ratios: list[Ratio] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C stopped the run; measurements after it carry that as their error

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "settings": self.settings.__dict__,
            "measurements": [m.to_dict() for m in self.measurements],
            "estimates": {k: {p: e.to_dict() for p, e in v.items()} for k, v in self.estimates.items()},
            "estimate_label": LABEL,
            "calibrated_estimates": {k: {p: e.to_dict() for p, e in v.items()} for k, v in self.calibrated.items()},
            "calibrated_label": CAL_LABEL,
            "comparison": {
                "timings_ms": self.comparison,
                "stats": {k: Stats.of(v).to_dict() for k, v in self.comparison.items()},
                "ratios": [r.__dict__ for r in self.ratios],
            } if self.comparison else None,
            "failed": [m.target.label for m in self.measurements if m.error],
            "interrupted": self.interrupted,
        }


Progress = Callable[[str], None]


def run_bench(targets: Sequence[BenchTarget], device: Device, settings: RunSettings,
              profiles: Sequence[DeviceProfile] = (), progress: Progress | None = None,
              calibration: Calibration | None = None) -> BenchReport:
    """Measure every target on ``device`` one after another, then estimate each on ``profiles``
    (the roofline floor, and the host-calibrated estimate when a calibration is given)."""
    report = BenchReport(device=device.name, settings=settings)
    say = progress or (lambda _m: None)
    for i, target in enumerate(targets):
        say(f"timing {target.label}")
        try:
            report.measurements.append(_measure(device, target, settings))
        except KeyboardInterrupt:  # keep what was measured: the caller still writes the report
            report.measurements += [Measurement(t, device.name, settings.threads, None,
                                                error="interrupted (Ctrl-C) before it was measured")
                                    for t in targets[i:]]
            report.interrupted = True
            return report
    if profiles:
        say("estimating on device profiles")
        report.estimates = estimates_for(targets, profiles, settings.threads)
        if calibration is not None:
            report.calibrated = calibrated_for(targets, profiles, calibration)
    return report


def _measure(device: Device, target: BenchTarget, settings: RunSettings) -> Measurement:
    """One target's measurement; any failure is recorded in it (one line), so the other targets still run."""
    reason = device.unsupported(target)
    if reason:
        return Measurement(target, device.name, settings.threads, None, error=reason)
    try:
        return device.measure(target, settings)
    except EdgeAVError as exc:
        return Measurement(target, device.name, settings.threads, None, error=str(exc))
    except Exception as exc:  # a runtime crashing on one artifact must not discard the others' numbers
        return Measurement(target, device.name, settings.threads, None, error=f"failed while measured: {one_line(exc)}")


def run_compare(targets: Sequence[BenchTarget], device: Device, settings: RunSettings,
                progress: Progress | None = None) -> BenchReport:
    """Interleave the targets run by run on ``device`` and report ratios to the first one."""
    check_same_inputs(list(targets))
    (progress or (lambda _m: None))(f"interleaving {len(targets)} targets")
    timings = device.compare(list(targets), settings)
    report = BenchReport(device=device.name, settings=settings, comparison=timings)
    report.measurements = [Measurement(t, device.name, settings.threads, Stats.of(timings[t.label]),
                                       samples_ms=tuple(timings[t.label])) for t in targets]
    report.ratios = ratios(timings, baseline=targets[0].label)
    return report


def estimates_for(targets: Sequence[BenchTarget], profiles: Sequence[DeviceProfile],
                  threads: int) -> dict[str, dict[str, Estimate]]:
    """Roofline estimates per target and profile (targets of one model/config share one cost table)."""
    return _per_target(targets, lambda t, costs: {p.key: estimate(costs, p, threads, _precision(t)) for p in profiles})


def calibrated_for(targets: Sequence[BenchTarget], profiles: Sequence[DeviceProfile],
                   calibration: Calibration) -> dict[str, dict[str, CalibratedEstimate]]:
    """Host-calibrated estimates per target and profile, for targets of the calibration's precision."""
    chosen = [t for t in targets if calibration.applies_to(_precision(t))]
    return _per_target(chosen, lambda _t, costs: {p.key: calibration.apply(costs, p, calibration.threads)
                                                  for p in profiles})


def _precision(target: BenchTarget) -> str:
    return "int8" if target.precision == "int8" else "fp32"


def _per_target(targets: Sequence[BenchTarget], make: Callable[[BenchTarget, Any], dict]) -> dict[str, dict]:
    """``make(target, op costs)`` for every target whose model the registry can cost (others are left out)."""
    out: dict[str, dict] = {}
    for t in targets:
        try:
            costs = registry_costs(t.model, t.config)
        except EdgeAVError:
            continue
        out[t.label] = make(t, costs)
    return out
