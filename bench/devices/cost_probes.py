"""Which device's measured costs decide an int8 plan's per-operator precision (`--precision-by-cost`).

    host        each layer's fp32 and int8 .pte timed here per XNNPACK op (export_targets/executorch/probe.py)
    arm[:CPU]   the same pair counted in guest instructions on the emulated ARM core (bench/devices/arm/probe.py)

Host artifacts should be planned on the host; phone artifacts on the ARM core, whose NEON kernels are not
the host's AVX ones (on this host int8 3×3 depthwise is slower than fp32; on cortex-a76 it is not).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgeav.errors import UsageError
from quantize.plan import CostProbe


@dataclass(frozen=True)
class CostDevice:
    name: str
    summary: str
    make: Callable[[str], tuple[str, CostProbe]]  # argument after ':' -> (device as recorded, probe)


def _host(arg: str) -> tuple[str, CostProbe]:
    from export_targets.executorch.probe import probe_layer

    if arg:
        raise UsageError(f"--precision-by-cost host takes no argument (got 'host:{arg}')")
    return "host", probe_layer


def _arm(arg: str) -> tuple[str, CostProbe]:
    from bench.devices.arm import DEFAULT_CPU, arm_cpu
    from bench.devices.arm.probe import arm_cost_probe

    cpu = arm_cpu(arg or DEFAULT_CPU).name
    return f"arm:{cpu}", arm_cost_probe(cpu)


COST_DEVICES = {d.name: d for d in (
    CostDevice("host", "this machine's XNNPACK, timed per op", _host),
    CostDevice("arm", "the emulated ARM core (`edgeav device setup arm`), guest instructions per op", _arm),
)}


def cost_probe_for(spec: str) -> tuple[str, CostProbe]:
    """(device as recorded in the manifest, its probe) for ``host`` or ``arm[:CPU]``; one-line UsageError else."""
    name, _, arg = spec.partition(":")
    device = COST_DEVICES.get(name)
    if device is None:
        raise UsageError(f"--precision-by-cost '{spec}': choose {' or '.join(f'{d}' for d in COST_DEVICES)} "
                         "(arm takes a CPU: arm:cortex-a76)")
    return device.make(arg)
