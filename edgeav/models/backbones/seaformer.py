"""SeaFormer (squeeze-enhanced axial transformer) as a segmentation feature pyramid.

Follows the structure of ``fudan-zvg/SeaFormer`` (seg backbone): stacked MobileNetV2 blocks ``smb1..5``
and Sea-attention transformer stages ``trans1..n`` after the last n MV2 stages (n = 3 for Large, 2 for
Tiny/Small/Base). Parameter names match the upstream checkpoints, so loading them is a matter of
stripping prefixes (see :func:`seaformer_state_dict_from_upstream`).

The pyramid is what the upstream seg backbone returns: the 1/8 shared feature (smb2) and each transformer
stage's output. Large at 224²: 128@28², 192@14², 256@7², 320@4² (strides 8/16/32/64); Tiny/Small/Base have
no 1/16 output (smb3 feeds smb4 directly): strides 8/32/64.

Export notes: the axial positional embeddings are resized to the feature length with a fixed linear
interpolation matrix (a constant matmul) instead of ``F.interpolate`` on a parameter, which is the same
arithmetic but lowers everywhere.

The backbone exposes its pyramid stage by stage (:meth:`SeaFormer.stage`) so that a caller can modify a
stage's output before the next stage consumes it (LightAVSeg injects audio there).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.layers.conv import (
    ConvBN,
    DropPath,
    HSigmoid,
    init_conv_fan_out,
    make_divisible,
    mean_over_height,
    mean_over_width,
)

BlockCfg = tuple[int, int, int, int]  # (kernel, expansion, out channels, stride)


@dataclass(frozen=True)
class SeaFormerConfig:
    """A SeaFormer variant. ``smb`` holds the MV2 stage rows; the transformers follow the last stages."""

    smb: tuple[tuple[BlockCfg, ...], ...]
    channels: tuple[int, ...]
    emb_dims: tuple[int, ...]
    key_dims: tuple[int, ...]
    depths: tuple[int, ...]
    mlp_ratios: tuple[int, ...]
    num_heads: int = 8
    attn_ratio: int = 2
    drop_path_rate: float = 0.1

    @property
    def pyramid_channels(self) -> tuple[int, ...]:
        """Channels of the four pyramid outputs (1/8 shared feature + one per transformer stage)."""
        return (self.smb[1][-1][2],) + tuple(self.emb_dims)


SEAFORMER_L = SeaFormerConfig(
    smb=(
        ((3, 3, 32, 1), (3, 4, 64, 2), (3, 4, 64, 1)),
        ((5, 4, 128, 2), (5, 4, 128, 1)),
        ((3, 4, 192, 2), (3, 4, 192, 1)),
        ((5, 4, 256, 2),),
        ((3, 6, 320, 2),),
    ),
    channels=(32, 64, 128, 192, 256, 320),
    emb_dims=(192, 256, 320),
    key_dims=(16, 20, 24),
    depths=(3, 3, 3),
    mlp_ratios=(2, 4, 6),
    num_heads=8,
)

SEAFORMER_T = SeaFormerConfig(
    smb=(
        ((3, 1, 16, 1), (3, 4, 16, 2), (3, 3, 16, 1)),
        ((5, 3, 32, 2), (5, 3, 32, 1)),
        ((3, 3, 64, 2), (3, 3, 64, 1)),
        ((5, 3, 128, 2),),
        ((3, 6, 160, 2),),
    ),
    channels=(16, 16, 32, 64, 128, 160),
    emb_dims=(64, 128, 160),
    key_dims=(16, 16, 24),
    depths=(1, 1, 1),
    mlp_ratios=(2, 2, 4),
    num_heads=4,
    drop_path_rate=0.0,
)
"""A tiny three-transformer variant for fast tests (not an upstream config)."""

class InvertedResidual(nn.Module):
    """MobileNetV2 block with SeaFormer's layer layout (``conv.{n}`` children)."""

    def __init__(self, inp: int, oup: int, kernel: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_residual = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += [ConvBN(inp, hidden, 1), nn.ReLU()]
        layers += [
            ConvBN(hidden, hidden, kernel, stride, kernel // 2, groups=hidden),
            nn.ReLU(),
            ConvBN(hidden, oup, 1),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class StackedMV2Block(nn.Module):
    """One ``smb`` stage: optional stem, then ``layer1..n`` inverted residuals."""

    def __init__(self, rows: tuple[BlockCfg, ...], in_ch: int, stem: bool) -> None:
        super().__init__()
        self.stem = stem
        if stem:
            self.stem_block = nn.Sequential(ConvBN(3, in_ch, 3, 2, 1), nn.ReLU())
        self.layer_names: list[str] = []
        for i, (k, t, c, s) in enumerate(rows):
            out_ch = make_divisible(c)
            name = f"layer{i + 1}"
            self.add_module(name, InvertedResidual(in_ch, out_ch, k, s, t))
            self.layer_names.append(name)
            in_ch = out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stem:
            x = self.stem_block(x)
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x


@lru_cache(maxsize=64)
def _linear_resize_weight(src: int, dst: int) -> torch.Tensor:
    """[dst, src] weight W with ``F.linear(v, W) == F.interpolate(v, dst, mode='linear', align_corners=False)``.

    In F.linear form because a fully-connected op is delegated to XNNPACK and a broadcast matmul is not.
    """
    eye = torch.eye(src).unsqueeze(0)  # each row is one basis vector, interpolated independently
    return F.interpolate(eye, size=dst, mode="linear", align_corners=False)[0].t().contiguous()


class SqueezeAxialPositionalEmbedding(nn.Module):
    """Learnable 1-D positional embedding of length 16, resized linearly to the axis length.

    When the axis length is known at build time the resize matrix is a (non-persistent) buffer, so the
    exported graph holds it as a buffer rather than a lifted constant (ExecuTorch 1.5 fails on lifted
    constants consumed inside a delegate). Other lengths (e.g. training at another size) build the
    matrix on the fly.
    """

    def __init__(self, dim: int, length: int = 16, axis_length: int | None = None) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.randn(1, dim, length))
        if axis_length is not None and axis_length != length:
            self.register_buffer("resize", _linear_resize_weight(length, axis_length).clone(), persistent=False)
        else:
            self.resize = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if n == self.pos_embed.shape[-1]:
            return x + self.pos_embed
        if self.resize is not None and self.resize.shape[0] == n:
            resize = self.resize
        else:
            resize = _linear_resize_weight(self.pos_embed.shape[-1], n).to(x.device, x.dtype)
        return x + F.linear(self.pos_embed, resize)


class SeaAttention(nn.Module):
    """Squeeze-enhanced axial attention: row and column attention on pooled axes, gated by a detail branch."""

    def __init__(
        self, dim: int, key_dim: int, num_heads: int, attn_ratio: int, resolution: tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        rows, cols = resolution or (None, None)
        self.num_heads = num_heads
        self.scale = key_dim**-0.5
        nh_kd = key_dim * num_heads
        self.dh = attn_ratio * key_dim * num_heads
        self.to_q = ConvBN(dim, nh_kd)
        self.to_k = ConvBN(dim, nh_kd)
        self.to_v = ConvBN(dim, self.dh)
        self.proj = nn.Sequential(nn.ReLU6(), ConvBN(self.dh, dim, bn_weight_init=0.0))
        self.proj_encode_row = nn.Sequential(nn.ReLU6(), ConvBN(self.dh, self.dh, bn_weight_init=0.0))
        self.pos_emb_rowq = SqueezeAxialPositionalEmbedding(nh_kd, axis_length=rows)
        self.pos_emb_rowk = SqueezeAxialPositionalEmbedding(nh_kd, axis_length=rows)
        self.proj_encode_column = nn.Sequential(nn.ReLU6(), ConvBN(self.dh, self.dh, bn_weight_init=0.0))
        self.pos_emb_columnq = SqueezeAxialPositionalEmbedding(nh_kd, axis_length=cols)
        self.pos_emb_columnk = SqueezeAxialPositionalEmbedding(nh_kd, axis_length=cols)
        detail_ch = 2 * nh_kd + self.dh
        self.dwconv = ConvBN(detail_ch, detail_ch, 3, 1, 1, groups=detail_ch)
        self.act = nn.ReLU6()
        self.pwconv = ConvBN(detail_ch, dim)
        self.gate = HSigmoid()

    def _axial(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Attention along one squeezed axis; q, k: [B, nh_kd, N], v: [B, dh, N] → [B, dh, N].

        Heads are folded into the batch for ``bmm``: a 4-D ``matmul`` decomposes into expand + bmm, and
        the expands fall off XNNPACK.
        """
        b, _, n = q.shape
        bh = b * self.num_heads
        q = q.reshape(bh, -1, n).transpose(1, 2)
        k = k.reshape(bh, -1, n)
        v = v.reshape(bh, -1, n).transpose(1, 2)
        attn = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)
        return torch.bmm(attn, v).transpose(1, 2).reshape(b, self.dh, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
        detail = self.pwconv(self.act(self.dwconv(torch.cat([q, k, v], dim=1))))

        def rows(t: torch.Tensor) -> torch.Tensor:  # squeeze W: [B, C, H]
            return mean_over_width(t).reshape(b, -1, h)

        def cols(t: torch.Tensor) -> torch.Tensor:  # squeeze H: [B, C, W]
            return mean_over_height(t).reshape(b, -1, w)

        row = self._axial(self.pos_emb_rowq(rows(q)), self.pos_emb_rowk(rows(k)), rows(v))
        col = self._axial(self.pos_emb_columnq(cols(q)), self.pos_emb_columnk(cols(k)), cols(v))
        row = self.proj_encode_row(row.reshape(b, self.dh, h, 1))
        col = self.proj_encode_column(col.reshape(b, self.dh, 1, w))
        xx = self.proj(v + row + col)
        return self.gate(xx) * detail


class Mlp(nn.Module):
    """Conv-BN → depthwise 3×3 → ReLU6 → Conv-BN."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = ConvBN(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=True)
        self.act = nn.ReLU6()
        self.fc2 = ConvBN(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.dwconv(self.fc1(x))))


class SeaBlock(nn.Module):
    def __init__(
        self,
        dim: int,
        key_dim: int,
        num_heads: int,
        mlp_ratio: int,
        attn_ratio: int,
        drop_path: float,
        resolution: tuple[int, int] | None = None,
    ):
        super().__init__()
        self.attn = SeaAttention(dim, key_dim, num_heads, attn_ratio, resolution)
        self.mlp = Mlp(dim, dim * mlp_ratio)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(x))
        return x + self.drop_path(self.mlp(x))


class SeaTransformerStage(nn.Module):
    def __init__(self, cfg: SeaFormerConfig, index: int, resolution: tuple[int, int] | None = None) -> None:
        super().__init__()
        depth = cfg.depths[index]
        rates = torch.linspace(0, cfg.drop_path_rate, depth).tolist() if depth > 1 else [0.0]
        self.transformer_blocks = nn.ModuleList(
            SeaBlock(cfg.emb_dims[index], cfg.key_dims[index], cfg.num_heads, cfg.mlp_ratios[index], cfg.attn_ratio, r, resolution)
            for r in rates
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.transformer_blocks:
            x = block(x)
        return x


def _stage_resolution(input_size: int, stride: int) -> int:
    """Feature size after ``log2(stride)`` stride-2 convs with 'same' padding: ceil at every halving."""
    size = input_size
    while stride > 1:
        size, stride = (size + 1) // 2, stride // 2
    return size


class SeaFormer(nn.Module):
    """The SeaFormer seg backbone as pyramid stages (Large: strides 8, 16, 32, 64; Tiny/Small/Base: 8, 32, 64).

    ``input_size`` (square images) lets the attention layers precompute their positional resizes; the
    backbone still runs at other sizes.
    """

    def __init__(self, cfg: SeaFormerConfig, input_size: int | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        num_smb, num_trans = len(cfg.smb), len(cfg.depths)
        if not 1 <= num_trans <= num_smb - 2:
            raise ValueError("SeaFormer expects transformers after some of the MV2 stages after the first two")
        for i, rows in enumerate(cfg.smb):
            self.add_module(f"smb{i + 1}", StackedMV2Block(rows, cfg.channels[i], stem=i == 0))
        first = num_smb - num_trans  # 0-based index of the MV2 stage trans1 follows
        for j in range(num_trans):
            # MV2 stage k (0-based, k >= 1) ends at stride 2^(k+2): stem and smb1 halve twice, then one per stage
            side = _stage_resolution(input_size, 2 ** (first + j + 2)) if input_size else None
            self.add_module(f"trans{j + 1}", SeaTransformerStage(cfg, j, (side, side) if side else None))
        # MV2 stages each pyramid stage runs before its transformer: stage 1 also runs the untransformed ones
        self._stage_smbs = [("smb1", "smb2")] + [
            tuple(f"smb{k + 1}" for k in range(2 if j == 0 else first + j, first + j + 1)) for j in range(num_trans)
        ]
        init_conv_fan_out(self)

    @property
    def num_stages(self) -> int:
        return 1 + len(self.cfg.depths)

    def stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Run pyramid stage ``index`` (0 → stride 8 from the image, i → up to and through the i-th transformer)."""
        for name in self._stage_smbs[index]:
            x = getattr(self, name)(x)
        return x if index == 0 else getattr(self, f"trans{index}")(x)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i in range(self.num_stages):
            x = self.stage(i, x)
            feats.append(x)
        return feats


def seaformer_state_dict_from_upstream(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map a SeaFormer checkpoint (cls or seg) onto :class:`SeaFormer` keys.

    Accepts the top-level containers ``state_dict_ema`` / ``state_dict`` / ``model``, strips the seg
    ``backbone.`` prefix and drops the classifier (``linear.*``) and seg decode-head keys.
    """
    for container in ("state_dict_ema", "state_dict", "model"):
        if container in state and isinstance(state[container], Mapping):
            state = state[container]
            break
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        key = key.removeprefix("backbone.")
        if key.startswith(("smb", "trans")):
            out[key] = value
    return out
