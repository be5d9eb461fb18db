"""Devices by name: ``host``, ``adb`` or ``adb:SERIAL`` (next: an ARM emulator, see base.py)."""
from __future__ import annotations

from pathlib import Path

from bench.devices.adb import DEFAULT_RUNNER_DIR, AdbDevice
from bench.devices.base import Device, Measurement, RunSettings
from bench.devices.host import HostDevice
from edgeav.errors import UsageError

DEVICE_KINDS = ("host", "adb[:SERIAL]")


def get_device(spec: str, runner_dir: Path | None = None) -> Device:
    """The device named by ``spec``; UsageError naming the choices otherwise."""
    kind, _, arg = spec.partition(":")
    if kind == "host" and not arg:
        return HostDevice(name="host")
    if kind == "adb":
        return AdbDevice(name=spec, serial=arg or None, runner_dir=runner_dir or DEFAULT_RUNNER_DIR)
    raise UsageError(f"unknown device '{spec}'; choose one of: {', '.join(DEVICE_KINDS)}")


__all__ = ["AdbDevice", "Device", "HostDevice", "Measurement", "RunSettings", "get_device"]
