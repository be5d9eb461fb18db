"""MViTv2 video encoder (Li et al. 2022) with mmaction2's module names, so its K400 checkpoint loads by prefix.

Per block: LayerNorm → multi-head *pooling* attention (q, k, v each pooled by a depthwise Conv3d 3×3×3 and
a LayerNorm; q with the block's q-stride, k/v with the adaptive kv-stride), decomposed relative position
(t, h, w) added to the logits, residual pooling (the pooled q added to the attention output), then an MLP
(GELU, ratio 4). Where the width doubles (blocks 1, 3, 14 of MViTv2-S) it doubles inside the attention
(``dim_mul_in_attention``) and the skip goes through ``proj`` (Linear) and a 3×3 max pool.

Differences from mmaction2, each chosen for a fixed-size, exportable graph with the same numbers:
- The relative-position tables are built at this model's q/k sizes (mmaction2 builds them square for 224²
  and ``F.interpolate``s them in every forward); ``weights.py`` interpolates the checkpoint's tables once,
  the same linear interpolation, at load time. Their index tensors are buffers, not computed per forward.
- The four scale outputs go through ``norm0..3`` *beside* the trunk. mmaction2 normalises in line, so with
  ``out_scales=[0,1,2,3]`` the fresh norm0-2 (the K400 checkpoint only has ``norm3``) would change what the
  pretrained later stages see.
- The cls token is kept in the sequence (``with_cls_token``), as in the checkpoint; it is dropped from the outputs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.dtfsal.configs import MViTConfig, Triple
from edgeav.models.layers.conv import DropPath


def rel_pos_index(q_size: int, k_size: int) -> torch.Tensor:
    """Index into a table of ``2·max(q, k) − 1`` relative offsets for every (q, k) pair (MViTv2 eq. 4),
    scaling the shorter axis so pooled and unpooled positions line up."""
    q_ratio, k_ratio = max(k_size / q_size, 1.0), max(q_size / k_size, 1.0)
    q = torch.arange(q_size)[:, None] * q_ratio
    k = torch.arange(k_size)[None, :] * k_ratio
    return (q - k + (k_size - 1) * k_ratio).long()


def pool_tokens(x: torch.Tensor, pool: nn.Module, size: Triple, norm: nn.Module | None = None) -> tuple[torch.Tensor, Triple]:
    """Pool ``[B, heads, 1 + T·H·W, C]`` tokens (cls first) on their T×H×W grid; the cls token passes through."""
    b, heads, _, c = x.shape
    cls, grid = x[:, :, :1], x[:, :, 1:]
    grid = grid.reshape(b * heads, *size, c).permute(0, 4, 1, 2, 3)
    grid = pool(grid)
    out_size = tuple(grid.shape[2:])
    grid = grid.reshape(b, heads, c, -1).transpose(2, 3)
    x = torch.cat((cls, grid), dim=2)
    return (norm(x) if norm is not None else x), out_size


def _out_size(size: Triple, stride: Triple) -> Triple:
    # Conv/max pools with kernel 3 (or 1 for stride 1 axes), padding k//2: ceil(n / s).
    return tuple(-(-n // s) for n, s in zip(size, stride))


class MultiScaleAttention(nn.Module):
    def __init__(self, cfg: MViTConfig, in_dim: int, out_dim: int, heads: int,
                 stride_q: Triple, stride_kv: Triple, in_size: Triple) -> None:
        super().__init__()
        self.heads, self.out_dim = heads, out_dim
        head_dim = out_dim // heads
        self.scale = head_dim**-0.5
        self.qkv = nn.Linear(in_dim, 3 * out_dim)
        self.proj = nn.Linear(out_dim, out_dim)
        padding = tuple(k // 2 for k in cfg.pool_kernel)

        def pool(stride: Triple) -> nn.Conv3d:
            return nn.Conv3d(head_dim, head_dim, cfg.pool_kernel, stride, padding, groups=head_dim, bias=False)

        self.pool_q, self.pool_k, self.pool_v = pool(stride_q), pool(stride_kv), pool(stride_kv)
        self.norm_q, self.norm_k, self.norm_v = (nn.LayerNorm(head_dim, eps=cfg.norm_eps) for _ in range(3))
        self.in_size = in_size
        self.q_size, self.k_size = _out_size(in_size, stride_q), _out_size(in_size, stride_kv)
        for axis, name in enumerate("thw"):
            q, k = self.q_size[axis], self.k_size[axis]
            self.register_parameter(f"rel_pos_{name}", nn.Parameter(torch.zeros(2 * max(q, k) - 1, head_dim)))
            self.register_buffer(f"rel_index_{name}", rel_pos_index(q, k), persistent=False)
        for name in "thw":
            nn.init.trunc_normal_(getattr(self, f"rel_pos_{name}"), std=0.02)

    def _rel_pos_bias(self, q: torch.Tensor) -> torch.Tensor:
        """Decomposed relative-position logits ``[B, heads, Nq, Nk]`` over the grid tokens (cls row/col zero)."""
        b, heads, _, c = q.shape
        (qt, qh, qw), (kt, kh, kw) = self.q_size, self.k_size
        r_q = q[:, :, 1:].reshape(b, heads, qt, qh, qw, c)
        rel_t = torch.einsum("bythwc,tkc->bythwk", r_q, self.rel_pos_t[self.rel_index_t])
        rel_h = torch.einsum("bythwc,hkc->bythwk", r_q, self.rel_pos_h[self.rel_index_h])
        rel_w = torch.einsum("bythwc,wkc->bythwk", r_q, self.rel_pos_w[self.rel_index_w])
        bias = (rel_t[..., :, None, None] + rel_h[..., None, :, None] + rel_w[..., None, None, :])
        bias = bias.reshape(b, heads, qt * qh * qw, kt * kh * kw)
        return F.pad(bias, (1, 0, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        q, _ = pool_tokens(q, self.pool_q, self.in_size, self.norm_q)
        k, _ = pool_tokens(k, self.pool_k, self.in_size, self.norm_k)
        v, _ = pool_tokens(v, self.pool_v, self.in_size, self.norm_v)
        attn = (q * self.scale) @ k.transpose(-2, -1) + self._rel_pos_bias(q)
        out = attn.softmax(dim=-1) @ v
        out = out + F.pad(q[:, :, 1:], (0, 0, 1, 0))  # residual pooling, not on the cls token
        return self.proj(out.transpose(1, 2).reshape(b, -1, self.out_dim))


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class MultiScaleBlock(nn.Module):
    def __init__(self, cfg: MViTConfig, in_dim: int, out_dim: int, heads: int,
                 stride_q: Triple, stride_kv: Triple, in_size: Triple, drop_path: float) -> None:
        super().__init__()
        self.in_size = in_size
        self.norm1 = nn.LayerNorm(in_dim, eps=cfg.norm_eps)
        self.attn = MultiScaleAttention(cfg, in_dim, out_dim, heads, stride_q, stride_kv, in_size)
        self.out_size = self.attn.q_size
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(out_dim, eps=cfg.norm_eps)
        self.mlp = MLP(out_dim, int(out_dim * cfg.mlp_ratio), out_dim)
        self.proj = nn.Linear(in_dim, out_dim) if in_dim != out_dim else None
        if any(s > 1 for s in stride_q):
            kernel = tuple(s + 1 if s > 1 else s for s in stride_q)
            self.pool_skip = nn.MaxPool3d(kernel, stride_q, tuple(k // 2 for k in kernel))
        else:
            self.pool_skip = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_norm = self.norm1(x)
        skip = self.proj(x_norm) if self.proj is not None else x
        if self.pool_skip is not None:
            skip, _ = pool_tokens(skip.unsqueeze(1), self.pool_skip, self.in_size)
            skip = skip.squeeze(1)
        x = skip + self.drop_path(self.attn(x_norm))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchEmbed3D(nn.Module):
    def __init__(self, cfg: MViTConfig) -> None:
        super().__init__()
        self.projection = nn.Conv3d(3, cfg.embed_dim, cfg.patch_kernel, cfg.patch_stride, cfg.patch_padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x)


class MViT(nn.Module):
    """``[B, 3, T, H, W]`` (normalised) → four scales ``[B, 96·2^i, T/2, H/2^(i+2), W/2^(i+2)]``, finest first."""

    def __init__(self, cfg: MViTConfig, clip: Triple) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed3D(cfg)
        self.grid = tuple(n // s for n, s in zip(clip, cfg.patch_stride))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim))
        self.blocks = nn.ModuleList()
        dim, heads, stride_kv, size = cfg.embed_dim, cfg.num_heads, cfg.kv_stride, self.grid
        self.stage_sizes: list[Triple] = []
        for i in range(cfg.depth):
            stride_q: Triple = (1, 1, 1)
            out_dim = dim
            if i in cfg.downscale_blocks:
                heads, stride_q, out_dim = heads * 2, (1, 2, 2), dim * 2
                stride_kv = tuple(max(s // 2, 1) for s in stride_kv)
            drop = cfg.drop_path * i / max(cfg.depth - 1, 1)
            block = MultiScaleBlock(cfg, dim, out_dim, heads, stride_q, stride_kv, size, drop)
            self.blocks.append(block)
            dim, size = out_dim, block.out_size
            if i in cfg.stage_ends:
                self.add_module(f"norm{cfg.stage_ends.index(i)}", nn.LayerNorm(dim, eps=cfg.norm_eps))
                self.stage_sizes.append(size)
        self._init_weights()

    def _init_weights(self) -> None:
        # mmaction2's init: truncated normal 0.02 for linears/convs, linear biases 0.02, LayerNorm (1, 0.02).
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv3d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if isinstance(m, nn.Linear):
                    nn.init.constant_(m.bias, 0.02)
            elif isinstance(m, nn.LayerNorm):
                nn.init.constant_(m.weight, 1.0)
                nn.init.constant_(m.bias, 0.02)

    def forward(self, clip: torch.Tensor) -> list[torch.Tensor]:
        x = self.patch_embed(clip)
        b, c = x.shape[:2]
        x = torch.cat((self.cls_token.expand(b, -1, -1), x.flatten(2).transpose(1, 2)), dim=1)
        outs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.cfg.stage_ends:
                scale = self.cfg.stage_ends.index(i)
                tokens = getattr(self, f"norm{scale}")(x)[:, 1:]
                outs.append(tokens.transpose(1, 2).reshape(b, tokens.shape[-1], *self.stage_sizes[scale]))
        return outs
