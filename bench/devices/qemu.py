"""``arm[:CPU]``: an emulated aarch64 core (qemu-user, set up by ``edgeav device setup arm``) that counts.

The qemu transport runs aarch64 programs under ``qemu-aarch64 -cpu CPU -L <view>`` with the counting
plugin; its work folder is a fresh host temp folder that the ``-L`` prefix does not shadow (qemu looks a
guest path up under the prefix first and caches the answer, so a file created later inside the prefix
could be missed; host paths outside it are seen as they are). Two programs count: the cross-built C++
ExecuTorch runner for .pte, and the sysroot's Python with the aarch64 LiteRT / ONNX Runtime wheels
(qemu_guest.py) for .tflite and .onnx. Each reads back the last run's outputs for ARM parity.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.devices.base import Measurement, RunSettings
from bench.devices.counts import (
    DETERMINISM,
    ET_METHOD,
    InstructionCounts,
    OpCount,
    executorch_ops,
    named_regions,
    parse_plugin_log,
    per_inference,
)
from bench.devices.measure import Job, JobResult, Program, Push, TransportDevice, write_inputs
from bench.devices.parity import device_parity
from bench.devices.transport import Completed, Transport
from bench.targets import BenchTarget
from edgeav.errors import DeviceError

GUEST_SCRIPT = Path(__file__).with_name("qemu_guest.py")
RunEnv = Callable[[list[str], Mapping[str, str]], Completed]


def _run_env(cmd: list[str], env: Mapping[str, str]) -> Completed:
    from bench.devices.transport import run_local

    return run_local(cmd, env)


@dataclass
class QemuTransport(Transport):
    """aarch64 programs under qemu on this machine; ``toolchain`` is bench.devices.arm's ArmToolchain."""

    cpu: str
    home: Path | None = None
    execute: RunEnv = field(default=_run_env)
    via = "qemu"
    _work: Path | None = None

    def toolchain(self) -> Any:
        from bench.devices.arm import toolchain

        return toolchain(self.cpu, self.home)

    def skip_reason(self) -> str | None:
        from bench.devices.arm import missing

        return missing(self.cpu, self.home)

    def open(self) -> None:
        if self._work is None:
            self._work = Path(tempfile.mkdtemp(prefix="edgeav-qemu-"))

    def path(self, name: str) -> str:
        self.open()
        assert self._work is not None
        return str(self._work / name)

    def push(self, local: Path, name: str) -> None:
        dest = Path(self.path(name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(local, dest)  # artifacts are big (AVESFormer fp32: 387 MB); same file system: no copy
        except OSError:
            shutil.copyfile(local, dest)

    def pull(self, name: str, local: Path) -> None:
        source = Path(self.path(name))
        if not source.is_file():
            raise DeviceError(f"qemu: the guest program wrote no {name}; it stopped before its last run")
        shutil.copyfile(source, local)

    def run(self, argv: Sequence[str], env: Mapping[str, str], cpus: int = 1) -> Completed:
        tc = self.toolchain()
        log = Path(self.path("plugin.log"))
        done = self.execute(tc.command(argv[0], *argv[1:], plugin_log=log), tc.env(**env))
        trace = log.read_text() if log.is_file() else ""
        return Completed(done.returncode, done.stdout, done.stderr, trace=trace,
                         notes=(f"qemu-aarch64 {tc.qemu_version}, -cpu {self.cpu}, 1 thread",))

    def remove(self, names: Sequence[str]) -> None:
        for name in names:
            Path(self.path(name)).unlink(missing_ok=True)

    def close(self) -> None:
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


def _counts(settings: RunSettings, result: JobResult, cpu: str, runtime: str, ops: Sequence[OpCount],
            op_method: str, notes: Sequence[str]) -> InstructionCounts:
    log = parse_plugin_log(result.completed.trace)
    return InstructionCounts(cpu=cpu, per_inference=per_inference(log, settings.runs), runs=settings.runs,
                             runtime=runtime, ops=tuple(ops), op_method=op_method if ops else "",
                             notes=tuple(notes))


def _measurement(target: BenchTarget, settings: RunSettings, result: JobResult, device: str,
                 counts: InstructionCounts, outputs: list[np.ndarray]) -> Measurement:
    notes = (*result.completed.notes, DETERMINISM.format(cpu=counts.cpu), *counts.notes)
    return Measurement(target, device, 1, None, notes=notes, instructions=counts,
                       parity=device_parity(target, outputs))


@dataclass
class ArmRunner(Program):
    """The C++ ExecuTorch runner cross-built for aarch64: counts the runs, per op by ETDump-event regions."""

    transport: QemuTransport

    def job(self, target: BenchTarget, settings: RunSettings, folder: Path, path: Callable[[str], str]) -> Job:
        return runner_job(self.transport, Path(str(target.path)), write_inputs(target, folder),
                          len(target.io_spec().outputs), settings, path)

    def read(self, target: BenchTarget, settings: RunSettings, result: JobResult, device: str) -> Measurement:
        ops, notes = runner_op_counts(result, settings.runs)
        counts = _counts(settings, result, self.transport.cpu, "ExecuTorch (C++ runner)",
                         ops if settings.per_op else (), ET_METHOD, notes)
        specs = target.io_spec().outputs
        names = ["out.bin", *(f"out.bin.{i}" for i in range(1, len(specs)))]
        outputs = [np.fromfile(result.pulled[n], dtype="<f4").reshape(s.shape) for n, s in zip(names, specs)]
        return _measurement(target, settings, result, device, counts, outputs)


def runner_job(transport: QemuTransport, pte: Path, inputs: Sequence[Path], n_outputs: int, settings: RunSettings,
               path: Callable[[str], str]) -> Job:
    """The ARM runner on ``pte`` with raw float32 ``inputs``: markers around the counted runs, outputs pulled."""
    tc = transport.toolchain()
    argv = [str(tc.runner), path(pte.name), "--threads", "1", "--warmup", str(settings.warmup),
            "--runs", str(settings.runs), "--markers", "--output", path("out.bin"), *(path(p.name) for p in inputs)]
    pulls = ("out.bin", *(f"out.bin.{i}" for i in range(1, n_outputs)))
    return Job(tuple(argv), "run the ARM ExecuTorch runner", (Push(pte, pte.name), *(Push(p, p.name) for p in inputs)),
               pulls)


def runner_op_counts(result: JobResult, runs: int) -> tuple[list[OpCount], list[str]]:
    """Per-op (per delegate call, per portable kernel) instructions of a runner job, and notes on them."""
    from bench.devices.adb import parse_runner_output

    parsed = parse_runner_output(result.completed.stdout)
    return executorch_ops(named_regions(parsed.events, parse_plugin_log(result.completed.trace)), runs)


LITERT_OP_METHOD = ("op isolation: each op cut into a one-op .tflite, fed its real input values and counted "
                    "alone in a plugin region (1 call after a warm-up); excludes cross-op fusion")


@dataclass
class GuestPython(Program):
    """The sysroot's Python with the aarch64 LiteRT / ONNX Runtime wheels, running qemu_guest.py."""

    transport: QemuTransport
    runtime: str  # "LiteRT" or "ONNX Runtime"
    _ops: list[Any] = field(default_factory=list, init=False, repr=False)  # the isolated ops of the last job

    def job(self, target: BenchTarget, settings: RunSettings, folder: Path, path: Callable[[str], str]) -> Job:
        tc = self.transport.toolchain()
        model = Path(str(target.path))
        feed = target.open(1).prepare(target.inputs())  # name -> array, the host runner's binding
        np.savez(folder / "feed.npz", **{k: np.asarray(v) for k, v in feed.items()})
        pushes = [Push(model, model.name), Push(folder / "feed.npz", "feed.npz")]
        job: dict[str, Any] = {"format": target.format, "model": path(model.name), "feed": path("feed.npz"),
                               "warmup": settings.warmup, "runs": settings.runs, "threads": 1, "out": path("out.npz")}
        if settings.per_op and target.format == "litert":
            job["ops"] = self._isolated(model, feed, folder, path, pushes)
        (folder / "job.json").write_text(json.dumps(job))
        pushes.append(Push(folder / "job.json", "job.json"))
        argv = [str(tc.python), "-s", "-B", str(GUEST_SCRIPT), path("job.json")]
        return Job(tuple(argv), f"run {self.runtime} in the guest Python", tuple(pushes), ("out.npz",))

    def _isolated(self, model: Path, feed: dict[str, np.ndarray], folder: Path, path: Callable[[str], str],
                  pushes: list[Push]) -> list[dict[str, str]]:
        from export_targets.litert.profile import isolated_ops

        ops, _skipped = isolated_ops(model, feed)
        self._ops = ops
        jobs = []
        for op in ops:
            (folder / f"op{op.index}.tflite").write_bytes(op.content)
            np.savez(folder / f"op{op.index}.npz", **{str(i): v for i, v in enumerate(op.inputs)})
            pushes += [Push(folder / f"op{op.index}.tflite", f"op{op.index}.tflite"),
                       Push(folder / f"op{op.index}.npz", f"op{op.index}.npz")]
            jobs.append({"model": path(f"op{op.index}.tflite"), "feed": path(f"op{op.index}.npz")})
        return jobs

    def read(self, target: BenchTarget, settings: RunSettings, result: JobResult, device: str) -> Measurement:
        raw = dict(np.load(result.pulled["out.npz"]))
        host = target.open(1)
        outputs = host.outputs(raw if target.format == "litert" else [raw[str(i)] for i in range(len(raw))])
        ops: list[OpCount] = []
        if settings.per_op and target.format == "litert":
            ops = self._op_counts(result)
        notes = ["counts include the guest Python's call into the runtime (feeding inputs, reading outputs)"]
        if settings.per_op and target.format == "onnx":
            notes.append("per-op counts: not for .onnx on ARM (whole inference only)")
        counts = _counts(settings, result, self.transport.cpu, f"{self.runtime} (guest Python)", ops,
                         LITERT_OP_METHOD, notes)
        return _measurement(target, settings, result, device, counts, list(outputs))

    def _op_counts(self, result: JobResult) -> list[OpCount]:
        delegated = {int(i): d == "1" for _, _, i, d in
                     (line.split() for line in result.completed.stdout.splitlines()
                      if line.startswith("edgeav_guest op "))}
        regions = parse_plugin_log(result.completed.trace).regions
        if len(regions) != len(self._ops):
            raise DeviceError(f"the guest counted {len(regions)} of {len(self._ops)} isolated ops; the one after "
                              "the last counted one failed in the guest runtime: bench it on --device host")
        return [OpCount(op.name, op.op_type, "XNNPACK" if delegated.get(i) else "TFLite builtin",
                        bool(delegated.get(i)), count)
                for i, (op, (_depth, count)) in enumerate(zip(self._ops, regions))]


def arm_device(name: str, cpu: str, home: Path | None = None, execute: RunEnv = _run_env) -> TransportDevice:
    """The emulated ARM core ``cpu``: .pte through the ARM runner, .tflite/.onnx through the guest Python."""
    transport = QemuTransport(cpu=cpu, home=home, execute=execute)
    return TransportDevice(
        name=name, transport=transport,
        programs={"executorch": ArmRunner(transport), "litert": GuestPython(transport, "LiteRT"),
                  "onnx": GuestPython(transport, "ONNX Runtime")},
        refuse=lambda t: f"{t.label}: the ARM device runs .pte, .tflite and .onnx artifacts (not {t.format})")
