"""The one measure flow of every remote device: push, run, pull, clean up, read.

A :class:`Program` says what to run for one target (its files, its command line, what it writes) and how
to read what came back; a :class:`~bench.devices.transport.Transport` says how files and commands reach
the device. :class:`TransportDevice` joins the two: the phone is (adb, the ExecuTorch runner timing), the
emulated ARM core is (qemu, the runner or guest Python counting instructions).
"""
from __future__ import annotations

import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.devices.base import Device, Measurement, RunSettings
from bench.devices.transport import Completed, Transport
from bench.targets import BenchTarget
from edgeav.errors import DeviceError, EdgeAVError
from export_targets.runtime import to_numpy


@dataclass(frozen=True)
class Push:
    local: Path
    name: str  # inside the device's work folder ("lib/libx.so" makes the folder)
    keep: bool = False  # left on the device after the run (the runner binary and its libraries)


@dataclass(frozen=True)
class Job:
    """One command on the device, the files it needs and the files it writes."""

    argv: tuple[str, ...]  # device paths (from Transport.path)
    what: str  # for errors: "run the runner"
    pushes: tuple[Push, ...] = ()
    pulls: tuple[str, ...] = ()  # names the command writes, copied back
    env: Mapping[str, str] = field(default_factory=dict)
    cpus: int = 1  # cores to pin the command to


@dataclass(frozen=True)
class JobResult:
    completed: Completed
    pulled: dict[str, Path]  # name -> local copy


def run_job(transport: Transport, job: Job, folder: Path) -> JobResult:
    """Push, run, pull; removes what it pushed (except ``keep``) and pulled, also when a step fails."""
    transport.open()
    pushed = [p.name for p in job.pushes if not p.keep]
    try:
        for p in job.pushes:
            transport.push(p.local, p.name)
        completed = transport.run(job.argv, job.env, job.cpus)
        if completed.returncode != 0:
            detail = (completed.stderr or completed.stdout).strip().splitlines()
            raise DeviceError(f"{transport.via}: could not {job.what} ("
                              f"{detail[-1] if detail else f'exit {completed.returncode}'}); "
                              f"command: {' '.join(job.argv)}")
        pulled = {}
        for name in job.pulls:
            pulled[name] = folder / Path(name).name
            try:
                transport.pull(name, pulled[name])
            except DeviceError as exc:
                raise DeviceError(with_stderr(str(exc), completed)) from None
    finally:
        transport.remove([*pushed, *job.pulls])
        transport.close()
    return JobResult(completed, pulled)


class Program(ABC):
    """What runs on a device for one artifact format, and how its output becomes a Measurement."""

    @abstractmethod
    def job(self, target: BenchTarget, settings: RunSettings, folder: Path, path: Callable[[str], str]) -> Job:
        """The job for ``target``; local files it writes go to ``folder``, ``path(name)`` is a device path."""

    @abstractmethod
    def read(self, target: BenchTarget, settings: RunSettings, result: JobResult, device: str) -> Measurement:
        """The measurement from the job's stdout and pulled files; DeviceError if they make no sense."""

    def skip_reason(self) -> str | None:
        """Why this program cannot run anywhere now (its binary is not built), or None."""
        return None


@dataclass
class TransportDevice(Device):
    """A device reached through a transport, with a program per artifact format it runs."""

    transport: Transport | None = None
    programs: Mapping[str, Program] = field(default_factory=dict)
    refuse: Callable[[BenchTarget], str] = field(default=lambda t: f"{t.label}: this device cannot run {t.format}")

    def skip_reason(self) -> str | None:
        assert self.transport is not None
        program = next((r for r in (p.skip_reason() for p in self.programs.values()) if r), None)
        return program or self.transport.skip_reason()

    def unsupported(self, target: BenchTarget) -> str | None:
        return None if target.format in self.programs else self.refuse(target)

    def measure(self, target: BenchTarget, settings: RunSettings) -> Measurement:
        assert self.transport is not None
        reason = self.skip_reason() or self.unsupported(target)
        if reason:
            return Measurement(target, self.name, settings.threads, None, error=reason)
        program = self.programs[target.format]
        try:
            with tempfile.TemporaryDirectory(prefix="edgeav-device-") as tmp:
                job = program.job(target, settings, Path(tmp), self.transport.path)
                result = run_job(self.transport, job, Path(tmp))
                try:
                    return program.read(target, settings, result, self.name)
                except DeviceError as exc:
                    raise DeviceError(with_stderr(str(exc), result.completed)) from None
        except EdgeAVError as exc:
            return Measurement(target, self.name, settings.threads, None, error=str(exc))


def with_stderr(message: str, completed: Completed) -> str:
    """``message`` and the last line the device program wrote to stderr (its own error, if it printed one)."""
    lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
    return f"{message} (the program's last stderr line: {lines[-1].strip()})" if lines else message


def write_inputs(target: BenchTarget, folder: Path) -> list[Path]:
    """The target's inputs as raw float32 files, in IOSpec order (the C++ runner's input format)."""
    paths = []
    for i, x in enumerate(target.inputs()):
        path = folder / f"input{i}.f32"
        to_numpy(x).astype("<f4").tofile(path)
        paths.append(path)
    return paths
