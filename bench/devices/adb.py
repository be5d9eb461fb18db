"""``adb[:SERIAL]``: an Android phone. The adb transport, and the ExecuTorch runner timing a .pte on it.

Every command is an argument list (never a shell string); arguments that reach the phone's shell are
quoted one by one. The runner is ``bench/devices/et_runner/`` built for the phone (docs/bench.md, step by
step); it prints one fact per line (``edgeav_runner run_ms I X``), parsed here, and writes an ETDump
that the same Inspector code as on the host turns into per-op records.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.devices.base import Measurement, RunSettings
from bench.devices.measure import Job, JobResult, Program, Push, TransportDevice, write_inputs
from bench.devices.transport import Completed, Execute, Transport, checked, run_local
from bench.stats import Stats
from bench.targets import BenchTarget
from edgeav.errors import DeviceError
from export_targets.executorch.profile import etdump_profile

REMOTE_DIR = "/data/local/tmp/edgeav"
RUNNER_NAME = "edgeav_et_runner"
DEFAULT_RUNNER_DIR = Path("build/android-runner")  # where docs/bench.md builds it


@dataclass(frozen=True)
class AdbCommands:
    """The adb command lines the transport runs, as argument lists."""

    serial: str | None = None
    adb: str = "adb"
    remote_dir: str = REMOTE_DIR

    def base(self) -> list[str]:
        return [self.adb, *(["-s", self.serial] if self.serial else [])]

    def devices(self) -> list[str]:
        return [self.adb, "devices"]

    def push(self, local: Path, remote: str) -> list[str]:
        return [*self.base(), "push", str(local), remote]

    def pull(self, remote: str, local: Path) -> list[str]:
        return [*self.base(), "pull", remote, str(local)]

    def shell(self, *args: str) -> list[str]:
        return [*self.base(), "shell", *(shlex.quote(a) for a in args)]

    def nproc(self) -> list[str]:
        return self.shell("nproc")

    def mkdir(self) -> list[str]:
        return self.shell("mkdir", "-p", f"{self.remote_dir}/lib")

    def run(self, argv: Sequence[str], env: Mapping[str, str], cpu_mask: str) -> list[str]:
        return self.shell("env", *(f"{k}={v}" for k, v in env.items()), "taskset", cpu_mask, *argv)

    def remove(self, *names: str) -> list[str]:
        return self.shell("rm", "-f", *(f"{self.remote_dir}/{n}" for n in names))


def parse_devices(text: str) -> list[tuple[str, str]]:
    """``adb devices`` output → [(serial, state)], state being device, unauthorized, offline, ..."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("*"):
            out.append((parts[0], parts[1]))
    return out


def cpu_mask(n_cpus: int, threads: int) -> str:
    """Hex taskset mask of the highest-numbered ``threads`` CPUs (Snapdragon numbers prime cores last)."""
    threads = max(1, min(threads, n_cpus))
    mask = 0
    for cpu in range(n_cpus - threads, n_cpus):
        mask |= 1 << cpu
    return f"{mask:x}"


@dataclass
class AdbTransport(Transport):
    """A phone's ``/data/local/tmp/edgeav`` over adb; commands pinned to its highest-numbered cores."""

    serial: str | None = None
    execute: Execute = field(default=run_local)
    adb: str = "adb"
    via = "adb"

    @property
    def commands(self) -> AdbCommands:
        return AdbCommands(self.serial, self.adb)

    def skip_reason(self) -> str | None:
        if self.execute is run_local and shutil.which(self.adb) is None:
            return "no adb on PATH (Debian: apt-get install adb; or the Android SDK platform-tools)"
        listed = parse_devices(self._check(self.commands.devices(), "list devices").stdout)
        ready = [s for s, state in listed if state == "device"]
        if self.serial is None and len(ready) != 1:
            return (f"{len(ready)} phones ready ({', '.join(f'{s} {st}' for s, st in listed) or 'none'}); "
                    "connect one, or name it with --device adb:SERIAL")
        if self.serial is not None and self.serial not in ready:
            state = dict(listed).get(self.serial, "not connected")
            return f"phone {self.serial} is {state}; check the cable and accept the USB-debugging prompt"
        return None

    def open(self) -> None:
        self._check(self.commands.mkdir(), "create the remote folder")

    def path(self, name: str) -> str:
        return f"{self.commands.remote_dir}/{name}"

    def push(self, local: Path, name: str) -> None:
        self._check(self.commands.push(local, self.path(name)), f"push {local.name}")
        if os.access(local, os.X_OK) and local.is_file() and not name.startswith("lib/"):
            self._check(self.commands.shell("chmod", "755", self.path(name)), f"make {name} executable")

    def pull(self, name: str, local: Path) -> None:
        self._check(self.commands.pull(self.path(name), local), f"pull {name}")

    def run(self, argv: Sequence[str], env: Mapping[str, str], cpus: int = 1) -> Completed:
        n_cpus = int(self._check(self.commands.nproc(), "count CPUs").stdout.strip() or "1")
        mask = cpu_mask(n_cpus, cpus)
        done = self.execute(self.commands.run(argv, env, mask))
        return Completed(done.returncode, done.stdout, done.stderr, notes=(f"pinned to CPU mask {mask} of {n_cpus}",))

    def remove(self, names: Sequence[str]) -> None:
        if names:
            self._check(self.commands.remove(*names), "clean up")

    def _check(self, cmd: list[str], what: str) -> Completed:
        return checked(self.execute, cmd, what, self.via)


