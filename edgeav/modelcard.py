"""Parameter and FLOP accounting for `edgeav models --detail` and the README.

FLOPs are counted with ``torch.utils.flop_counter`` (2 × MACs of conv/linear/matmul), the same tool the
design notes used to reproduce the papers' figures.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edgeav.specs import IOSpec


@dataclass(frozen=True)
class ModelCost:
    params: int
    flops: int
    params_by_part: dict[str, int]
    flops_by_part: dict[str, int]


def example_inputs(spec: IOSpec) -> tuple[torch.Tensor, ...]:
    """Zero tensors matching the input spec (for shape-only uses such as FLOP counting)."""
    return tuple(torch.zeros(s.shape, dtype=getattr(torch, s.dtype)) for s in spec.inputs)


def measure_cost(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> ModelCost:
    """Parameters and forward FLOPs of ``model`` on ``inputs``, in total and per top-level child."""
    params_by_part = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False, depth=6) as counter:
        model(*inputs)
    per_module = {k: int(sum(v.values())) for k, v in counter.get_flop_counts().items()}
    root = type(model).__name__
    flops_by_part = {name: _outermost_sum(per_module, f"{root}.{name}") for name in params_by_part}
    return ModelCost(
        params=sum(p.numel() for p in model.parameters()),
        flops=int(counter.get_total_flops()),
        params_by_part=params_by_part,
        flops_by_part=flops_by_part,
    )


def _outermost_sum(per_module: dict[str, int], prefix: str) -> int:
    """FLOPs under ``prefix``, summing only the outermost modules that ran.

    A part may never run its own ``forward`` (a backbone driven stage by stage, a ModuleList), so its
    FLOPs are the sum of its outermost children that did; nested entries are not counted twice.
    """
    names = [k for k in per_module if k == prefix or k.startswith(prefix + ".")]
    outer = [k for k in names if not any(k.startswith(o + ".") for o in names if o != k)]
    return sum(per_module[k] for k in outer)
