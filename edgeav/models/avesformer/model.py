"""AVESFormer (ICLR 2025 submission, "AVESFormer: Efficient Transformer Design for Real-Time AVS").

No code was released (``MarkXCloud/AVESFormer`` holds a README); this follows the paper
(``shared/papers/001``) and its stated ancestor AVSegFormer (``shared/design/models.md`` §2, §3).

Data flow for one frame and its second of audio (T = 1, the paper's real-time setting)::

    PCM [B,16000] ─ in-graph VGGish log-mel (first 0.96 s → 96×64) ─ VGGish (frozen) ─ audio_proj ─► F_audio [B,1,D]
    RGB [B,3,H,W] ─ ImageNet normalisation ─ ResNet-18/50 ─► C1..C4 (strides 4/8/16/32)
    head.in_proj: 1×1 conv + GroupNorm(32) to D on every level
    Prompt Query Generator: [F_audio ; Q_learn(16)] ─ 3 × {self-attention, FFN} ─ drop the audio token ─► F_gen [B,16,D]
    Early-Focus decoder over the stride-8/16/32 tokens (+ sine position + level embedding), stages C-T-T:
        C: F = LN(F + SepConv(F)) (pw 1×1 → GELU → depthwise 7×7 per level → pw 1×1), then LN(F + FFN(F))
        T: F = LN(F + MSDeformAttn(F + pos, F)); F = LN(F + CrossAttn(F, F_gen, F_gen)); F = LN(F + FFN(F))
    mask head (AVSegFormer's): M = out_conv(lateral_conv(C1') + up(F at stride 8));
        logits = fc(M + mlp(F_gen · M)), fc = 3×3 conv → ×4 bilinear → 3×3 conv → ReLU → 1×1 conv

Choices where the paper is silent (documented so the numbers can be traced):
- PQG layers are AVSegFormer's query-generator layers without their cross-attention: post-norm
  self-attention (8 heads) and a GELU FFN of width 1024, dropout 0.1.
- A "T" stage is an AVSegFormer encoder layer (MSDeformAttn, 3 levels, 8 heads, 4 points, FFN 2048)
  with the paper's cross-attention to F_gen (eq. 7) inserted before the FFN; the "C" stage replaces both
  attention blocks with a ConvFormer-style separable conv (Yu et al. 2024, expansion 2, 7×7) and keeps
  the FFN, each with a residual and a post-LayerNorm (eq. 6).
- The decoder's cross-attention is the audio-visual fusion (Table 5 picks it over AVSegFormer's channel
  mixer), so the mask head has no CrossModalMixer.
- Loss (S4/MS3): 1.8·BCE + 1.0·Dice on the mask logits + 0.1·Dice of the channel-mean mask feature
  (AVSegFormer's "mix" loss), all on the annotated frame.
- Parameters: 96.1 M at paper size (VGGish 72.14 + ResNet-18 11.18 + head 12.75) against the paper's 108 M.
  AVSegFormer's B2_ResNet carries an unused second copy of layer3/layer4 (10.5 M for ResNet-18, counted in
  its 151 M); with it this model would have 106.6 M, so the paper most likely counts that dead branch.
  It never runs, so it is not built here.

Attention is written with explicit linears, ``bmm`` and a last-axis softmax (``layers/attention.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.audio import LogMelFrontEnd
from edgeav.models.avesformer.configs import AVESFORMER_R18, AVESFormerConfig
from edgeav.models.backbones.resnet import ResNet
from edgeav.models.backbones.vggish import VGGish
from edgeav.models.layers.attention import FeedForward, MultiHeadAttention
from edgeav.models.layers.deformable import MSDeformSelfAttention
from edgeav.models.layers.io import ImageNetNormalize
from edgeav.models.layers.pos_embed import level_onehot, sine_position_embedding
from edgeav.models.layers.tokens import LevelShapes, level_shapes_of, maps_to_tokens, tokens_to_maps
from edgeav.models.segmentation import AVSegmentationModel


def _stage_size(size: int, stride: int) -> int:
    """ResNet output size at ``stride``: every stride-2 layer (7×7/p3, 3×3/p1, max-pool 3/p1) is ceil(x/2)."""
    while stride > 1:
        size, stride = (size + 1) // 2, stride // 2
    return size


def decoder_level_shapes(image_size: int) -> LevelShapes:
    return tuple((_stage_size(image_size, s),) * 2 for s in (8, 16, 32))


class PromptQueryGenerator(nn.Module):
    """PQG (§4.1): the audio token is prepended to learnable queries, self-attention mixes them, and only
    the queries leave (eq. 5). No cross-attention, so no attention dissipation."""

    def __init__(self, cfg: AVESFormerConfig) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.randn(1, cfg.num_queries, cfg.dim))
        self.attn = nn.ModuleList(MultiHeadAttention(cfg.dim, cfg.heads, cfg.dropout) for _ in range(cfg.pqg_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(cfg.dim) for _ in range(cfg.pqg_layers))
        self.ffns = nn.ModuleList(FeedForward(cfg.dim, cfg.pqg_ffn_dim, cfg.dropout) for _ in range(cfg.pqg_layers))
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, D] → generated queries [B, Nq, D]."""
        queries = self.queries
        if audio.shape[0] != 1:  # static under export; a batch-1 graph then has no (portable) expand
            queries = queries.expand(audio.shape[0], -1, -1)
        x = torch.cat([audio, queries], dim=1)
        for attn, norm, ffn in zip(self.attn, self.norms, self.ffns):
            x = ffn(norm(x + self.dropout(attn(x, x, x))))
        return x[:, 1:]