@dataclass(frozen=True)
class RunnerOutput:
    threads: int | None
    load_ms: float | None
    run_ms: tuple[float, ...]
    etdump: str | None
    events: tuple[str, ...] = ()  # --markers: profiled events in end order


_LINE = re.compile(r"^edgeav_runner (threads|load_ms|run_ms|etdump|event) (.+)$")


def parse_runner_output(text: str) -> RunnerOutput:
    """The runner's stdout protocol → RunnerOutput; DeviceError when no timed run was printed."""
    threads = load_ms = etdump = None
    runs: dict[int, float] = {}
    events: list[str] = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        key, value = m.groups()
        if key == "threads":
            threads = int(value)
        elif key == "load_ms":
            load_ms = float(value)
        elif key == "run_ms":
            index, ms = value.split()
            runs[int(index)] = float(ms)
        elif key == "event":
            events.append(value.strip())
        else:
            etdump = value.strip()
    if not runs:
        raise DeviceError("the device runner printed no timed runs; run it by hand with the command in "
                          "docs/bench.md to see its error")
    return RunnerOutput(threads, load_ms, tuple(runs[i] for i in sorted(runs)), etdump, tuple(events))


def runner_args(pte: str, inputs: Sequence[str], settings: RunSettings, *extra: str) -> list[str]:
    """The runner's arguments after its own path (bench/devices/et_runner/edgeav_et_runner.cpp)."""
    return [pte, "--threads", str(settings.threads), "--warmup", str(settings.warmup), "--runs", str(settings.runs),
            *extra, *inputs]


@dataclass
class PhoneRunner(Program):
    """The C++ ExecuTorch runner built for the phone: times runs, writes an ETDump with --per-op."""

    runner_dir: Path = DEFAULT_RUNNER_DIR

    def skip_reason(self) -> str | None:
        if not (self.runner_dir / RUNNER_NAME).is_file():
            return (f"no {RUNNER_NAME} in {self.runner_dir}; build it for the phone (docs/bench.md) or pass "
                    "--runner-dir")
        return None

    def job(self, target: BenchTarget, settings: RunSettings, folder: Path, path: Callable[[str], str]) -> Job:
        libs = self.runner_dir / "lib"
        pushes = [Push(self.runner_dir / RUNNER_NAME, RUNNER_NAME, keep=True),
                  *(Push(lib, f"lib/{lib.name}", keep=True) for lib in sorted(libs.glob("*.so*")) if libs.is_dir())]
        pte = Path(str(target.path))
        pushes.append(Push(pte, pte.name))
        inputs = [Push(p, p.name) for p in write_inputs(target, folder)]
        etdump = "run.etdump" if settings.per_op else None
        extra = ["--etdump", path(etdump)] if etdump else []
        argv = [path(RUNNER_NAME), *runner_args(path(pte.name), [path(p.name) for p in inputs], settings, *extra)]
        return Job(tuple(argv), "run the runner", (*pushes, *inputs), (etdump,) if etdump else (),
                   {"LD_LIBRARY_PATH": path("lib")}, cpus=settings.threads)

    def read(self, target: BenchTarget, settings: RunSettings, result: JobResult, device: str) -> Measurement:
        parsed = parse_runner_output(result.completed.stdout)
        etdump = result.pulled.get("run.etdump")
        profile = etdump_profile(etdump, skip=settings.warmup) if etdump else None
        notes = (*result.completed.notes, *((f"load {parsed.load_ms:.1f} ms",) if parsed.load_ms is not None else ()))
        return Measurement(target, device, settings.threads, Stats.of(parsed.run_ms), profile, parsed.run_ms, notes)


def adb_device(name: str, serial: str | None = None, runner_dir: Path | None = None,
               execute: Execute = run_local) -> TransportDevice:
    """The phone ``serial`` (or the one connected) running .pte files through the C++ runner."""
    return TransportDevice(
        name=name, transport=AdbTransport(serial=serial, execute=execute),
        programs={"executorch": PhoneRunner(runner_dir or DEFAULT_RUNNER_DIR)},
        refuse=lambda t: (f"{t.label}: the adb device runs .pte artifacts through {RUNNER_NAME}; time .tflite on "
                          "a phone with LiteRT's benchmark_model (docs/bench.md)"))
