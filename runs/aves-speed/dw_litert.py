import tempfile, time, sys
from pathlib import Path
import numpy as np, torch
from torch import nn
import litert_torch
from export_targets.litert.interpreter import open_interpreter
from edgeav.models.layers.depthwise_rows import RowSplitDepthwiseConv2d
torch.manual_seed(0)
C = 512
class W(nn.Module):
    def __init__(s, m): super().__init__(); s.m = m
    def forward(s, x): return s.m(x)
for size in [int(a) for a in sys.argv[1:]] or (28, 14):
    conv = nn.Conv2d(C, C, 7, padding=3, groups=C).eval()
    x = torch.randn(1, C, size, size)
    for name, m in (("7x7", conv), ("split", RowSplitDepthwiseConv2d(conv))):
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "m.tflite"
            litert_torch.convert(W(m).eval(), (x,)).export(str(p))
            it = open_interpreter(p, 1)
            inp = it.get_input_details()[0]; out = it.get_output_details()[0]
            it.set_tensor(inp["index"], x.numpy()); it.invoke()
            err = np.abs(it.get_tensor(out["index"]) - conv(x).detach().numpy()).max()
            ts = []
            for _ in range(5):
                s = time.thread_time_ns(); it.invoke(); ts.append((time.thread_time_ns() - s) / 1e6)
            ops = sorted({d["op_name"] for d in it._get_ops_details()}) if hasattr(it, "_get_ops_details") else []
            print(size, name, "ms", round(min(ts), 2), "err", err, ops, flush=True)
