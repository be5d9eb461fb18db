"""The host cost probe of a layer: the layer alone lowered to a ``.pte`` at fp32 and at int8 (the shared
scheme), each timed per XNNPACK op from ETDump, so the int8 plan can keep a layer float where int8 is
slower here (``quantize.plan.float_where_int8_is_slower``).

What is compared, per layer: its fp32 kernel, against its int8 kernel; and what keeping it float inside
an int8 graph adds: the int8 -> fp32 convert before it and the fp32 -> int8 convert after it, measured
in the same int8 probe (XNNPACK runs the probe's Q/DQ at the boundary as its ``Convert`` ops).
Layout transposes at the probe's NCHW boundary are left out: in a whole graph XNNPACK keeps NHWC.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

from export_targets.runtime import OpProfile
from quantize.plan import LayerCost

RUNS = 20
WARMUP = 3


def probe_layer(layer: nn.Module, example: torch.Tensor, threads: int = 1) -> LayerCost:
    """fp32 and int8 kernel ms of ``layer`` on ``example`` (one .pte each), and the converts' ms."""
    with tempfile.TemporaryDirectory(prefix="edgeav-probe-") as tmp:
        fp32_pte, int8_pte = lower_pair(layer, example, Path(tmp))
        fp32, int8 = (_profile(p, example, threads) for p in (fp32_pte, int8_pte))
    return LayerCost(fp32=_kernel_ms(fp32), int8=_kernel_ms(int8), converts=_convert_ms(int8), unit="ms")


def lower_pair(layer: nn.Module, example: torch.Tensor, folder: Path, per_op: bool = False) -> tuple[Path, Path]:
    """``layer`` alone as ``folder/fp32.pte`` and ``folder/int8.pte`` (the shared int8 scheme).

    ``per_op``: one XNNPACK delegate per op, so a device that can only bracket delegate calls (the ARM
    core's counts) sees the int8 probe as three calls: convert in, the layer, convert out.
    """
    return (_lower(_Wrap(layer).eval(), example, folder / "fp32.pte", per_op),
            _lower(_quantized(layer, example), example, folder / "int8.pte", per_op))


def cpu_ms(path: Path, example: torch.Tensor, runs: int = 5) -> float:
    """The fastest of ``runs`` inferences of a .pte at 1 thread, in this thread's CPU time (immune to a
    shared core's preemption, which wall-clock ETDump times are not)."""
    import time

    from export_targets.executorch.runner import ExecuTorchRunner

    runner = ExecuTorchRunner(path, threads=1)
    feed = runner.prepare([example])
    runner.invoke(feed)
    times = []
    for _ in range(runs):
        start = time.thread_time_ns()
        runner.invoke(feed)
        times.append((time.thread_time_ns() - start) / 1e6)
    return min(times)


class _Wrap(nn.Module):
    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


def _quantized(layer: nn.Module, example: torch.Tensor) -> nn.Module:
    from quantize.api import calibrate, prepare
    from quantize.recipes import FloatModules

    sim = prepare(_Wrap(layer).eval(), (example,), "ptq", floats=FloatModules())
    calibrate(sim, [(example,)])
    return sim.convert()


def _lower(module: nn.Module, example: torch.Tensor, dest: Path, per_op: bool = False) -> Path:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    exported = torch.export.export(module, (example,))
    dest.write_bytes(to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner(per_op_mode=per_op)]).to_executorch().buffer)
    return dest


def _profile(path: Path, example: torch.Tensor, threads: int) -> OpProfile:
    from export_targets.executorch.runner import ExecuTorchRunner

    return ExecuTorchRunner(path, threads=threads).profile([example], runs=RUNS, warmup=WARMUP)


def _is_convert(op_type: str) -> bool:
    return op_type.startswith("Convert")


def _is_layout(op_type: str) -> bool:
    return op_type.startswith(("Transpose", "Copy"))


def _kernel_ms(profile: OpProfile) -> float:
    """The layer's own kernels: every XNNPACK op but converts and layout copies."""
    return sum(r.ms for r in profile.records if r.delegated and not _is_convert(r.op_type) and not _is_layout(r.op_type))


def _convert_ms(profile: OpProfile) -> float:
    return sum(r.ms for r in profile.records if r.delegated and _is_convert(r.op_type))