class SeparableConv(nn.Module):
    """ConvFormer's SepConv on multi-scale tokens: pointwise expand, GELU, depthwise k×k on each level's
    map (weights shared across levels), pointwise project."""

    def __init__(self, dim: int, expansion: int, kernel: int, levels: int) -> None:
        super().__init__()
        hidden = dim * expansion
        self.levels = levels
        self.pwconv1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, kernel, padding=kernel // 2, groups=hidden)
        self.pwconv2 = nn.Linear(hidden, dim)

    def level_convs(self) -> list[nn.Module]:
        return [self.dwconv] * self.levels

    def forward(self, tokens: torch.Tensor, level_shapes: LevelShapes) -> torch.Tensor:
        maps = tokens_to_maps(F.gelu(self.pwconv1(tokens)), level_shapes)
        return self.pwconv2(maps_to_tokens([conv(m) for conv, m in zip(self.level_convs(), maps)]))


class ConvStage(nn.Module):
    """ELF "C" stage (eq. 6): F = LN(F + Conv(F)), then the FFN."""

    def __init__(self, cfg: AVESFormerConfig, level_shapes: LevelShapes) -> None:
        super().__init__()
        self.conv = SeparableConv(cfg.dim, cfg.conv_expansion, cfg.conv_kernel, len(level_shapes))
        self.norm = nn.LayerNorm(cfg.dim)
        self.ffn = FeedForward(cfg.dim, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, level_shapes: LevelShapes, prompts: torch.Tensor) -> torch.Tensor:
        return self.ffn(self.norm(x + self.dropout(self.conv(x, level_shapes))))


class AttentionStage(nn.Module):
    """ELF "T" stage: deformable self-attention over the visual tokens, cross-attention to F_gen (eq. 7), FFN."""

    def __init__(self, cfg: AVESFormerConfig, level_shapes: LevelShapes) -> None:
        super().__init__()
        self.self_attn = MSDeformSelfAttention(cfg.dim, len(level_shapes), cfg.heads, cfg.points, level_shapes)
        self.norm1 = nn.LayerNorm(cfg.dim)
        self.cross_attn = MultiHeadAttention(cfg.dim, cfg.heads, cfg.dropout)
        self.norm2 = nn.LayerNorm(cfg.dim)
        self.ffn = FeedForward(cfg.dim, cfg.ffn_dim, cfg.dropout)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, level_shapes: LevelShapes, prompts: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.dropout(self.self_attn(x + pos, x, level_shapes)))
        x = self.norm2(x + self.dropout(self.cross_attn(x, prompts, prompts)))
        return self.ffn(x)


STAGES = {"conv": ConvStage, "attn": AttentionStage}


