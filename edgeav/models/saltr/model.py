"""SalTR ("Learning Saliency From Fixations", WACV 2024; shared/papers/003): saliency as set prediction.

No code was released; the architecture is DETR's, which the paper follows (shared/design/models.md §6)::

    RGB [B,3,H,W] ─ ImageNet normalisation ─ ResNet-50 ─► C5 (stride 32, 2048 ch)
    input_proj 1×1 conv → d = 256; sine position embedding
    encoder: 6 × {post-norm self-attention (8 heads), FFN 2048}
    decoder: 100 learned fixation queries (query_embed), tgt = 0,
             6 × {self-attention, cross-attention to the encoder memory, FFN}, a shared final LayerNorm
    per query and decoder layer: class_embed Linear(d, 2) (fixation / no fixation),
                                 point_embed MLP(d, d, 2, 3 layers) + sigmoid → (x, y) in [0, 1]
    deployable outputs: the rendered map (render.py) and the N points with their probabilities

``attention="deformable"`` (Deformable SalTR) takes C3, C4, C5 and a stride-64 level made by a 3×3/2 conv
on C5 (each 1×1 or 3×3 conv + GroupNorm(32), Deformable-DETR's ``input_proj``), adds a learned level
embedding, and runs the project's multi-scale deformable self-attention in the encoder
(edgeav/models/layers/deformable.py; its matmul export form applies unchanged). The decoder's
cross-attention stays global over all the levels' tokens: Deformable-DETR's decoder samples around
per-query reference points, a module the project does not have (its deformable attention is
self-attention on a fixed token grid, which is what the export form needs).

Choices where the paper is silent (DETR's defaults, models.md §6): the FFN is the project's shared
block (GELU where DETR has ReLU), the sine embedding is the shared unnormalised one (DETR normalises
coordinates to 2π), dropout 0.1. Loss and matching: edgeav/models/matching.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.backbones.resnet import ResNet
from edgeav.models.layers.attention import FeedForward, MultiHeadAttention
from edgeav.models.layers.deformable import MSDeformSelfAttention
from edgeav.models.layers.io import ImageNetNormalize
from edgeav.models.layers.pos_embed import level_onehot, sine_position_embedding
from edgeav.models.layers.tokens import LevelShapes, level_shapes_of, maps_to_tokens
from edgeav.models.saltr.configs import SalTRConfig
from edgeav.models.saltr.render import GaussianFixationMap

DEFORMABLE_STRIDES = (8, 16, 32, 64)


def _downsampled(size: int, stride: int) -> int:
    """Feature size at ``stride``: every stride-2 op of the ResNet (and the extra 3×3/2 conv) is ceil(x/2)."""
    while stride > 1:
        size, stride = (size + 1) // 2, stride // 2
    return size


def token_level_shapes(cfg: SalTRConfig) -> LevelShapes:
    strides = (32,) if cfg.attention == "global" else DEFORMABLE_STRIDES
    return tuple((_downsampled(cfg.height, s), _downsampled(cfg.width, s)) for s in strides)


class InputProjection(nn.Module):
    """Backbone maps → d-channel maps: C5 by a 1×1 conv (DETR), or C3–C5 + a stride-64 level (Deformable-DETR)."""

    def __init__(self, cfg: SalTRConfig) -> None:
        super().__init__()
        channels = cfg.backbone.pyramid_channels
        self.global_only = cfg.attention == "global"
        if self.global_only:
            self.proj = nn.ModuleList([nn.Conv2d(channels[-1], cfg.dim, 1)])
            return
        layers = [nn.Sequential(nn.Conv2d(c, cfg.dim, 1), nn.GroupNorm(cfg.norm_groups, cfg.dim)) for c in channels[1:]]
        layers.append(nn.Sequential(nn.Conv2d(channels[-1], cfg.dim, 3, 2, 1), nn.GroupNorm(cfg.norm_groups, cfg.dim)))
        self.proj = nn.ModuleList(layers)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.global_only:
            return [self.proj[0](feats[-1])]
        maps = [p(f) for p, f in zip(self.proj, feats[1:])]
        return maps + [self.proj[-1](feats[-1])]


class GlobalEncoderLayer(nn.Module):
    """DETR encoder layer: x = LN(x + SelfAttn(x + pos, x + pos, x)); x = LN(x + FFN(x))."""

    def __init__(self, cfg: SalTRConfig, level_shapes: LevelShapes) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(cfg.dim, cfg.heads, cfg.dropout)
        self.norm1 = nn.LayerNorm(cfg.dim)
        self.ffn = FeedForward(cfg.dim, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, level_shapes: LevelShapes) -> torch.Tensor:
        q = x + pos
        return self.ffn(self.norm1(x + self.dropout(self.self_attn(q, q, x))))


class DeformableEncoderLayer(nn.Module):
    """Deformable-DETR encoder layer: x = LN(x + MSDeformAttn(x + pos, x)); x = LN(x + FFN(x))."""

    def __init__(self, cfg: SalTRConfig, level_shapes: LevelShapes) -> None:
        super().__init__()
        self.self_attn = MSDeformSelfAttention(cfg.dim, len(level_shapes), cfg.heads, cfg.points, level_shapes)
        self.norm1 = nn.LayerNorm(cfg.dim)
        self.ffn = FeedForward(cfg.dim, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, level_shapes: LevelShapes) -> torch.Tensor:
        return self.ffn(self.norm1(x + self.dropout(self.self_attn(x + pos, x, level_shapes))))


ENCODER_LAYERS = {"global": GlobalEncoderLayer, "deformable": DeformableEncoderLayer}


class DecoderLayer(nn.Module):
    """DETR decoder layer (post-norm): query self-attention, cross-attention to the memory, FFN."""

    def __init__(self, cfg: SalTRConfig) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(cfg.dim, cfg.heads, cfg.dropout)
        self.cross_attn = MultiHeadAttention(cfg.dim, cfg.heads, cfg.dropout)
        self.norm1, self.norm2 = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.ffn = FeedForward(cfg.dim, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, tgt: torch.Tensor, query_pos: torch.Tensor, memory: torch.Tensor, memory_key: torch.Tensor) -> torch.Tensor:
        q = tgt + query_pos
        tgt = self.norm1(tgt + self.dropout(self.self_attn(q, q, tgt)))
        tgt = self.norm2(tgt + self.dropout(self.cross_attn(tgt + query_pos, memory_key, memory)))
        return self.ffn(tgt)


class PointHead(nn.Module):
    """DETR's ``bbox_embed`` MLP with two outputs: d → d → d → 2, ReLU between, sigmoid after."""

    def __init__(self, dim: int, layers: int = 3) -> None:
        super().__init__()
        sizes = [dim] * layers + [2]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == len(self.layers) - 1 else F.relu(layer(x))
        return torch.sigmoid(x)


