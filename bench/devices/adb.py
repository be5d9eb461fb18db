"""``adb[:SERIAL]``: an Android phone. Push the .pte, the C++ runner and the inputs, run, pull the ETDump.

Every command is an argument list (never a shell string); arguments that reach the phone's shell are
quoted one by one. The runner is ``bench/devices/et_runner/`` built for the phone (docs/bench.md, step by
step); it prints one fact per line (``edgeav_runner run_ms I X``), parsed here, and writes an ETDump
that the same Inspector code as on the host turns into per-op records.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.devices.base import Device, Measurement, RunSettings
from bench.stats import Stats
from bench.targets import BenchTarget
from edgeav.errors import EdgeAVError, ExportError
from export_targets.executorch.profile import etdump_profile
from export_targets.runtime import to_numpy

REMOTE_DIR = "/data/local/tmp/edgeav"
RUNNER_NAME = "edgeav_et_runner"
DEFAULT_RUNNER_DIR = Path("build/android-runner")  # where docs/bench.md builds it


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


Execute = Callable[[list[str]], Completed]


def run_local(cmd: list[str]) -> Completed:
    """Run an argument list (no shell) and capture its output."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return Completed(proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True)
class AdbCommands:
    """The adb command lines the device runs, as argument lists."""

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

    def run_runner(self, pte: str, inputs: Sequence[str], settings: RunSettings, cpu_mask: str,
                   etdump: str | None) -> list[str]:
        d = self.remote_dir
        args = ["env", f"LD_LIBRARY_PATH={d}/lib", "taskset", cpu_mask, f"{d}/{RUNNER_NAME}", f"{d}/{pte}",
                "--threads", str(settings.threads), "--warmup", str(settings.warmup), "--runs", str(settings.runs)]
        if etdump:
            args += ["--etdump", f"{d}/{etdump}"]
        return self.shell(*args, *(f"{d}/{name}" for name in inputs))

    def cleanup(self, *names: str) -> list[str]:
        return self.shell("rm", "-f", *(f"{self.remote_dir}/{n}" for n in names))


@dataclass(frozen=True)
class RunnerOutput:
    threads: int | None
    load_ms: float | None
    run_ms: tuple[float, ...]
    etdump: str | None


_LINE = re.compile(r"^edgeav_runner (threads|load_ms|run_ms|etdump) (.+)$")


def parse_runner_output(text: str) -> RunnerOutput:
    """The runner's stdout protocol → RunnerOutput; ExportError when no timed run was printed."""
    threads = load_ms = etdump = None
    runs: dict[int, float] = {}
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
        else:
            etdump = value.strip()
    if not runs:
        raise ExportError("the device runner printed no timed runs; run it by hand with the command in "
                          "docs/bench.md to see its error")
    return RunnerOutput(threads, load_ms, tuple(runs[i] for i in sorted(runs)), etdump)


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
class AdbDevice(Device):
    serial: str | None = None
    runner_dir: Path = DEFAULT_RUNNER_DIR
    execute: Execute = field(default=run_local)
    adb: str = "adb"

    @property
    def commands(self) -> AdbCommands:
        return AdbCommands(self.serial, self.adb)

    def skip_reason(self) -> str | None:
        if self.execute is run_local and shutil.which(self.adb) is None:
            return "no adb on PATH (Debian: apt-get install adb; or the Android SDK platform-tools)"
        if not (self.runner_dir / RUNNER_NAME).is_file():
            return (f"no {RUNNER_NAME} in {self.runner_dir}; build it for the phone (docs/bench.md) or pass "
                    "--runner-dir")
        listed = parse_devices(self._check(self.commands.devices(), "list devices").stdout)
        ready = [s for s, state in listed if state == "device"]
        if self.serial is None and len(ready) != 1:
            return (f"{len(ready)} phones ready ({', '.join(f'{s} {st}' for s, st in listed) or 'none'}); "
                    "connect one, or name it with --device adb:SERIAL")
        if self.serial is not None and self.serial not in ready:
            state = dict(listed).get(self.serial, "not connected")
            return f"phone {self.serial} is {state}; check the cable and accept the USB-debugging prompt"
        return None

    def unsupported(self, target: BenchTarget) -> str | None:
        if target.format != "executorch":
            return (f"{target.label}: the adb device runs .pte artifacts through {RUNNER_NAME}; time .tflite on a "
                    "phone with LiteRT's benchmark_model (docs/bench.md)")
        return None

    def measure(self, target: BenchTarget, settings: RunSettings) -> Measurement:
        reason = self.skip_reason() or self.unsupported(target)
        if reason:
            return Measurement(target, self.name, settings.threads, None, error=reason)
        c = self.commands
        try:
            with tempfile.TemporaryDirectory(prefix="edgeav-adb-") as tmp:
                inputs = write_inputs(target, Path(tmp))
                self.push_runner()
                pte = Path(str(target.path)).name
                self._check(c.push(Path(str(target.path)), f"{c.remote_dir}/{pte}"), "push the artifact")
                for local in inputs:
                    self._check(c.push(local, f"{c.remote_dir}/{local.name}"), "push an input")
                n_cpus = int(self._check(c.nproc(), "count CPUs").stdout.strip() or "1")
                etdump = "run.etdump" if settings.per_op else None
                out = self._check(c.run_runner(pte, [p.name for p in inputs], settings,
                                               cpu_mask(n_cpus, settings.threads), etdump), "run the runner")
                parsed = parse_runner_output(out.stdout)
                profile = None
                if etdump:
                    local = Path(tmp) / etdump
                    self._check(c.pull(f"{c.remote_dir}/{etdump}", local), "pull the ETDump")
                    profile = etdump_profile(local, skip=settings.warmup)
                self._check(c.cleanup(pte, *([etdump] if etdump else []), *(p.name for p in inputs)), "clean up")
        except EdgeAVError as exc:
            return Measurement(target, self.name, settings.threads, None, error=str(exc))
        notes = (f"pinned to CPU mask {cpu_mask(n_cpus, settings.threads)} of {n_cpus}",
                 f"load {parsed.load_ms:.1f} ms" if parsed.load_ms is not None else "")
        return Measurement(target, self.name, settings.threads, Stats.of(parsed.run_ms), profile,
                           parsed.run_ms, tuple(n for n in notes if n))

    def push_runner(self) -> None:
        c = self.commands
        self._check(c.mkdir(), "create the remote folder")
        self._check(c.push(self.runner_dir / RUNNER_NAME, f"{c.remote_dir}/{RUNNER_NAME}"), "push the runner")
        libs = self.runner_dir / "lib"
        for lib in sorted(libs.glob("*.so*")) if libs.is_dir() else []:
            self._check(c.push(lib, f"{c.remote_dir}/lib/{lib.name}"), f"push {lib.name}")
        self._check(c.shell("chmod", "755", f"{c.remote_dir}/{RUNNER_NAME}"), "make the runner executable")

    def _check(self, cmd: list[str], what: str) -> Completed:
        result = self.execute(cmd)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ExportError(f"adb: could not {what} ({detail[-1] if detail else f'exit {result.returncode}'}); "
                              f"command: {' '.join(cmd)}")
        return result


def write_inputs(target: BenchTarget, folder: Path) -> list[Path]:
    """The target's inputs as raw float32 files, in IOSpec order (the runner's input format)."""
    paths = []
    for i, x in enumerate(target.inputs()):
        path = folder / f"input{i}.f32"
        to_numpy(x).astype("<f4").tofile(path)
        paths.append(path)
    return paths
