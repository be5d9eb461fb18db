"""The benchmark request: what `edgeav bench` and ``edgeav.bench`` were asked to time, validated once.

    report = benchmark(BenchRequest(("dist/m.pte", "dist/m.tflite"), per_op=True))
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.calibration import Calibration
from bench.devices import RunSettings, get_device
from bench.harness import BenchReport, Progress, run_bench, run_compare
from bench.profiles import DeviceProfile, get_profile
from bench.targets import eager_twin, resolve_target
from edgeav.errors import UsageError

DEFAULT_PROFILES = ("sd8gen2", "sd8gen3", "sd8elite")


@dataclass(frozen=True)
class BenchRequest:
    """Targets (artifacts with manifests, or eager:MODEL[:CONFIG]) and how to time them."""

    targets: Sequence[str | Path]
    device: str = "host"  # host, adb or adb:SERIAL
    threads: int = 1
    runs: int = 50
    warmup: int = 5
    per_op: bool = False
    per_op_runs: int = 10
    compare: bool = False  # interleave the targets run by run and report ratios to the first
    eager: bool = False  # add the PyTorch eager reference of the first artifact's model
    profiles: Sequence[str] = DEFAULT_PROFILES  # device profiles to estimate on (() for none)
    calibration: Path | None = None  # host calibration JSON: adds host-calibrated estimates
    runner_dir: Path | None = None  # adb: folder with edgeav_et_runner (+ lib/) built for the phone
    resolved_profiles: tuple[DeviceProfile, ...] = field(init=False, repr=False, compare=False)
    loaded_calibration: Calibration | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(self.targets))
        for name, value, low in (("--threads", self.threads, 1), ("--runs", self.runs, 1),
                                 ("--warmup", self.warmup, 0), ("--per-op-runs", self.per_op_runs, 1)):
            if value < low:
                raise UsageError(f"{name} must be at least {low} (got {value})")
        if not self.targets:
            raise UsageError("nothing to benchmark; pass artifacts (.pte/.tflite/.onnx) or eager:MODEL")
        if self.compare and len(self.targets) + int(self.eager) < 2:
            raise UsageError("--compare needs at least two targets (artifacts, or one artifact and --eager)")
        object.__setattr__(self, "resolved_profiles", tuple(get_profile(k.strip()) for k in self.profiles))
        calibration = Calibration.load(self.calibration) if self.calibration else None
        if calibration and calibration.threads != self.threads:
            raise UsageError(f"{self.calibration} holds {calibration.threads}-thread efficiencies; run with --threads "
                             f"{calibration.threads} or calibrate with: python -m bench.calibrate ARTIFACT --threads "
                             f"{self.threads}")
        object.__setattr__(self, "loaded_calibration", calibration)

    @property
    def settings(self) -> RunSettings:
        return RunSettings(threads=self.threads, runs=self.runs, warmup=self.warmup, per_op=self.per_op,
                           per_op_runs=self.per_op_runs)


def benchmark(request: BenchRequest, progress: Progress | None = None) -> BenchReport:
    """Time (or interleave) the request's targets on its device; UsageError when the device cannot run here."""
    device = get_device(request.device, request.runner_dir)
    reason = device.skip_reason()
    if reason:
        raise UsageError(f"device {request.device} cannot run benchmarks: {reason}")
    targets = [resolve_target(t) for t in request.targets]
    if request.eager:
        targets.append(eager_twin(next((t for t in targets if t.path), targets[0])))
    if request.compare:
        return run_compare(targets, device, request.settings, progress)
    return run_bench(targets, device, request.settings, request.resolved_profiles, progress,
                     request.loaded_calibration)


def profile_keys(spec: str) -> tuple[str, ...]:
    """``--profiles`` text to profile keys: comma-separated, or ``none``."""
    return () if spec.strip().lower() == "none" else tuple(k.strip() for k in spec.split(",") if k.strip())


