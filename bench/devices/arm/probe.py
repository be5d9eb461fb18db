"""The ARM cost probe of a layer: its fp32 and int8 forms counted on the emulated ARM core, so the int8 plan
keeps a layer float where int8 costs more *on the phone's kind of core* (``quantize.plan``'s ``CostProbe``).

The host probe (``export_targets.executorch.probe``) times XNNPACK's ops from ETDump. The ARM runner can
only bracket whole delegate calls with the counting plugin (XNNPACK reports its inner ops after the fact),
so the probe lowers each form with one delegate per op: the fp32 probe is one call (the layer), the int8
probe three (convert fp32 -> int8, the layer, convert int8 -> fp32). Keeping the layer float inside an int8
graph costs its fp32 call plus exactly those two converts. The layer's calls include XNNPACK's NCHW <-> NHWC
transposes at the probe's boundary, on 4-byte elements at fp32 and 1-byte at int8, so the comparison leans
slightly towards int8 (a whole graph keeps NHWC between ops). Guest instructions are not cycles (no caches,
no memory stalls), but they repeat exactly, which a shared host's timings do not.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

from bench.devices.arm import DEFAULT_CPU
from bench.devices.base import RunSettings
from bench.devices.measure import run_job
from bench.devices.qemu import QemuTransport, runner_job, runner_op_counts
from edgeav.errors import DeviceError
from export_targets.executorch.probe import lower_pair
from export_targets.runtime import to_numpy
from quantize.plan import CostProbe, LayerCost

UNIT = "M guest instructions"
SETTINGS = RunSettings(threads=1, runs=1, warmup=1, per_op=True)


def arm_cost_probe(cpu: str = DEFAULT_CPU, home: Path | None = None) -> CostProbe:
    """A probe that counts each layer on the emulated ``cpu``; DeviceError now if the device is not set up."""
    transport = QemuTransport(cpu=cpu, home=home)
    reason = transport.skip_reason()
    if reason:
        raise DeviceError(f"--precision-by-cost arm: {reason}")

    def probe(layer: nn.Module, example: torch.Tensor) -> LayerCost:
        with tempfile.TemporaryDirectory(prefix="edgeav-arm-probe-") as tmp:
            folder = Path(tmp)
            fp32_pte, int8_pte = lower_pair(layer, example, folder, per_op=True)
            (fp32,) = _delegate_calls(transport, fp32_pte, example, folder, expected=1)
            convert_in, int8, convert_out = _delegate_calls(transport, int8_pte, example, folder, expected=3)
        return LayerCost(fp32=fp32 / 1e6, int8=int8 / 1e6, converts=(convert_in + convert_out) / 1e6, unit=UNIT)

    return probe


def _delegate_calls(transport: QemuTransport, pte: Path, example: torch.Tensor, folder: Path,
                    expected: int) -> list[int]:
    """Instructions of each XNNPACK delegate call of ``pte`` on ``example``, in execution order."""
    feed = folder / f"{pte.stem}.input.f32"
    to_numpy(example).astype("<f4").tofile(feed)
    result = run_job(transport, runner_job(transport, pte, [feed], 1, SETTINGS, transport.path), folder)
    ops, _notes = runner_op_counts(result, SETTINGS.runs)
    calls = [op for op in ops if op.delegated]
    if len(calls) != expected or len(calls) != len(ops):
        found = ", ".join(f"{op.name} ({op.backend})" for op in ops)
        raise DeviceError(f"ARM cost probe: {pte.name} ran {found or 'nothing'}; expected {expected} XNNPACK "
                          "delegate call(s) and no portable op (the layer did not lower as one XNNPACK op)")
    return [op.instructions for op in sorted(calls, key=lambda op: int(op.name.rsplit("@d", 1)[1]))]
