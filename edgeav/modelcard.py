"""Parameter and FLOP accounting for `edgeav models --detail` and the README.

FLOPs are counted with ``torch.utils.flop_counter`` (2 × MACs of conv/linear/matmul), the same tool the
design notes used to reproduce the papers' figures. ``conv_linear_macs`` is the other convention papers use
(thop-style: MACs of convolutions and linear layers only, attention matmuls left out); a paper's
:class:`~edgeav.registry.PaperFigures` says which one its figure is in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

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
    conv_linear_macs: int = 0
    conv_linear_macs_by_part: dict[str, int] = field(default_factory=dict)


# What a thop-style counter sees: convolutions and linear layers (nn.Linear runs as addmm, or mm without bias).
CONV_LINEAR_OPS = ("convolution", "addmm", "mm")


def _conv_linear_macs(op_counts: dict) -> int:
    return sum(v for op, v in op_counts.items() if str(op).split(".")[-1] in CONV_LINEAR_OPS) // 2


def example_inputs(spec: IOSpec) -> tuple[torch.Tensor, ...]:
    """Zero tensors matching the input spec (for shape-only uses such as FLOP counting)."""
    return tuple(torch.zeros(s.shape, dtype=getattr(torch, s.dtype)) for s in spec.inputs)


def measure_cost(model: nn.Module, inputs: tuple[torch.Tensor, ...], *, on_meta: bool = False) -> ModelCost:
    """Parameters and forward FLOPs of ``model`` on ``inputs``, in total and per top-level child.

    ``on_meta`` counts on the meta device (shapes only, no arithmetic: paper-size video models in seconds);
    it moves ``model`` there, so its weights are gone afterwards. The counts are the same as on the CPU.
    """
    params_by_part = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
    params = sum(p.numel() for p in model.parameters())
    if on_meta:
        model, inputs = model.to("meta"), tuple(x.to("meta") for x in inputs)
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False, depth=6) as counter:
        model(*inputs)
    counts = counter.get_flop_counts()
    per_module = {k: int(sum(v.values())) for k, v in counts.items()}
    per_module_cl = {k: _conv_linear_macs(v) for k, v in counts.items()}
    root = type(model).__name__
    return ModelCost(
        params=params,
        flops=int(counter.get_total_flops()),
        params_by_part=params_by_part,
        flops_by_part={name: _outermost_sum(per_module, f"{root}.{name}") for name in params_by_part},
        conv_linear_macs=_conv_linear_macs(counts.get("Global", {})),
        conv_linear_macs_by_part={name: _outermost_sum(per_module_cl, f"{root}.{name}") for name in params_by_part},
    )


def _outermost_sum(per_module: dict[str, int], prefix: str) -> int:
    """FLOPs under ``prefix``, summing only the outermost modules that ran.

    A part may never run its own ``forward`` (a backbone driven stage by stage, a ModuleList), so its
    FLOPs are the sum of its outermost children that did; nested entries are not counted twice.
    """
    names = [k for k in per_module if k == prefix or k.startswith(prefix + ".")]
    outer = [k for k in names if not any(k.startswith(o + ".") for o in names if o != k)]
    return sum(per_module[k] for k in outer)
