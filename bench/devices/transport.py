"""How a device is reached: push files to it, run a program on it, pull files back.

Two transports, one contract: :class:`~bench.devices.adb.AdbTransport` (a phone over adb) and
:class:`~bench.devices.qemu.QemuTransport` (aarch64 binaries under qemu-user on this machine, files in a
work folder inside the sysroot). Everything device-specific about *what* runs lives in a
:class:`~bench.devices.measure.Program`; :func:`~bench.devices.measure.run_job` is the one flow over
either transport. Every command is an argument list, never a shell string.
"""
from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgeav.errors import DeviceError


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str
    trace: str = ""  # what the transport itself recorded (qemu: the counting plugin's log)
    notes: tuple[str, ...] = ()  # how it ran (adb: the CPU mask it pinned to)


Execute = Callable[[list[str]], Completed]


def run_local(cmd: list[str], env: Mapping[str, str] | None = None) -> Completed:
    """Run an argument list (no shell) and capture its output; ``env`` replaces the environment."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env=dict(env) if env is not None else None)
    except OSError as exc:  # the program itself is missing or not executable
        return Completed(127, "", f"{cmd[0]}: {exc.strerror}")
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def checked(execute: Execute, cmd: list[str], what: str, via: str) -> Completed:
    """``execute(cmd)``; DeviceError naming the step, the last line of its error and the command otherwise."""
    result = execute(cmd)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise DeviceError(f"{via}: could not {what} ({detail[-1] if detail else f'exit {result.returncode}'}); "
                          f"command: {' '.join(cmd)}")
    return result


class Transport(ABC):
    """A place programs run. Device paths are strings (they need not exist on this machine)."""

    via: str  # how errors name it: "adb", "qemu"

    def skip_reason(self) -> str | None:
        """Why nothing can run through this transport now (with the fix), or None."""
        return None

    @abstractmethod
    def open(self) -> None:
        """Make the device's work folder (idempotent)."""

    @abstractmethod
    def path(self, name: str) -> str:
        """The device path of ``name`` inside the work folder."""

    @abstractmethod
    def push(self, local: Path, name: str) -> None:
        """Copy ``local`` to the work folder as ``name``."""

    @abstractmethod
    def pull(self, name: str, local: Path) -> None:
        """Copy ``name`` from the work folder to ``local``."""

    @abstractmethod
    def run(self, argv: Sequence[str], env: Mapping[str, str], cpus: int = 1) -> Completed:
        """Run ``argv`` (device paths) with ``env`` set on ``cpus`` cores; does not raise on a non-zero exit."""

    @abstractmethod
    def remove(self, names: Sequence[str]) -> None:
        """Delete ``names`` from the work folder (missing ones are fine)."""

    def close(self) -> None:
        """Done with this job's work folder (qemu deletes it; a phone keeps the runner for the next job)."""
