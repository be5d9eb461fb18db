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

Attention is written with explicit linears, ``bmm`` and a last-axis softmax: ``nn.MultiheadAttention``
exports with masking ops that XNNPACK leaves on portable kernels (shared/design/backends.md §1c).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.audio import VGGISH_LOGMEL, LogMelConfig, LogMelFrontEnd
from edgeav.models.deformable_attention import (
    LevelShapes,
    MSDeformSelfAttention,
    level_shapes_of,
)
from edgeav.models.layers import ImageNetNormalize, mask_probabilities
from edgeav.models.resnet import RESNET18, RESNET50, ResNet, ResNetConfig
from edgeav.models.vggish import VGGISH, VGGISH_SMALL, VGGish, VGGishConfig
from edgeav.registry import ModelEntry, PaperFigures, register
from edgeav.specs import IOSpec

STAGE_KINDS = ("conv", "attn")


@dataclass(frozen=True)
class AVESFormerConfig:
    image_size: int = 224
    sample_rate: int = 16000
    samples_per_frame: int = 16000
    num_classes: int = 1
    visual: ResNetConfig = RESNET18
    audio: VGGishConfig = VGGISH
    logmel: LogMelConfig = VGGISH_LOGMEL
    dim: int = 256
    heads: int = 8
    points: int = 4  # deformable sampling points per head and level
    num_queries: int = 16
    pqg_layers: int = 3
    pqg_ffn_dim: int = 1024
    stages: tuple[str, ...] = ("conv", "attn", "attn")  # C-T-T, the paper's best (Table 7)
    ffn_dim: int = 2048
    conv_kernel: int = 7
    conv_expansion: int = 2
    mask_hidden: int = 2048
    norm_groups: int = 32
    dropout: float = 0.1
    iou_weight: float = 1.8  # λ_IoU (BCE) for S4/MS3
    dice_weight: float = 1.0
    aux_weight: float = 0.1
    freeze_audio: bool = True

    def __post_init__(self) -> None:
        bad = [s for s in self.stages if s not in STAGE_KINDS]
        if bad:
            raise ValueError(f"decoder stages {bad} unknown; use {STAGE_KINDS}")


AVESFORMER_R18 = AVESFormerConfig()
AVESFORMER_R50 = AVESFormerConfig(visual=RESNET50)
_SMALL = {"image_size": 64, "audio": VGGISH_SMALL, "dim": 32, "heads": 4, "num_queries": 4, "pqg_ffn_dim": 64,
          "ffn_dim": 64, "mask_hidden": 64, "norm_groups": 8, "dropout": 0.0}
AVESFORMER_SMALL = AVESFormerConfig(visual=ResNetConfig("basic", (1, 1, 1, 1), width=16), **_SMALL)
AVESFORMER_SMALL_R50 = AVESFormerConfig(visual=ResNetConfig("bottleneck", (1, 1, 1, 1), width=8), **_SMALL)


def _stage_size(size: int, stride: int) -> int:
    """ResNet output size at ``stride``: every stride-2 layer (7×7/p3, 3×3/p1, max-pool 3/p1) is ceil(x/2)."""
    while stride > 1:
        size, stride = (size + 1) // 2, stride // 2
    return size


def decoder_level_shapes(image_size: int) -> LevelShapes:
    return tuple((_stage_size(image_size, s),) * 2 for s in (8, 16, 32))


def sine_position_embedding(level_shapes: LevelShapes, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """DETR's sine embedding (unnormalised, y then x halves) of every token, levels concatenated: [N, dim]."""
    half = dim // 2
    freqs = temperature ** (2 * (torch.arange(half) // 2) / half)
    out = []
    for h, w in level_shapes:
        y = torch.arange(1, h + 1, dtype=torch.float32)[:, None].expand(h, w).reshape(-1, 1) / freqs
        x = torch.arange(1, w + 1, dtype=torch.float32)[None, :].expand(h, w).reshape(-1, 1) / freqs

        def interleave(t: torch.Tensor) -> torch.Tensor:
            return torch.stack((t[:, 0::2].sin(), t[:, 1::2].cos()), dim=2).reshape(t.shape[0], -1)

        out.append(torch.cat((interleave(y), interleave(x)), dim=1))
    return torch.cat(out, dim=0)


def maps_to_tokens(maps: list[torch.Tensor]) -> torch.Tensor:
    """[B, C, h, w] per level → [B, Σhw, C], levels in order, rows major."""
    return torch.cat([m.flatten(2).transpose(1, 2) for m in maps], dim=1)


def tokens_to_maps(tokens: torch.Tensor, level_shapes: LevelShapes) -> list[torch.Tensor]:
    maps, start = [], 0
    for h, w in level_shapes:
        chunk = tokens[:, start:start + h * w]
        maps.append(chunk.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], h, w))
        start += h * w
    return maps


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention with separate q/k/v/out projections (no masks)."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, -1)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        b, n, c = query.shape
        q, k, v = self._split(self.q_proj(query) * self.scale), self._split(self.k_proj(key)), self._split(self.v_proj(value))
        attn = self.dropout(torch.bmm(q, k.transpose(1, 2)).softmax(-1))
        out = torch.bmm(attn, v).reshape(b, self.heads, n, -1).permute(0, 2, 1, 3).reshape(b, n, c)
        return self.out_proj(out)


class FeedForward(nn.Module):
    """x = LN(x + W2·drop(GELU(W1·x)))."""

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dropout(self.linear2(self.dropout(F.gelu(self.linear1(x))))))


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


