"""The benchmark request: what `edgeav bench` and ``edgeav.bench`` were asked to time, validated once.

    report = benchmark(BenchRequest(("dist/m.pte", "dist/m.tflite"), per_op=True))
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.calibration import Calibration
from bench.devices import Measurement, RunSettings
from bench.devices.table import DeviceOptions, device_kind, get_device
from bench.harness import BenchReport, Progress, run_bench, run_compare
from bench.profiles import DeviceProfile, get_profile
from bench.targets import EAGER_PREFIX, BenchTarget, eager_twin, resolve_target
from edgeav.errors import EdgeAVError, UsageError
from edgeav.files import one_line

DEFAULT_PROFILES = ("sd8gen2", "sd8gen3", "sd8elite")


@dataclass(frozen=True)
class BenchRequest:
    """Targets (artifacts with manifests, or eager:MODEL[:CONFIG]) and how to time them."""

    targets: Sequence[str | Path]
    device: str = "host"  # host, adb[:SERIAL] or arm[:CPU] (bench/devices/table.py)
    threads: int = 1
    runs: int | None = None  # None: the device's default (host/adb 50, arm 1: its counts repeat exactly)
    warmup: int | None = None  # None: the device's default (host/adb 5, arm 1)
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
        self._device_part()
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

    def _device_part(self) -> None:
        """The device named, its default run counts, and the thread counts it can measure with."""
        kind, _ = device_kind(self.device)
        for name, default in (("runs", kind.runs), ("warmup", kind.warmup)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        if kind.max_threads is not None and self.threads > kind.max_threads:
            raise UsageError(f"--device {self.device} counts with {kind.max_threads} thread (instruction counts "
                             f"repeat exactly only then); run with --threads {kind.max_threads}")

    @property
    def settings(self) -> RunSettings:
        return RunSettings(threads=self.threads, runs=self.runs, warmup=self.warmup, per_op=self.per_op,
                           per_op_runs=self.per_op_runs)


def benchmark(request: BenchRequest, progress: Progress | None = None) -> BenchReport:
    """Time (or interleave) the request's targets on its device; UsageError when the device cannot run here.

    A target that cannot be read (no manifest, one that does not describe it) or fails while it is opened or run
    is recorded in the report with its error line, in the order given, and the others are still measured:
    one bad artifact never discards a call's measurements. ``--compare`` needs every target, so there the first
    failure is raised before anything runs.
    """
    device = get_device(request.device, DeviceOptions(runner_dir=request.runner_dir))
    reason = device.skip_reason()
    if reason:
        raise UsageError(f"device {request.device} cannot run benchmarks: {reason}")
    resolved = [_resolve(t) for t in request.targets]
    targets = [r for r in resolved if isinstance(r, BenchTarget)]
    if request.eager and targets:
        targets.append(eager_twin(next((t for t in targets if t.path), targets[0])))
    if request.compare:
        failure = next((r for r in resolved if isinstance(r, EdgeAVError)), None)
        if failure is not None:
            raise failure
        return run_compare(targets, device, request.settings, progress)
    report = (run_bench(targets, device, request.settings, request.resolved_profiles, progress,
                        request.loaded_calibration) if targets else BenchReport(device.name, request.settings))
    report.measurements = _in_request_order(request, resolved, report.measurements, device.name)
    return report


def _resolve(spec: str | Path) -> BenchTarget | EdgeAVError:
    try:
        return resolve_target(spec)
    except EdgeAVError as exc:
        return exc
    except Exception as exc:  # a manifest of the wrong shape: recorded like any other unreadable target
        return UsageError(f"{spec}: {one_line(exc)}")


def _in_request_order(request: BenchRequest, resolved: list[BenchTarget | EdgeAVError],
                      measured: list[Measurement], device: str) -> list[Measurement]:
    """The measurements in the order the targets were given, a failure record where a target could not be read."""
    done = iter(measured)
    out = [next(done) if isinstance(r, BenchTarget) else _failed(spec, r, device, request.threads)
           for spec, r in zip(request.targets, resolved)]
    return out + list(done)  # the eager twin comes last


def _failed(spec: str | Path, error: EdgeAVError, device: str, threads: int) -> Measurement:
    text = str(spec)
    eager = text.startswith(EAGER_PREFIX)
    target = BenchTarget(label=text if eager else Path(text).name, format="eager" if eager else Path(text).suffix.lstrip("."),
                         model="?", config="?", precision="?", path=None if eager else Path(text))
    return Measurement(target, device, threads, None, error=str(error))


def profile_keys(spec: str) -> tuple[str, ...]:
    """``--profiles`` text to profile keys: comma-separated, or ``none``."""
    return () if spec.strip().lower() == "none" else tuple(k.strip() for k in spec.split(",") if k.strip())


