"""Named model rewrites and checks: constructs a runtime cannot run, handled outside the model's source.

A :class:`Rewrite` swaps submodules for an equivalent form; each one is numerically equal to what it
replaces (tests prove it). A :class:`Check` only looks and returns warnings. The table holds no format
names: each export format (and the int8 capture) asks for the rewrites it wants by name. The generic ones
are defined here; a model folder registers its own (``edgeav/models/<name>/export_forms.py``), found on
the first lookup of a name this module does not define. ``HINTS`` turns a converter's complaint about a
known op into the fix.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from edgeav.errors import UsageError
from edgeav.models.layers.deformable import MSDeformSelfAttention, MSDeformSelfAttentionMatmul
from edgeav.models.layers.depthwise_rows import RowSplitDepthwiseConv2d, is_large_depthwise


class GlobalMaxPool2d(nn.Module):
    """``AdaptiveMaxPool2d(1)`` as ``amax`` over H and W: REDUCE_MAX / reduce_max everywhere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=(-2, -1), keepdim=True)


class GlobalMaxPoolAsMaxPool2d(nn.Module):
    """``AdaptiveMaxPool2d(1)`` as ``max_pool2d`` with a kernel the size of the (static) input.

    XNNPACK delegates max pooling but not ``amax``, so on ExecuTorch this keeps the op inside the
    delegate instead of splitting the graph around a portable reduction.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=x.shape[-2:], stride=x.shape[-2:])


class MeanReductionNorm(nn.Module):
    """LayerNorm over the last axis, or GroupNorm over (channels/group, H, W), as two means and an rsqrt.

    The input is viewed as 4-D ``[A, B, C, D]`` with the normalised elements in the two innermost axes, the
    one mean XNNPACK delegates (global average pooling). On ExecuTorch ``native_layer_norm`` and
    ``native_group_norm`` have no XNNPACK lowering, so each would split the graph around a portable
    kernel; LiteRT's GroupNorm lowering adds BROADCAST_TO ops that stay outside its XNNPACK delegate.
    """

    def __init__(self, norm: nn.LayerNorm | nn.GroupNorm) -> None:
        super().__init__()
        self.groups = norm.num_groups if isinstance(norm, nn.GroupNorm) else 0
        self.eps = norm.eps
        self.weight, self.bias = norm.weight, norm.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        if self.groups:  # [B, C, H, W] -> [B, G, C/G, H*W]
            x = x.reshape(shape[0], self.groups, shape[1] // self.groups, -1)
            affine_shape = (shape[1],) + (1,) * (len(shape) - 2)
        else:  # [..., C] -> [1, prod(...), 1, C]
            x = x.reshape(1, -1, 1, shape[-1])
            affine_shape = (shape[-1],)
        centred = x - x.mean(dim=(2, 3), keepdim=True)
        y = centred * torch.rsqrt((centred * centred).mean(dim=(2, 3), keepdim=True) + self.eps)
        y = y.reshape(shape)
        if self.weight is not None:
            y = y * self.weight.reshape(affine_shape) + self.bias.reshape(affine_shape)
        return y


def _norm_to_mean_reduction(module: nn.Module) -> nn.Module | None:
    if isinstance(module, nn.LayerNorm) and len(module.normalized_shape) == 1:
        return MeanReductionNorm(module)
    if isinstance(module, nn.GroupNorm):
        return MeanReductionNorm(module)
    return None


def _is_global_max_pool(module: nn.Module) -> bool:
    if not isinstance(module, nn.AdaptiveMaxPool2d) or module.return_indices:
        return False
    size = module.output_size
    sizes = (size, size) if not isinstance(size, (tuple, list)) else tuple(size)
    return all(s == 1 for s in sizes)


def _adaptive_max_pool_to_amax(module: nn.Module) -> nn.Module | None:
    return GlobalMaxPool2d() if _is_global_max_pool(module) else None


def _adaptive_max_pool_to_max_pool(module: nn.Module) -> nn.Module | None:
    return GlobalMaxPoolAsMaxPool2d() if _is_global_max_pool(module) else None


def _fold_conv_batchnorm(module: nn.Module) -> nn.Module | None:
    """A Sequential with every eval-mode BatchNorm2d folded into the Conv2d before it, else None.

    A stride-only ``AvgPool2d`` (no padding) between them is allowed: pooling commutes with a
    per-channel affine map, so PANNs' conv → avgpool → BN folds too. The BN becomes an Identity.
    """
    if not isinstance(module, nn.Sequential):
        return None
    kids = list(module.named_children())
    fused = dict(kids)
    for i, (name, bn) in enumerate(kids):
        if not isinstance(bn, nn.BatchNorm2d) or bn.training or bn.running_mean is None:
            continue
        j = i - 1
        if j >= 1 and isinstance(kids[j][1], nn.AvgPool2d) and _is_linear_pool(kids[j][1]):
            j -= 1
        conv_name, conv = kids[j] if j >= 0 else ("", None)
        if isinstance(conv, nn.Conv2d) and conv.out_channels == bn.num_features and not conv.training:
            fused[conv_name] = fuse_conv_bn_eval(conv, bn)
            fused[name] = nn.Identity()
    if all(fused[n] is m for n, m in kids):
        return None
    return nn.Sequential(OrderedDict(fused))


def _deformable_attention_to_matmul(module: nn.Module) -> nn.Module | None:
    return MSDeformSelfAttentionMatmul(module) if isinstance(module, MSDeformSelfAttention) else None


def _split_large_depthwise_rows(module: nn.Module) -> nn.Module | None:
    return RowSplitDepthwiseConv2d(module) if is_large_depthwise(module) else None


def _is_linear_pool(pool: nn.AvgPool2d) -> bool:
    padding = pool.padding if isinstance(pool.padding, tuple) else (pool.padding,)
    return all(p == 0 for p in padding) and not pool.ceil_mode and pool.divisor_override is None


@dataclass(frozen=True)
class Rewrite:
    """A named module swap."""

    name: str
    summary: str
    replace: Callable[[nn.Module], nn.Module | None]  # the replacement for one submodule, or None

    def apply(self, model: nn.Module) -> int:
        """Swap every matching submodule of ``model`` in place; returns how many were swapped."""
        count = 0
        for parent in list(model.modules()):
            for child_name, child in list(parent.named_children()):
                new = self.replace(child)
                if new is not None:
                    setattr(parent, child_name, new)
                    count += 1
        return count


@dataclass(frozen=True)
class Check:
    """A named inspection; ``find`` returns one warning per finding."""

    name: str
    summary: str
    find: Callable[[nn.Module], list[str]]


def _gelu_tanh_sites(model: nn.Module) -> list[str]:
    return [
        f"{path or 'model'}: GELU(approximate='tanh') runs as erf GELU on XNNPACK (~5e-4 abs difference)"
        for path, m in model.named_modules()
        if isinstance(m, nn.GELU) and m.approximate == "tanh"
    ]


def _adaptive_max_pool_left(model: nn.Module) -> list[str]:
    return [
        f"{path}: {m} has no lowering here (only output_size 1 is rewritten, to max_pool2d or amax)"
        for path, m in model.named_modules()
        if isinstance(m, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d))
    ]


GENERIC_REWRITES: tuple[Rewrite, ...] = (
    Rewrite(
        name="adaptive_max_pool_to_max_pool",
        summary="nn.AdaptiveMaxPool2d(1) -> F.max_pool2d(x, kernel_size=(H, W)); aten.adaptive_max_pool2d has "
        "no ExecuTorch lowering and amax is not delegated to XNNPACK, max pooling is",
        replace=_adaptive_max_pool_to_max_pool,
    ),
    Rewrite(
        name="fold_conv_batchnorm",
        summary="eval-mode BatchNorm2d folded into the preceding Conv2d (fp32-exact to ~1e-6); ~15% fewer "
        "nodes for the slow ExecuTorch and LiteRT lowerings, which would fuse them later anyway",
        replace=_fold_conv_batchnorm,
    ),
    Rewrite(
        name="adaptive_max_pool_to_amax",
        summary="nn.AdaptiveMaxPool2d(1) -> x.amax((2, 3), keepdim=True); aten.adaptive_max_pool2d has no "
        "LiteRT lowering, REDUCE_MAX runs inside the XNNPACK delegate",
        replace=_adaptive_max_pool_to_amax,
    ),
    Rewrite(
        name="deformable_attention_to_matmul",
        summary="MSDeformSelfAttention (grid_sample) -> MSDeformSelfAttentionMatmul: bilinear sampling as "
        "tent-weight matmuls at the model's fixed token layout, reference points as buffers; grid_sampler_2d "
        "is portable on ExecuTorch, ~77 non-delegated ops on LiteRT and rank-6 on Core ML (ONNX has GridSample)",
        replace=_deformable_attention_to_matmul,
    ),
    Rewrite(
        name="norm_to_mean_reduction",
        summary="nn.LayerNorm (last axis) / nn.GroupNorm -> means over the two innermost axes of a 4-D view "
        "+ rsqrt; ExecuTorch has no XNNPACK lowering for native_layer_norm / native_group_norm, and LiteRT "
        "lowers GroupNorm with BROADCAST_TO, which its XNNPACK delegate does not take",
        replace=_norm_to_mean_reduction,
    ),
    Rewrite(
        name="split_large_depthwise_rows",
        summary="a stride-1 depthwise Conv2d of more than 25 taps (7×7) -> the sum of its row bands (3×7 + 3×7 "
        "+ 1×7) over one padded input; XNNPACK runs a 7×7 depthwise as a grouped IGEMM (27.8 ms at 512 ch, "
        "28², one thread) and each ≤ 25-tap band with its depthwise kernels (the sum 2.5 ms)",
        replace=_split_large_depthwise_rows,
    ),
)

GENERIC_CHECKS: tuple[Check, ...] = (
    Check(
        name="gelu_tanh_on_xnnpack",
        summary="warn: XNNPACK computes GELU with erf even when approximate='tanh'",
        find=_gelu_tanh_sites,
    ),
    Check(
        name="adaptive_max_pool_left",
        summary="warn: adaptive max pooling that the max-pool rewrites could not replace",
        find=_adaptive_max_pool_left,
    ),
)

# Substrings of converter errors -> what to do about them.
HINTS: dict[str, str] = {
    "adaptive_max_pool2d": "use nn.AdaptiveMaxPool2d(1) modules (not F.adaptive_max_pool2d) so the "
    "adaptive_max_pool_to_max_pool / _to_amax rewrites apply",
    "complex<f32>": "torch.stft produces complex tensors; compute the STFT as a conv1d with a fixed DFT basis",
    "upsample_trilinear3d": "replace trilinear upsampling with two bilinear2d calls",
    "rank <= 5": "reshape to rank <= 5 tensors (Core ML limit)",
}


_REWRITES: dict[str, Rewrite] = {r.name: r for r in GENERIC_REWRITES}
_CHECKS: dict[str, Check] = {c.name: c for c in GENERIC_CHECKS}


def register_rewrite(rewrite: Rewrite) -> Rewrite:
    """Add a model folder's export form to the table (at import of its ``export_forms.py``)."""
    if rewrite.name in _REWRITES and _REWRITES[rewrite.name] is not rewrite:
        raise ValueError(f"rewrite '{rewrite.name}' registered twice")
    _REWRITES[rewrite.name] = rewrite
    return rewrite


