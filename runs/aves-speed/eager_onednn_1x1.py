"""Eager AVESFormer-R18 paper at 1 thread, as PyTorch runs it and with its 1×1 convolutions sent to oneDNN.

At one thread PyTorch's use_mkldnn heuristic sends a stride-1 1×1 convolution with batch < 16 to
aten::_slow_conv2d_forward; this routes those calls to torch.mkldnn_convolution (same result) to show what
eager would take with them on oneDNN. Thread CPU time, interleaved rounds.

    taskset -c 0 .venv/bin/python runs/aves-speed/eager_onednn_1x1.py
"""
import statistics
import time

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from edgeav.registry import get_model_entry, load_model

torch.set_num_threads(1)


class OneDNNPointwise(TorchFunctionMode):
    routed = 0  # 1×1 calls sent to oneDNN (class-wide: counts across uses)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.conv2d:
            x, w = args[0], args[1]
            b = args[2] if len(args) > 2 else kwargs.get("bias")
            stride, padding, dilation, groups = (tuple(args[3:7]) + ((1, 1), (0, 0), (1, 1), 1)[len(args[3:7]):])
            plain = tuple(stride) == (1, 1) and tuple(padding) == (0, 0) and tuple(dilation) == (1, 1) and groups == 1
            if w.shape[-2:] == (1, 1) and plain and not {k for k in kwargs if k != "bias"}:
                type(self).routed += 1
                return torch.mkldnn_convolution(x, w, b, (0, 0), (1, 1), (1, 1), 1)
        return func(*args, **kwargs)


entry = get_model_entry("avesformer-r18")
model = load_model("avesformer-r18", "paper", None).model.eval()
inputs = tuple(torch.as_tensor(x) for x in entry.samples(entry.config("paper"), 1, 0)[0])


def once(mode: bool) -> float:
    start = time.thread_time_ns()
    with torch.inference_mode():
        if mode:
            with OneDNNPointwise():
                model(*inputs)
        else:
            model(*inputs)
    return (time.thread_time_ns() - start) / 1e6


with torch.inference_mode():
    a = model(*inputs)
    with OneDNNPointwise():
        b = model(*inputs)
flat = lambda o: torch.cat([t.flatten() for t in (o if isinstance(o, (tuple, list)) else [o])])
print("max abs difference", (flat(a) - flat(b)).abs().max().item(), "| 1x1 convolutions routed per inference:",
      OneDNNPointwise.routed)
default, onednn = [], []
for _ in range(6):
    default.append(once(False))
    onednn.append(once(True))
print(f"eager default: median {statistics.median(default):.1f} ms  rounds {' '.join(f'{x:.0f}' for x in default)}")
print(f"eager 1x1 on oneDNN: median {statistics.median(onednn):.1f} ms  rounds {' '.join(f'{x:.0f}' for x in onednn)}")
