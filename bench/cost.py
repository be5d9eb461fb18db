"""FLOPs and bytes per operator of a model's graph, for the roofline estimate.

The graph is the sequence of ATen operators the model dispatches on one example input (the ops
``torch.export`` captures), after the same export rewrites as the ExecuTorch target (BN folding, pooling
swaps), so the op list is the deployed one. FLOPs: ``torch.utils.flop_counter``'s formulas for conv,
matmul and attention (2 × MACs), plus one FLOP per output element for every other op. Bytes: every
tensor an op reads (activations and weights) plus every tensor it writes; view ops move nothing.

Each op also gets a **class** (``OP_CLASSES``), the unit the host calibration measures kernel efficiency
in: ``conv`` (spatial dense or grouped convolution: an indirect GEMM), ``depthwise``, ``gemm`` (1×1
convolutions, linear layers, matmuls: runtimes run them all as plain GEMMs), ``elementwise`` and ``other``
(reductions, pooling, softmax, resizes, copies).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

# Ops that only bookkeep (no arithmetic, no traffic a runtime would pay).
_FREE = {"detach", "alias", "lift_fresh", "_unsafe_view", "view", "reshape", "_to_copy", "clone", "empty", "zeros", "full", "arange", "scalar_tensor"}

OP_CLASSES = ("conv", "depthwise", "gemm", "elementwise", "other")
_GEMM_OPS = {"mm", "addmm", "bmm", "baddbmm", "matmul", "linear", "_addmm_activation"}
_ELEMENTWISE_OPS = {
    "add", "sub", "rsub", "mul", "div", "neg", "abs", "relu", "relu6", "hardtanh", "clamp", "clamp_min", "clamp_max",
    "sigmoid", "hardsigmoid", "hardswish", "tanh", "gelu", "silu", "exp", "log", "log10", "pow", "sqrt", "rsqrt",
    "square", "maximum", "minimum", "where", "leaky_relu", "elu", "reciprocal",
    # inference batch norm (the ones folding leaves, e.g. over a transposed axis) is a per-channel affine
    "native_batch_norm", "_native_batch_norm_legit_no_training",
}


def aten_class(op: str) -> str:
    """The class of an ATen op by name alone (a convolution counts as ``conv``: its shape is unknown)."""
    if op in _GEMM_OPS:
        return "gemm"
    if op in _ELEMENTWISE_OPS:
        return "elementwise"
    return "conv" if "convolution" in op else "other"


def _convolution_class(args: tuple) -> str:  # type: ignore[type-arg]
    """aten.convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)."""
    x, weight, groups = args[0], args[1], int(args[8])
    if groups > 1 and groups == x.shape[1]:
        return "depthwise"
    return "gemm" if groups == 1 and weight[0, 0].numel() == 1 else "conv"


@dataclass(frozen=True)
class OpCost:
    op: str  # ATen op name, e.g. "convolution"
    flops: float
    bytes: float
    kind: str = "other"  # one of OP_CLASSES

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else float("inf")


class _CostRecorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: list[OpCost] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func._overloadpacket.__name__
        if func.is_view or name in _FREE:
            return out
        ins = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        counter = flop_registry.get(func._overloadpacket)
        flops = float(counter(*args, **kwargs, out_val=out)) if counter else float(sum(t.numel() for t in outs))
        traffic = float(sum(t.numel() * t.element_size() for t in (*ins, *outs)))
        kind = _convolution_class(args) if name == "convolution" else aten_class(name)
        self.ops.append(OpCost(op=name, flops=flops, bytes=traffic, kind=kind))
        return out


def op_costs(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> list[OpCost]:
    """Per-op FLOPs and bytes of one forward pass of ``model`` on ``inputs``."""
    recorder = _CostRecorder()
    with torch.no_grad(), recorder:  # not inference_mode: composite ops (conv2d, linear) must decompose
        model.eval()(*inputs)
    return recorder.ops


def deployed_costs(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[OpCost, ...]:
    """Op costs of ``model`` in its deployed form (after the ExecuTorch target's rewrites)."""
    from edgeav.models.rewrites import rewrite_for_target
    from export_targets.formats import format_info

    deployed, _, _ = rewrite_for_target(model.eval(), format_info("executorch").rewrites)
    return tuple(op_costs(deployed, inputs))


@lru_cache(maxsize=8)
def registry_costs(model_name: str, config_name: str) -> tuple[OpCost, ...]:
    """Op costs of a registry model at a config, in its deployed (ExecuTorch-rewritten) form."""
    from edgeav.modelcard import example_inputs
    from edgeav.registry import get_model_entry

    entry = get_model_entry(model_name)
    config = entry.config(config_name)
    torch.manual_seed(0)
    return deployed_costs(entry.build(config_name), example_inputs(entry.io_spec(config)))
