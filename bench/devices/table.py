"""The devices `edgeav bench --device` knows, as a table: name, argument, defaults, how to make one.

    host            this machine, in process
    adb[:SERIAL]    an Android phone over adb (the C++ ExecuTorch runner)
    arm[:CPU]       an emulated aarch64 core under qemu-user that counts guest instructions
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.devices.base import Device
from edgeav.errors import UsageError


@dataclass(frozen=True)
class DeviceOptions:
    """Options some devices take from the command line."""

    runner_dir: Path | None = None  # adb: the phone build of the runner
    arm_home: Path | None = None  # arm: the set-up device folder (default: bench.devices.arm.arm_home())


@dataclass(frozen=True)
class DeviceKind:
    name: str
    usage: str  # how the user writes it
    summary: str
    make: Callable[[str, str, DeviceOptions], Device]  # (name as typed, argument after ':', options)
    runs: int = 50  # default timed (or counted) runs
    warmup: int = 5
    max_threads: int | None = None  # None: any


def _host(spec: str, arg: str, options: DeviceOptions) -> Device:
    from bench.devices.host import HostDevice

    if arg:
        raise UsageError(f"the host device takes no argument (got '{spec}'); use --device host")
    return HostDevice(name="host")


def _adb(spec: str, arg: str, options: DeviceOptions) -> Device:
    from bench.devices.adb import adb_device

    return adb_device(spec, serial=arg or None, runner_dir=options.runner_dir)


def _arm(spec: str, arg: str, options: DeviceOptions) -> Device:
    from bench.devices.arm import DEFAULT_CPU, arm_cpu
    from bench.devices.qemu import arm_device

    cpu = arm_cpu(arg or DEFAULT_CPU).name
    return arm_device(f"arm:{cpu}", cpu, home=options.arm_home)


DEVICES = {k.name: k for k in (
    DeviceKind("host", "host", "this machine, in process, pinned to --threads CPUs", _host),
    DeviceKind("adb", "adb[:SERIAL]", "an Android phone over adb: .pte through the C++ ExecuTorch runner", _adb),
    # Counts repeat exactly, so one counted run after one warm-up says all a run can say.
    DeviceKind("arm", "arm[:CPU]", "an emulated aarch64 core (qemu-user): guest instructions and ARM parity, "
               "CPU cortex-a76 (default), neoverse-n1, cortex-a72 or max", _arm, runs=1, warmup=1, max_threads=1),
)}


def device_kind(spec: str) -> tuple[DeviceKind, str]:
    """The table row of ``spec`` and its argument; UsageError naming the choices otherwise."""
    kind, _, arg = spec.partition(":")
    if kind not in DEVICES:
        raise UsageError(f"unknown device '{spec}'; choose one of: {', '.join(k.usage for k in DEVICES.values())}")
    return DEVICES[kind], arg


def get_device(spec: str, options: DeviceOptions | None = None) -> Device:
    """The device named by ``spec`` (see DEVICES)."""
    kind, arg = device_kind(spec)
    return kind.make(spec, arg, options or DeviceOptions())