class AVESFormerHead(nn.Module):
    """Everything after the two backbones; parameter names follow AVSegFormer's ``head`` where shared."""

    def __init__(self, cfg: AVESFormerConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.level_shapes = decoder_level_shapes(cfg.image_size)

        def proj(c: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c, d, 1), nn.GroupNorm(cfg.norm_groups, d))

        self.in_proj = nn.ModuleList(proj(c) for c in cfg.visual.pyramid_channels)
        self.level_embed = nn.Parameter(torch.randn(len(self.level_shapes), d))
        self.register_buffer("pos_embed", sine_position_embedding(self.level_shapes, d), persistent=False)
        self.register_buffer("level_onehot", level_onehot(self.level_shapes), persistent=False)
        self.query_generator = PromptQueryGenerator(cfg)
        self.stages = nn.ModuleList(STAGES[kind](cfg, self.level_shapes) for kind in cfg.stages)
        self.lateral_conv = proj(d)
        self.out_conv = nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.GroupNorm(cfg.norm_groups, d), nn.ReLU())
        mlp = [cfg.num_queries, cfg.mask_hidden, cfg.mask_hidden, d]
        self.mlp = nn.ModuleList(nn.Conv2d(a, b, 1) for a, b in pairwise(mlp))
        self.fc = nn.Sequential(
            nn.Conv2d(d, 128, 3, padding=1), nn.Upsample(scale_factor=4.0, mode="bilinear", align_corners=False),
            nn.Conv2d(128, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, cfg.num_classes, 1, bias=False),
        )
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # AVSegFormer's head init: Xavier for every matrix, Deformable-DETR's for MSDeformAttn.
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MSDeformSelfAttention):
                m.reset_parameters()
        nn.init.normal_(self.level_embed)

    def position(self, level_shapes: LevelShapes) -> torch.Tensor:
        """Sine position + level embedding [N, D] (broadcast over the batch); the buffer at the configured
        size (a one-hot matmul, not indexing, so the exported graph has no gather), computed for any other."""
        if level_shapes == self.level_shapes:
            pos, onehot = self.pos_embed, self.level_onehot
        else:
            pos = sine_position_embedding(level_shapes, self.level_embed.shape[1]).to(self.level_embed)
            onehot = level_onehot(level_shapes).to(self.level_embed)
        return pos + torch.mm(onehot, self.level_embed)

    def forward(self, feats: list[torch.Tensor], audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Backbone maps C1..C4 and the projected audio [B, 1, D] → (mask logits at stride 1, mask feature)."""
        projected = [p(f) for p, f in zip(self.in_proj, feats)]
        maps = projected[1:]
        shapes = level_shapes_of(maps)
        pos = self.position(shapes)
        prompts = self.query_generator(audio)
        tokens = maps_to_tokens(maps)
        for stage in self.stages:
            tokens = stage(tokens, pos, shapes, prompts)
        fine = self.lateral_conv(projected[0])
        coarse = tokens_to_maps(tokens, shapes)[0]
        mask_feature = self.out_conv(fine + F.interpolate(coarse, size=fine.shape[-2:], mode="bilinear", align_corners=False))
        b, c, h, w = mask_feature.shape
        x = torch.bmm(prompts, mask_feature.reshape(b, c, h * w)).reshape(b, -1, h, w)  # einsum bqc,bchw->bqhw
        for i, layer in enumerate(self.mlp):
            x = layer(x) if i == len(self.mlp) - 1 else F.relu(layer(x))
        return self.fc(mask_feature + x), mask_feature


@dataclass
class AVESFormerOutput:
    """Training-time outputs: mask logits at input size and the stride-4 mask feature (auxiliary loss)."""

    logits: torch.Tensor
    mask_feature: torch.Tensor


class AVESFormer(AVSegmentationModel):
    """AVESFormer: raw PCM + RGB frame → sounding-object mask."""

    def __init__(self, cfg: AVESFormerConfig = AVESFORMER_R18) -> None:
        super().__init__()
        self.cfg = cfg
        self.normalize = ImageNetNormalize()
        self.frontend = LogMelFrontEnd(cfg.logmel)
        self.vggish = VGGish(cfg.audio)
        self.audio_proj = nn.Linear(cfg.audio.embedding_dim, cfg.dim)
        self.backbone = ResNet(cfg.visual)
        self.head = AVESFormerHead(cfg)
        if cfg.freeze_audio:
            self.vggish.requires_grad_(False)

    def encode_audio(self, pcm: torch.Tensor) -> torch.Tensor:
        """PCM [B, samples] → F_audio [B, 1, D]."""
        emb = self.vggish(self.frontend(pcm))
        return self.audio_proj(emb).reshape(emb.shape[0], 1, -1)

    def forward_train(self, frames: torch.Tensor, pcm: torch.Tensor) -> AVESFormerOutput:
        feats = self.backbone(self.normalize(frames))
        logits, mask_feature = self.head(feats, self.encode_audio(pcm))
        if logits.shape[-2:] != frames.shape[-2:]:  # image sizes that are not multiples of 32
            logits = F.interpolate(logits, size=frames.shape[-2:], mode="bilinear", align_corners=False)
        return AVESFormerOutput(logits, mask_feature)