def _load_model_forms() -> None:
    from edgeav.registry import list_models  # model folders register their forms with their entries

    list_models()


def list_rewrites() -> list[Rewrite]:
    _load_model_forms()
    return list(_REWRITES.values())


def list_checks() -> list[Check]:
    return list(_CHECKS.values())


def get_rewrite(name: str) -> Rewrite:
    if name not in _REWRITES:
        _load_model_forms()
    if name not in _REWRITES:
        raise UsageError(f"unknown rewrite '{name}'; known: {', '.join(_REWRITES)}")
    return _REWRITES[name]


def get_check(name: str) -> Check:
    if name not in _CHECKS:
        raise UsageError(f"unknown check '{name}'; known: {', '.join(_CHECKS)}")
    return _CHECKS[name]


def rewrite(model: nn.Module, names: Sequence[str]) -> dict[str, int]:
    """Apply the named rewrites to ``model`` in place, in the given order; the swap counts of those that
    matched something. For a model the caller owns (a copy); see :func:`rewrite_for_target` otherwise."""
    chosen = [get_rewrite(n) for n in names]
    return {r.name: n for r in chosen if (n := r.apply(model))}


def rewrite_for_target(
    model: nn.Module, names: Sequence[str], checks: Sequence[str] = ()
) -> tuple[nn.Module, dict[str, int], list[str]]:
    """An eval-mode copy of ``model`` with the named rewrites applied, the swap counts, and the named
    checks' warnings.

    The given model is never modified (not even its train/eval mode): it is returned as it is only when
    there is nothing to rewrite and it is already in eval mode.
    """
    if names or any(m.training for m in model.modules()):
        out = copy.deepcopy(model).eval()  # folding needs eval-mode BN statistics
        counts = rewrite(out, names)
    else:
        out, counts = model, {}
    warnings = [w for c in checks for w in get_check(c).find(out)]
    return out, counts, warnings


def hint_for(message: str) -> str:
    """The fix for a converter error message that mentions a known construct, or ''."""
    return next((hint for key, hint in HINTS.items() if key in message), "")
