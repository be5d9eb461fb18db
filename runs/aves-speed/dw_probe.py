"""Time a 7x7 depthwise conv vs its row split in a .pte (ETDump per op) at the AVESFormer sizes."""
import sys, tempfile, time
from pathlib import Path
import torch
from torch import nn
from export_targets.executorch.probe import _Wrap, _lower
from export_targets.executorch.runner import ExecuTorchRunner
from edgeav.models.layers.depthwise_rows import RowSplitDepthwiseConv2d

torch.manual_seed(0)
C = 512
for size in (28, 14, 7):
    conv = nn.Conv2d(C, C, 7, padding=3, groups=C).eval()
    split = RowSplitDepthwiseConv2d(conv).eval()
    x = torch.randn(1, C, size, size)
    with torch.no_grad():
        err = (conv(x) - split(x)).abs().max().item()
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, m in (("7x7", conv), ("split", split)):
            p = _lower(_Wrap(m).eval(), x, Path(tmp) / f"{name}.pte")
            r = ExecuTorchRunner(p, threads=1)
            prof = r.profile([x], runs=10, warmup=3)
            ops = sorted(((rec.op_type, round(rec.ms, 3)) for rec in prof.records), key=lambda t: -t[1])
            res[name] = (round(prof.op_ms, 3), ops[:6])
    # eager
    with torch.no_grad():
        for _ in range(3): conv(x)
        t = []
        for _ in range(10):
            s = time.thread_time_ns(); conv(x); t.append((time.thread_time_ns() - s) / 1e6)
    print(size, "maxerr", err, "eager", round(min(t), 3), res, flush=True)