class SeparableConvPerLevel(SeparableConv):
    """:class:`SeparableConv` with its depthwise weights copied once per level (same values, same outputs).

    For int8 on XNNPACK: one quantized depthwise weight feeding several convolutions fails to compile
    (``Failed to create depthwise convolution node … xnn_status_invalid_parameter`` at load time), while the
    same convolutions with their own weights compile. Costs (levels − 1) × hidden × k² parameters.
    """

    def __init__(self, shared: SeparableConv) -> None:
        nn.Module.__init__(self)
        self.levels = shared.levels
        self.pwconv1, self.pwconv2 = shared.pwconv1, shared.pwconv2
        self.dwconvs = nn.ModuleList(copy.deepcopy(shared.dwconv) for _ in range(shared.levels))

    def level_convs(self) -> list[nn.Module]:
        return list(self.dwconvs)


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
        self.register_buffer("level_onehot", _level_onehot(self.level_shapes), persistent=False)
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
            onehot = _level_onehot(level_shapes).to(self.level_embed)
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


def _level_onehot(level_shapes: LevelShapes) -> torch.Tensor:
    ids = torch.cat([torch.full((h * w,), i) for i, (h, w) in enumerate(level_shapes)])
    return F.one_hot(ids, len(level_shapes)).float()


@dataclass
class AVESFormerOutput:
    """Training-time outputs: mask logits at input size and the stride-4 mask feature (auxiliary loss)."""

    logits: torch.Tensor
    mask_feature: torch.Tensor


class AVESFormer(nn.Module):
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

    def forward(self, frames: torch.Tensor, pcm: torch.Tensor) -> torch.Tensor:
        """The deployable graph: probabilities [B, classes, H, W] (sigmoid if binary, softmax otherwise)."""
        return mask_probabilities(self.forward_train(frames, pcm).logits)


# --------------------------------------------------------------------------------------------- registry
def avesformer_io_spec(cfg: AVESFormerConfig) -> IOSpec:
    from edgeav.models.lightavseg import lightavseg_io_spec

    return lightavseg_io_spec(cfg)  # same contract: one frame + its second of PCM → mask


def avesformer_samples(cfg: AVESFormerConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Realistic inputs: one frame and its second of audio from ``n`` synthetic S4-like scenes."""
    from edgeav.data.synthetic import SceneConfig, SyntheticAVScenes

    scenes = SyntheticAVScenes(
        SceneConfig(kind="s4", image_size=cfg.image_size, sample_rate=cfg.sample_rate,
                    seconds_per_frame=cfg.samples_per_frame / cfg.sample_rate),
        num_scenes=n, seed=seed,
    )
    return [(scenes[i].frames[:1].contiguous().float(), scenes[i].audio[:1].contiguous().float()) for i in range(n)]


def _entry(name: str, visual: str, configs: dict, params_m: float, table: str) -> ModelEntry:
    return ModelEntry(
        name=name,
        task="segmentation",
        metric="mIoU",
        summary=f"{visual} + VGGish, prompt query generator, early-focus C-T-T deformable decoder (AVESFormer)",
        builder=AVESFormer,
        configs=configs,
        io_spec=avesformer_io_spec,
        samples=avesformer_samples,
        paper=PaperFigures(params_m=params_m, source=f"AVESFormer Table 3 ({table}, VGGish included); no FLOPs reported"),
    )


register(_entry("avesformer-r18", "ResNet-18", {"paper": AVESFORMER_R18, "small": AVESFORMER_SMALL}, 108.0, "ResNet-18 row"))
register(_entry("avesformer-r50", "ResNet-50", {"paper": AVESFORMER_R50, "small": AVESFORMER_SMALL_R50}, 127.0, "ResNet-50 row"))
