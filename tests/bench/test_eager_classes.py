"""Eager's time per op class: ops are classed from their arguments as bench.cost classes the deployed graph."""
from __future__ import annotations

import torch
from torch import nn

from bench.eager_classes import LAYOUT, eager_class_times


class _Mixed(nn.Module):
    """One op of each kind whose class a kernel name would not tell: 1×1, depthwise and dense convolutions."""

    def __init__(self) -> None:
        super().__init__()
        self.pointwise = nn.Conv2d(8, 8, 1)
        self.depthwise = nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.dense = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dense(self.depthwise(self.pointwise(x))).relu()
        y = torch.cat([y, y], dim=1)[:, :8]
        return self.fc(y.mean(dim=(2, 3)))


def test_each_op_lands_in_its_class_and_the_total_is_measured_without_the_timer() -> None:
    times = eager_class_times(_Mixed(), (torch.randn(1, 8, 32, 32),), runs=2, warmup=1)
    assert times.calls["depthwise"] == 1 and times.calls["conv"] == 1
    assert times.calls["gemm"] == 2  # the 1×1 convolution and the linear layer
    assert times.calls[LAYOUT] >= 1  # the cat
    assert times.calls["elementwise"] >= 1 and times.calls["other"] >= 1  # relu; mean
    assert all(ms >= 0 for ms in times.ms.values()) and times.ms["conv"] > 0
    assert times.total_ms > 0 and times.outside_ms >= 0


def test_bounds_table_puts_eager_beside_the_artifact_per_class(monkeypatch) -> None:
    import bench.op_bounds as op_bounds
    from bench.eager_classes import EagerClassTimes
    from bench.op_bounds import Peak, bounds_markdown
    from bench.targets import BenchTarget
    from export_targets.runtime import OpProfile, OpRecord

    profile = OpProfile("ExecuTorch", "etdump", (OpRecord("c", "Convolution (NHWC, F32) IGEMM", "XNNPACK", True, 3.0),),
                        runs=1, total_ms=4.0)
    eager = EagerClassTimes(ms={"conv": 5.0, "other": 2.0}, calls={"conv": 1, "other": 3}, total_ms=8.0)
    target = BenchTarget(label="m.pte", format="executorch", model="tiny-av", config="small", precision="fp32")
    monkeypatch.setattr(op_bounds, "flops_by_class", lambda _t: {"conv": 100e6})  # 1 ms at 100 G/s
    text = bounds_markdown(target, profile, Peak(fp32=100.0, int8=300.0, threads=1), eager=eager)
    assert "| conv | 1 | 3.00 | 1 | 5.00 | 1.00 | 33% |" in text
    assert "| other | — | 0.00 | 3 | 2.00 |" in text  # a class only eager spends time in still gets its row
    assert "| outside ops (dispatch, delegate boundaries) | — | 1.00 | — | 1.00 |" in text  # eager: 8 − 7
    assert "| **total** | | 4.00 | | 8.00 |" in text
