"""The machinery of ``edgeav device setup arm``: named, idempotent steps with stamps, logs and timings.

A step is done when its stamp file holds the step's current key (the versions and source hashes it
depends on) and every output it promises exists; a second setup then costs a few ``stat`` calls. A step
that fails becomes one DeviceError line naming the step, what went wrong and the fix, picked from
:data:`DIAGNOSES` by the failed command's output; the full output stays in ``logs/<step>.log``.
"""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.devices.arm.layout import ArmLayout
from edgeav.errors import DeviceError

SETUP = "`edgeav device setup arm`"


@dataclass(frozen=True)
class Diagnosis:
    """Output that names a cause, and the fix to print for it."""

    patterns: tuple[str, ...]
    cause: str
    fix: str


DIAGNOSES = (
    Diagnosis(("Temporary failure in name resolution", "Could not resolve", "Name or service not known",
               "Network is unreachable", "Failed to establish a new connection", "Connection timed out",
               "Connection refused", "Failed to fetch", "Couldn't download", "urlopen error", "No route to host"),
              "no network", f"connect this machine to the network (PyPI and deb.debian.org), then re-run {SETUP}"),
    Diagnosis(("are you root", "Permission denied", "can only run as root", "Could not open lock file",
               "a password is required", "Unable to acquire the dpkg frontend lock"),
              "not allowed", f"run {SETUP} as root or as a user with passwordless sudo"),
    Diagnosis(("Unable to locate package", "has no installation candidate"),
              "a package this host's apt does not have", "use Debian 12 (bookworm) or Ubuntu 22.04+ with apt-get update done"),
    Diagnosis(("(from versions: none)",),  # pip reached no index at all (it retries network errors quietly)
              "no wheel of any version found: no network to PyPI, or an index without aarch64 wheels",
              f"connect this machine to PyPI (or set PIP_INDEX_URL), then re-run {SETUP}"),
    Diagnosis(("No matching distribution found", "Could not find a version that satisfies"),
              "no aarch64 cp311 wheel of a pinned version on the index",
              "check bench/devices/arm/wheels.py pins against PyPI (or PIP_INDEX_URL)"),
    Diagnosis(("No space left on device",), "disk full", "free a few GB or point EDGEAV_ARM_HOME at a bigger disk"),
)


class CommandFailed(Exception):
    """A setup command that exited non-zero (turned into DeviceError by :func:`run_steps`)."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(f"{' '.join(argv[:3])} ... exited {returncode}")
        self.argv, self.returncode, self.output = list(argv), returncode, output


Execute = Callable[[Sequence[str], Path, "dict[str, str] | None", "Path | None"], tuple[int, str]]


def run_command(argv: Sequence[str], log: Path, env: dict[str, str] | None, cwd: Path | None) -> tuple[int, str]:
    """Run an argument list (no shell), appending its output to ``log``; (returncode, output)."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, env=env, cwd=cwd, check=False)
    except FileNotFoundError:
        return 127, f"{argv[0]}: command not found"
    output = proc.stdout + proc.stderr
    with log.open("a") as f:
        f.write(f"$ {' '.join(argv)}\n{output}\n[exit {proc.returncode}]\n")
    return proc.returncode, output


@dataclass
class StepContext:
    """What a step's function gets: the layout, a way to run commands, and the step's log."""

    layout: ArmLayout
    execute: Execute = run_command
    log: Path = Path("/dev/null")

    def run(self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
        """Run ``argv``; CommandFailed on a non-zero exit. Returns the output."""
        code, output = self.execute(argv, self.log, env, cwd)
        if code != 0:
            raise CommandFailed(argv, code, output)
        return output


@dataclass(frozen=True)
class Step:
    """One named setup step. ``key`` says what its result depends on; a changed key re-runs it."""

    name: str
    what: str
    run: Callable[[StepContext], None]
    key: Callable[[StepContext], str] = lambda ctx: "1"
    outputs: Callable[[ArmLayout], tuple[Path, ...]] = lambda layout: ()


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # "ran" or "cached"
    seconds: float


def is_done(step: Step, ctx: StepContext, key: str) -> bool:
    stamp = ctx.layout.stamps / step.name
    return (stamp.is_file() and stamp.read_text() == key
            and all(p.exists() for p in step.outputs(ctx.layout)))


def explain(step: Step, exc: Exception, log: Path) -> str:
    """The one line a failed step becomes: the step, the cause, the fix."""
    text = exc.output if isinstance(exc, CommandFailed) else str(exc)
    for d in DIAGNOSES:
        if any(p.lower() in text.lower() for p in d.patterns):
            return f"ARM setup step '{step.name}' failed: {d.cause}; {d.fix} (log: {log})"
    last = next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), str(exc))
    return f"ARM setup step '{step.name}' failed: {last[:200]}; fix that and re-run {SETUP} (log: {log})"


def run_steps(steps: Sequence[Step], ctx: StepContext, report: Callable[[str], None] = print,
              force: bool = False) -> list[StepResult]:
    """Run each step not already done, in order, printing progress and time; DeviceError on a failure."""
    for d in (ctx.layout.stamps, ctx.layout.home / "logs"):
        d.mkdir(parents=True, exist_ok=True)
    results = []
    for i, step in enumerate(steps, 1):
        ctx.log = ctx.layout.home / "logs" / f"{step.name}.log"
        start = time.perf_counter()
        try:
            key = step.key(ctx)
            if not force and is_done(step, ctx, key):
                results.append(StepResult(step.name, "cached", time.perf_counter() - start))
                report(f"[{i}/{len(steps)}] {step.name:<13} cached  {step.what}")
                continue
            report(f"[{i}/{len(steps)}] {step.name:<13} ...     {step.what}")
            step.run(ctx)
        except DeviceError:
            raise
        except (CommandFailed, OSError, ValueError, KeyError) as exc:
            raise DeviceError(explain(step, exc, ctx.log)) from None
        (ctx.layout.stamps / step.name).write_text(key)
        seconds = time.perf_counter() - start
        results.append(StepResult(step.name, "ran", seconds))
        report(f"[{i}/{len(steps)}] {step.name:<13} {seconds:6.1f} s")
    return results