@dataclass
class SalTROutput:
    """Training outputs of every decoder layer, last layer last: logits [L, B, N, 2], points [L, B, N, 2];
    ``saliency`` [B, 1, H, W] is the last layer's rendered map (what a distilled student fits)."""

    logits: torch.Tensor
    points: torch.Tensor
    saliency: torch.Tensor

    @property
    def fixation_probability(self) -> torch.Tensor:
        """p(fixation) of the last layer's queries [B, N]."""
        return fixation_probability(self.logits[-1])[..., 0]


class SalTR(nn.Module):
    """SalTR: RGB image → (saliency map [B, 1, H, W], fixations [B, N, 3] as (x, y, p) with x, y in [0, 1])."""

    def __init__(self, cfg: SalTRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.normalize = ImageNetNormalize()
        self.backbone = ResNet(cfg.backbone)
        self.input_proj = InputProjection(cfg)
        self.level_shapes = token_level_shapes(cfg)
        self.level_embed = nn.Parameter(torch.zeros(len(self.level_shapes), d))
        self.register_buffer("pos_embed", sine_position_embedding(self.level_shapes, d), persistent=False)
        self.register_buffer("level_onehot", level_onehot(self.level_shapes), persistent=False)
        layer = ENCODER_LAYERS[cfg.attention]
        self.encoder = nn.ModuleList(layer(cfg, self.level_shapes) for _ in range(cfg.encoder_layers))
        self.query_embed = nn.Parameter(torch.randn(1, cfg.num_queries, d))
        # DETR's decoder input is zeros (the queries enter as positions): a buffer, not zeros_like in the graph.
        self.register_buffer("empty_queries", torch.zeros(1, cfg.num_queries, d), persistent=False)
        self.register_buffer("xy_to_row", torch.eye(3, 2), persistent=False)  # (x, y) → (x, y, 0)
        self.register_buffer("p_to_row", torch.tensor([[0.0], [0.0], [1.0]]), persistent=False)  # p → (0, 0, p)
        self.decoder = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.decoder_layers))
        self.decoder_norm = nn.LayerNorm(d)
        self.class_embed = nn.Linear(d, 2)
        self.point_embed = PointHead(d)
        self.render = GaussianFixationMap(cfg.height, cfg.width, *cfg.sigma_px)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # DETR's transformer init: Xavier for every matrix outside the backbone; MSDeformAttn keeps its own.
        for name, p in self.named_parameters():
            if p.dim() > 1 and not name.startswith("backbone."):
                nn.init.xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MSDeformSelfAttention):
                m.reset_parameters()
        nn.init.normal_(self.query_embed)
        if len(self.level_shapes) > 1:
            nn.init.normal_(self.level_embed)

    def position(self, level_shapes: LevelShapes) -> torch.Tensor:
        """Sine position (+ level embedding) [Ntok, d]: the buffers at the configured size, computed otherwise."""
        if level_shapes == self.level_shapes:
            pos, onehot = self.pos_embed, self.level_onehot
        else:
            pos = sine_position_embedding(level_shapes, self.cfg.dim).to(self.level_embed)
            onehot = level_onehot(level_shapes).to(self.level_embed)
        return pos + torch.mm(onehot, self.level_embed)  # a matmul, not a gather, in the exported graph

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """Image → encoder memory tokens [B, Ntok, d] (+ the positions they were encoded with)."""
        maps = self.input_proj(self.backbone(self.normalize(image)))
        shapes = level_shapes_of(maps)
        pos = self.position(shapes)
        x = maps_to_tokens(maps)
        for layer in self.encoder:
            x = layer(x, pos, shapes)
        return x, pos

    def decode(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Image → the normed query states after every decoder layer, each [B, N, d]."""
        memory, pos = self.encode(image)
        memory_key = memory + pos
        query_pos = self.query_embed if image.shape[0] == 1 else self.query_embed.expand(image.shape[0], -1, -1)
        tgt = self.empty_queries if image.shape[0] == 1 else self.empty_queries.expand(image.shape[0], -1, -1)
        hidden = []
        for layer in self.decoder:
            tgt = layer(tgt, query_pos, memory, memory_key)
            hidden.append(self.decoder_norm(tgt))
        return hidden

    def forward_train(self, image: torch.Tensor) -> SalTROutput:
        hidden = self.decode(image)
        h = torch.stack(hidden if self.cfg.aux_loss else hidden[-1:])
        logits, points = self.class_embed(h), self.point_embed(h)
        return SalTROutput(logits=logits, points=points, saliency=self.render(points[-1], fixation_probability(logits[-1])))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The deployable graph: (map [B, 1, H, W] in [0, 1], fixations [B, N, 3] = (x, y, p(fixation))).

        Only the last decoder layer's heads run (no stacked aux outputs, so no index ops in the graph)."""
        last = self.decode(image)[-1]
        points, prob = self.point_embed(last), fixation_probability(self.class_embed(last))
        # (x, y, p) as two exact linear maps summed: a last-axis cat of the graph's output stays on
        # ExecuTorch's portable kernels, FULLY_CONNECTED + ADD are delegated.
        fixations = F.linear(points, self.xy_to_row) + F.linear(prob, self.p_to_row)
        return self.render(points, prob), fixations


def fixation_probability(logits: torch.Tensor) -> torch.Tensor:
    """p(fixation) [..., 1] of (fixation, no fixation) logits [..., 2]: the 2-way softmax as a sigmoid of the
    difference (slices, not an index select, which XNNPACK does not take)."""
    return torch.sigmoid(logits[..., 0:1] - logits[..., 1:2])
