"""Multi-scale deformable self-attention (Deformable-DETR ``MSDeformAttn``), in two numerically equal forms.

``MSDeformSelfAttention`` is the reference: the pure-PyTorch path of Deformable-DETR (``F.grid_sample``,
bilinear, zero padding, ``align_corners=False``), with the encoder's reference points computed from the
level shapes at every call. Its parameters carry the upstream names (``sampling_offsets``,
``attention_weights``, ``value_proj``, ``output_proj``), so AVSegFormer/Deformable-DETR weights load as they are.

``MSDeformSelfAttentionMatmul`` is the same function for one fixed token layout, written with ops every
phone target delegates (shared/design/backends.md §1: ``grid_sampler_2d`` stays on ExecuTorch's portable
kernels and becomes ~77 non-delegated gather/select ops per call on LiteRT). Bilinear sampling with zero
padding is a dot product with "tent" weights: a sample at pixel coordinate x takes ``max(0, 1 - |x - j|)``
of column j, which is exactly grid_sample's two corner weights, and a corner outside the map simply has
no column. So for every level the sampling matrix is ``(a·w_y)ᵀ @ w_x`` over the points (one ``bmm``), and the
attention output is the sum over levels of one more ``bmm`` with that level's values: sub, abs, relu, mul,
bmm, add, softmax, reshape, permute and slice — all delegated by XNNPACK and LiteRT. Reference points and the per-level pixel
grids are buffers. It is selected by the export rewrite ``deformable_attention_to_matmul``
(``edgeav/models/rewrites.py``), never by a flag in the model.

Cost of the matmul form: the sampling matrices are dense, ``heads × N × ΣHW`` (at 224² with strides 8/16/32:
8 × 1029 × 1029 floats = 34 MB) and their products with the values are ``2·N·ΣHW·C`` FLOPs (0.54 GFLOPs per
layer at d = 256), where grid_sample reads 4 corners per point. Measured alone at that size (one thread,
``.pte``): 13.9 ms per layer, against 24.2 ms for eager's grid_sample form; with the level matrices
concatenated first (the earlier form) 16.7 ms.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.errors import InputShapeError
from edgeav.models.layers.tokens import LevelShapes

def encoder_reference_points(level_shapes: LevelShapes, device: torch.device | None = None) -> torch.Tensor:
    """Normalised pixel centres ``[N, 2]`` (x, y) of every token, levels concatenated in order.

    A token's reference point is the centre of its own pixel; the encoder uses the same normalised point
    on every level (no padding, so Deformable-DETR's valid ratios are all 1).
    """
    points = []
    for h, w in level_shapes:
        ys, xs = torch.meshgrid(
            torch.linspace(0.5, h - 0.5, h, device=device), torch.linspace(0.5, w - 0.5, w, device=device), indexing="ij"
        )
        points.append(torch.stack((xs.reshape(-1) / w, ys.reshape(-1) / h), dim=-1))
    return torch.cat(points, dim=0)


class MSDeformSelfAttention(nn.Module):
    """Deformable self-attention over multi-scale tokens; the grid_sample reference.

    ``level_shapes`` is the token layout the model is built for; the reference itself follows whatever
    shapes it is called with, the export form bakes these in.
    """

    def __init__(self, dim: int, levels: int, heads: int, points: int, level_shapes: LevelShapes) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} must be divisible by heads {heads}")
        if len(level_shapes) != levels:
            raise ValueError(f"{levels} levels but {len(level_shapes)} level shapes")
        self.dim, self.levels, self.heads, self.points = dim, levels, heads, points
        self.level_shapes = tuple(level_shapes)
        self.sampling_offsets = nn.Linear(dim, heads * levels * points * 2)
        self.attention_weights = nn.Linear(dim, heads * levels * points)
        self.value_proj = nn.Linear(dim, dim)
        self.output_proj = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Deformable-DETR's init: offsets start on a radial pattern (head h at angle 2πh/H, point i at
        distance i+1 pixels), attention starts uniform, projections Xavier."""
        nn.init.zeros_(self.sampling_offsets.weight)
        angles = torch.arange(self.heads, dtype=torch.float32) * (2.0 * math.pi / self.heads)
        grid = torch.stack([angles.cos(), angles.sin()], -1)
        grid = grid / grid.abs().max(-1, keepdim=True)[0]
        grid = grid.view(self.heads, 1, 1, 2).repeat(1, self.levels, self.points, 1)
        grid = grid * torch.arange(1, self.points + 1, dtype=torch.float32).view(1, 1, -1, 1)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.reshape(-1))
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for proj in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(proj.weight)
            nn.init.zeros_(proj.bias)

    def forward(self, query: torch.Tensor, value: torch.Tensor, level_shapes: LevelShapes) -> torch.Tensor:
        """``query`` [B, N, C] (tokens + positional embedding), ``value`` [B, N, C] → [B, N, C]."""
        b, n, _ = query.shape
        h, l, p = self.heads, self.levels, self.points
        offsets = self.sampling_offsets(query).view(b, n, h, l, p, 2)
        weights = self.attention_weights(query).view(b, n, h, l * p).softmax(-1).view(b, n, h, l, p)
        ref = encoder_reference_points(level_shapes, query.device)  # [N, 2]
        scale = torch.tensor([[w, hh] for hh, w in level_shapes], dtype=query.dtype, device=query.device)
        locations = ref[None, :, None, None, None, :] + offsets / scale[None, None, None, :, None, :]
        values = self.value_proj(value).view(b, value.shape[1], h, self.dim // h)
        out = grid_sample_attention(values, level_shapes, locations, weights)
        return self.output_proj(out)


def grid_sample_attention(
    values: torch.Tensor, level_shapes: LevelShapes, locations: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Deformable-DETR's ``ms_deform_attn_core_pytorch``, restated.

    values [B, Nv, H, D]; locations [B, N, H, L, P, 2] normalised (x, y) in [0, 1]; weights [B, N, H, L, P]
    → [B, N, H·D].
    """
    b, _, heads, d = values.shape
    n, levels, points = locations.shape[1], locations.shape[3], locations.shape[4]
    grids = 2.0 * locations - 1.0
    sampled, start = [], 0
    for level, (hh, ww) in enumerate(level_shapes):
        v = values[:, start:start + hh * ww].permute(0, 2, 3, 1).reshape(b * heads, d, hh, ww)
        start += hh * ww
        g = grids[:, :, :, level].permute(0, 2, 1, 3, 4).reshape(b * heads, n, points, 2)
        sampled.append(F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False))
    stacked = torch.stack(sampled, dim=-2).flatten(-2)  # [B·H, D, N, L·P]
    w = weights.permute(0, 2, 1, 3, 4).reshape(b * heads, 1, n, levels * points)
    out = (stacked * w).sum(-1)  # [B·H, D, N]
    return out.view(b, heads * d, n).transpose(1, 2)


class BilinearSamplingMatrix(nn.Module):
    """The attention-weighted bilinear sampling of every query, as one dense matrix ``[B·H, N, H_l·W_l]`` per level.

    Its own module so that quantization can leave it float (a model entry's ``float_modules``):
    its entries are products of tent weights and softmax weights, and its product with the values is a
    matmul of two activations. On an int8 graph that product then stays a float batch matmul, which
    XNNPACK runs in every runtime; with an int8 sampling matrix LiteRT makes it an int8 BATCH_MATMUL that
    its XNNPACK delegate does not take (two `[8, 1029, 1029] × [8, 1029, 32]` products on TFLite's own
    kernels were 37 % of the paper-size int8 .tflite's time).
    """

    def __init__(self, heads: int, points: int, level_shapes: LevelShapes) -> None:
        super().__init__()
        self.heads, self.points, self.levels, self.level_shapes = heads, points, len(level_shapes), level_shapes
        ref = encoder_reference_points(level_shapes)
        for level, (hh, ww) in enumerate(level_shapes):
            # Pixel coordinate of the reference point: grid_sample (align_corners=False) samples the
            # normalised location u at u·W - 0.5, and u = ref + offset / W, so x = ref·W - 0.5 + offset.
            # Stored at full [N, H·P] width: a [N, 1] buffer would broadcast on two axes, which LiteRT
            # lowers to BROADCAST_TO, an op its XNNPACK delegate does not take.
            hp = heads * points
            self.register_buffer(f"base_x{level}", (ref[:, 0:1] * ww - 0.5).repeat(1, hp), persistent=False)
            self.register_buffer(f"base_y{level}", (ref[:, 1:2] * hh - 0.5).repeat(1, hp), persistent=False)
            # Distances to every column (row) as one linear map, d_j = 1·x - j (a broadcast subtraction
            # of an index vector would expand both operands).
            self.register_buffer(f"ones_x{level}", torch.ones(ww, 1), persistent=False)
            self.register_buffer(f"cols{level}", -torch.arange(ww, dtype=torch.float32), persistent=False)
            self.register_buffer(f"ones_y{level}", torch.ones(hh, 1), persistent=False)
            self.register_buffer(f"rows{level}", -torch.arange(hh, dtype=torch.float32), persistent=False)

    def forward(self, offsets: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``offsets`` ``[B, N, 2·L·H·P]`` in (xy, level, head, point) order, ``logits`` ``[B, N, H·L·P]`` → one
        matrix ``[B·H, N, H_l·W_l]`` per level (not concatenated: each multiplies its own level's values, and
        a cat would copy 34 MB per layer at 224²)."""
        b, n, _ = offsets.shape
        h, p, lp = self.heads, self.points, self.levels * self.points
        weights = logits.reshape(b, n, h, lp).softmax(-1).permute(0, 2, 1, 3).reshape(b * h * n, lp, 1)
        block = h * p
        matrices = []
        for level, (hh, ww) in enumerate(self.level_shapes):
            x = self._pixel_coordinate(offsets, level * block, getattr(self, f"base_x{level}"))
            y = self._pixel_coordinate(offsets, (self.levels + level) * block, getattr(self, f"base_y{level}"))
            w_x = _tent(F.linear(x.reshape(b * h * n, p, 1), getattr(self, f"ones_x{level}"), getattr(self, f"cols{level}")))
            w_y = _tent(F.linear(y.reshape(b * h * n, p, 1), getattr(self, f"ones_y{level}"), getattr(self, f"rows{level}")))
            w_y = w_y * weights[:, level * p:(level + 1) * p]  # [B·H·N, P, H] · attention [B·H·N, P, 1]
            matrices.append(torch.bmm(w_y.transpose(1, 2), w_x).reshape(b * h, n, hh * ww))  # Σ_p over [H, W]
        return tuple(matrices)

    def _pixel_coordinate(self, offsets: torch.Tensor, start: int, base: torch.Tensor) -> torch.Tensor:
        """One (coordinate, level) block of offsets as pixel coordinates ``[B·H, N, P]``."""
        b, n, _ = offsets.shape
        h, p = self.heads, self.points
        block = offsets[:, :, start:start + h * p] + base  # [B, N, H·P]
        return block.reshape(b, n, h, p).permute(0, 2, 1, 3).reshape(b * h, n, p)


class MSDeformSelfAttentionMatmul(nn.Module):
    """``MSDeformSelfAttention`` for its fixed ``level_shapes``, with bilinear sampling as matmuls.

    Built from a reference module (sharing its projections); equal to it up to float rounding.
    """

    def __init__(self, reference: MSDeformSelfAttention) -> None:
        super().__init__()
        self.dim, self.heads = reference.dim, reference.heads
        self.level_shapes = reference.level_shapes
        self.value_proj = reference.value_proj
        self.output_proj = reference.output_proj
        self.attention_weights = reference.attention_weights
        # Rows reordered from (head, level, point, xy) to (xy, level, head, point): every (coordinate,
        # level) block of the output is then one contiguous slice (strided slices and selects would
        # leave the XNNPACK delegate).
        self.sampling_offsets = _reordered_offsets(reference)
        self.sampler = BilinearSamplingMatrix(reference.heads, reference.points, reference.level_shapes)

    def forward(self, query: torch.Tensor, value: torch.Tensor, level_shapes: LevelShapes) -> torch.Tensor:
        if tuple(level_shapes) != self.level_shapes:
            raise InputShapeError(
                f"the exported deformable attention is built for level shapes {self.level_shapes}, got "
                f"{tuple(level_shapes)}; export at the model's configured image size"
            )
        b, n, _ = query.shape
        h = self.heads
        levels = self.sampler(self.sampling_offsets(query), self.attention_weights(query))  # [B·H, N, H_l·W_l] each
        nv = value.shape[1]
        values = self.value_proj(value).reshape(b, nv, h, self.dim // h).permute(0, 2, 1, 3).reshape(b * h, nv, -1)
        out, start = None, 0
        for matrix in levels:  # Σ_l S_l @ V_l: the same sum as one [N, ΣHW] @ [ΣHW, D] product, without the cat
            part = torch.bmm(matrix, values[:, start:start + matrix.shape[-1]])
            start += matrix.shape[-1]
            out = part if out is None else out + part
        out = out.reshape(b, h, n, -1).permute(0, 2, 1, 3).reshape(b, n, self.dim)
        return self.output_proj(out)


def _tent(distance: torch.Tensor) -> torch.Tensor:
    """Bilinear weight of a pixel at ``distance`` from the sample: max(0, 1 - |d|)."""
    return F.relu(1.0 - torch.abs(distance))


def _reordered_offsets(reference: MSDeformSelfAttention) -> nn.Linear:
    h, l, p = reference.heads, reference.levels, reference.points
    src = reference.sampling_offsets
    order = torch.arange(h * l * p * 2).view(h, l, p, 2).permute(3, 1, 0, 2).reshape(-1)
    out = nn.Linear(src.in_features, src.out_features, device=src.weight.device, dtype=src.weight.dtype)
    with torch.no_grad():
        out.weight.copy_(src.weight[order])
        out.bias.copy_(src.bias[order])
    return out
