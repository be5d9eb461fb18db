"""Devices by name: ``host``, ``adb[:SERIAL]``, ``arm[:CPU]`` (bench/devices/table.py).

Names load lazily (PEP 562): ``bench.devices.arm`` (setup) must not pay for torch, which the measuring
modules import through bench.targets.
"""
from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "Device": "bench.devices.base", "Measurement": "bench.devices.base", "RunSettings": "bench.devices.base",
    "HostDevice": "bench.devices.host", "TransportDevice": "bench.devices.measure",
    "DEVICES": "bench.devices.table", "DeviceOptions": "bench.devices.table", "get_device": "bench.devices.table",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'bench.devices' has no attribute '{name}'")


__all__ = sorted(_NAMES)
