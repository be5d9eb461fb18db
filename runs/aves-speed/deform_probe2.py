"""Deformable attention alone, paper shapes: eager vs .pte forms, interleaved rounds, thread CPU time."""
import tempfile, time, sys, importlib, statistics
from pathlib import Path
import torch
from torch import nn
from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
from executorch.exir import to_edge_transform_and_lower
from export_targets.executorch.runner import ExecuTorchRunner
from edgeav.models.layers.deformable import MSDeformSelfAttention, MSDeformSelfAttentionMatmul
torch.set_num_threads(1); torch.manual_seed(0)
shapes = ((28, 28), (14, 14), (7, 7))
ref = MSDeformSelfAttention(256, 3, 8, 4, shapes).eval()
with torch.no_grad():
    ref.sampling_offsets.weight.normal_(0, 0.01); ref.attention_weights.weight.normal_(0, 0.05)
class W(nn.Module):
    def __init__(s, m): super().__init__(); s.m = m
    def forward(s, q, v): return s.m(q, v, shapes)
q, v = torch.randn(1, 1029, 256), torch.randn(1, 1029, 256)
forms = {"matmul": W(MSDeformSelfAttentionMatmul(ref)).eval()}
for spec in sys.argv[1:]:
    mod, cls = spec.split(":"); forms[cls] = W(getattr(importlib.import_module(mod), cls)(ref)).eval()
tmp = tempfile.mkdtemp()
runners = {}
with torch.no_grad():
    base = W(ref)(q, v)
    for name, m in forms.items():
        print(name, "maxerr", (m(q, v) - base).abs().max().item(), flush=True)
        p = Path(tmp) / f"{name}.pte"
        p.write_bytes(to_edge_transform_and_lower(torch.export.export(m, (q, v)), partitioner=[XnnpackPartitioner()]).to_executorch().buffer)
        r = ExecuTorchRunner(p, threads=1); feed = r.prepare([q, v]); r.invoke(feed); runners[name] = (r, feed)
def tmin(f, n=3):
    t = []
    for _ in range(n):
        s = time.thread_time_ns(); f(); t.append((time.thread_time_ns() - s) / 1e6)
    return min(t)
res = {k: [] for k in ["eager grid_sample", *runners]}
with torch.inference_mode():
    for _ in range(5):
        res["eager grid_sample"].append(tmin(lambda: W(ref)(q, v)))
        for name, (r, feed) in runners.items():
            res[name].append(tmin(lambda: r.invoke(feed)))
for k, v_ in res.items():
    print(f"{k}: median {statistics.median(v_):.2f} ms  rounds {' '.join(f'{x:.1f}' for x in v_)}")
