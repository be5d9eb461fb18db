"""The one ARM end-to-end check: setup, then TinyAV's .pte and .tflite measured on the emulated ARM device."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.devices.base import RunSettings
from bench.devices.qemu import arm_device as make_arm_device
from bench.targets import resolve_target


@pytest.mark.slow
def test_tiny_artifacts_run_on_arm_with_host_parity_and_repeatable_instruction_counts(
        arm_device, tiny_artifacts, tiny_registry) -> None:
    device = make_arm_device("arm", arm_device.cpu, home=arm_device.home)
    assert device.skip_reason() is None
    pte = resolve_target(tiny_artifacts["executorch"])
    first, second = (device.measure(pte, RunSettings(runs=1, warmup=1, per_op=True)) for _ in range(2))
    for m in (first, second):
        assert m.ok, m.error
        host = next(p for p in m.parity if p.against == "host")
        assert host.passed and host.max_abs <= 1e-5  # ARM XNNPACK NEON kernels vs the host's x86 ones
        assert m.instructions.per_inference > 0 and m.instructions.ops
    # fixed cpu model, fake cpuinfo, one thread: the same count every run, whole and per operator
    assert first.instructions.per_inference == second.instructions.per_inference
    assert [o.instructions for o in first.instructions.ops] == [o.instructions for o in second.instructions.ops]

    tflite = device.measure(resolve_target(tiny_artifacts["litert"]), RunSettings(runs=1, warmup=1))
    assert tflite.ok, tflite.error
    assert next(p for p in tflite.parity if p.against == "host").passed and tflite.instructions.per_inference > 0


@pytest.mark.slow
def test_arm_cost_probe_counts_a_depthwise_layer_as_fp32_int8_and_converts_repeatably(arm_device) -> None:
    from bench.devices.arm.probe import UNIT, arm_cost_probe

    probe = arm_cost_probe(arm_device.cpu, home=arm_device.home)
    layer, x = nn.Conv2d(16, 16, 3, padding=1, groups=16).eval(), torch.randn(1, 16, 24, 24)
    first, second = probe(layer, x), probe(layer, x)
    assert first == second and first.unit == UNIT  # instructions, not time: the same every run
    # three distinct delegate calls were counted: the two converts cost far less than either kernel
    assert first.fp32 > 0 and first.int8 > 0 and 0 < first.converts < min(first.fp32, first.int8)
