"""DTFSal configs as data: the paper's (32×224×384 clips), a tiny one for tests, and reduced clips by suffix.

``paper@TxHxW`` (e.g. ``paper@8x128x224``) is the paper architecture on a shorter, smaller clip, for CPU
training; :meth:`DTFSalConfig.at_size` parses the suffix. Every size the model accepts satisfies:
T ∈ {4, 8, 16, 32} (the patch embedding halves T, the feature enhancement halves it again and the decoder
collapses what is left to one map with stride-2 temporal convs, at most three of them), H and W multiples
of 32 (the deepest MViT scale is 1/32 and VGGish's four 2×2 pools must land on the same grid).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from edgeav.audio import VGGISH_LOGMEL, LogMelConfig
from edgeav.errors import UsageError
from edgeav.models.backbones.vggish import VGGISH, VGGishConfig

Triple = tuple[int, int, int]
SIZE_MULTIPLE = 32
FRAME_COUNTS = (4, 8, 16, 32)


@dataclass(frozen=True)
class MViTConfig:
    """MViTv2 (Li et al. 2022) in mmaction2's ``MViT`` parameterisation; defaults are ``arch='small'``."""

    embed_dim: int = 96
    depth: int = 16
    num_heads: int = 1
    downscale_blocks: tuple[int, ...] = (1, 3, 14)  # q-stride (1,2,2), dims ×2 and heads ×2 at these blocks
    kv_stride: Triple = (1, 8, 8)  # stride of the k/v pools in block 0, halved (down to 1) at each downscale
    pool_kernel: Triple = (3, 3, 3)
    mlp_ratio: float = 4.0
    patch_kernel: Triple = (3, 7, 7)
    patch_stride: Triple = (2, 4, 4)
    patch_padding: Triple = (1, 3, 3)
    norm_eps: float = 1e-6  # mmaction2's norm_cfg (the K400 checkpoint was trained with it)
    drop_path: float = 0.0

    @property
    def stage_dims(self) -> tuple[int, ...]:
        return tuple(self.embed_dim * 2**i for i in range(len(self.downscale_blocks) + 1))

    @property
    def stage_ends(self) -> tuple[int, ...]:
        """Index of the last block of each scale (mmaction2's ``stage_indices``)."""
        return tuple(b - 1 for b in self.downscale_blocks) + (self.depth - 1,)


MVIT_S = MViTConfig()
MVIT_TINY_TEST = MViTConfig(embed_dim=8, depth=4, num_heads=1, downscale_blocks=(1, 2, 3))


@dataclass(frozen=True)
class DTFSalConfig:
    """Every number of DTFSal; the fields marked *choice* are where the paper is silent (module docstrings say why)."""

    frames: int = 32
    height: int = 224
    width: int = 384
    sample_rate: int = 16000
    # In-graph normalisation of RGB in [0, 1]: mmaction2's K400 mean 114.75 / std 57.375 on 0-255.
    pixel_mean: float = 114.75 / 255.0
    pixel_std: float = 57.375 / 255.0
    visual: MViTConfig = MVIT_S
    # Audio (DiffSal's pipeline): 9 slices of 64 log-mel frames, 11 frames (110 ms) apart, each resized to (H/2, W/2).
    vggish: VGGishConfig = VGGISH
    audio_slices: int = 9
    slice_frames: int = 64
    slice_hop: int = 11
    logmel: LogMelConfig = VGGISH_LOGMEL  # num_frames is set from the slices (see `logmel_config`)
    audio_norm: bool = False  # choice: BatchNorm on the log-mel before VGGish (audio.py; on for training from scratch)
    freeze_audio: bool = False  # log-mel norm + VGGish trunk frozen (`edgeav train --audio-weights` turns it on)
    audio_embed_dim: int = 256  # choice: width of the temporal Transformer (DiffSal's AudioAttnNet ≈ 0.53 M at 256)
    audio_heads: int = 2
    audio_mlp: int = 256
    dim: int = 192  # C* of eq. 2
    lteb_tokens: int = 8  # choice: N learnable tokens per scale
    token_size: tuple[int, int] = (7, 12)  # choice: tokens live on the deepest grid (H/32 × W/32) and are interpolated
    dltfb_shift: int = 2  # choice: UNeXt-style shift by -2..2 over 5 channel groups
    amfb_scales: tuple[int, ...] = (2, 3)  # choice: scales (1 = stride 4 … 4 = stride 32) fused with audio
    amfb_local_kernel: Triple = (1, 3, 3)
    amfb_global_kernel: Triple = (1, 5, 5)
    amfb_audio_injection: str = "gate"  # choice: "gate" (per-pixel audio-visual correspondence) or "add" (fusion.py)
    amfb_gate_dim: int = 32  # choice: d of the gate's query/key
    decoder_dims: tuple[int, ...] = (96, 48, 24)

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise UsageError(f"DTFSal config: {problem}")

    @property
    def audio_dim(self) -> int:
        return int([v for v in self.vggish.features if v != "M"][-1])

    @property
    def logmel_frames(self) -> int:
        return self.slice_frames + (self.audio_slices - 1) * self.slice_hop

    @property
    def logmel_config(self) -> LogMelConfig:
        return dataclasses.replace(self.logmel, num_frames=self.logmel_frames)

    @property
    def audio_samples(self) -> int:
        """PCM samples the model reads: exactly the span of its log-mel frames (1.535 s at the paper's settings)."""
        return (self.logmel_frames - 1) * self.logmel.hop_length + self.logmel.win_length

    @property
    def slice_size(self) -> tuple[int, int]:
        """Each log-mel slice is resized to (H/2, W/2) so that VGGish's 1/16 grid equals MViT's 1/32 grid."""
        return self.height // 2, self.width // 2

    @property
    def deep_grid(self) -> tuple[int, int]:
        return self.height // SIZE_MULTIPLE, self.width // SIZE_MULTIPLE

    @property
    def fused_frames(self) -> int:
        """Temporal length after the patch embedding (T/2) and the feature-enhancement convs (T/4)."""
        return self.frames // 4

    @property
    def decoder_time_halvings(self) -> int:
        return int(math.log2(self.fused_frames))

    def at_size(self, suffix: str) -> DTFSalConfig:
        """This config on a clip of ``TxHxW`` (or ``HxW``, keeping T); the registry's ``NAME@SIZE``."""
        parts = suffix.lower().split("x")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise UsageError(f"DTFSal size '{suffix}' must be TxHxW or HxW, e.g. 'paper@8x128x224'")
        values = [int(p) for p in parts]
        frames = values[0] if len(values) == 3 else self.frames
        height, width = values[-2:]
        return dataclasses.replace(self, frames=frames, height=height, width=width,
                                   token_size=(height // SIZE_MULTIPLE, width // SIZE_MULTIPLE))


def _problems(c: DTFSalConfig) -> list[str]:
    problems = []
    if c.frames not in FRAME_COUNTS:
        problems.append(f"frames {c.frames} must be one of {FRAME_COUNTS} (e.g. 'paper@8x128x224')")
    if c.height % SIZE_MULTIPLE or c.width % SIZE_MULTIPLE or not c.height or not c.width:
        problems.append(f"height×width {c.height}×{c.width} must be positive multiples of {SIZE_MULTIPLE}")
    if c.frames in FRAME_COUNTS and c.decoder_time_halvings > len(c.decoder_dims):
        problems.append(f"{c.frames} frames need {c.decoder_time_halvings} decoder layers; give more decoder_dims")
    if any(s not in (1, 2, 3, 4) for s in c.amfb_scales):
        problems.append(f"amfb_scales {c.amfb_scales} must be drawn from 1..4")
    if c.amfb_audio_injection not in ("add", "gate", "film-gate"):
        problems.append(f"amfb_audio_injection '{c.amfb_audio_injection}' must be 'gate', 'film-gate' or 'add'")
    if c.dim < 2 * c.dltfb_shift + 1:
        problems.append(f"dim {c.dim} is too small for a shift over {2 * c.dltfb_shift + 1} channel groups")
    return problems


DTFSAL_PAPER = DTFSalConfig()
DTFSAL_SMALL = DTFSalConfig(
    frames=8,
    height=64,
    width=96,
    visual=MVIT_TINY_TEST,
    vggish=VGGishConfig(features=(4, "M", 8, "M", 8, 8, "M", 16, 16, "M"), hidden=8, embedding_dim=8),
    audio_slices=3,
    slice_frames=16,
    slice_hop=8,
    audio_embed_dim=12,
    audio_heads=2,
    audio_mlp=16,
    dim=10,
    lteb_tokens=3,
    token_size=(2, 3),
    dltfb_shift=1,
    decoder_dims=(8, 6, 4),
)
"""A tiny config for fast tests (not a paper config): every module runs, on an 8×64×96 clip."""

DTFSAL_CPU = dataclasses.replace(
    DTFSAL_PAPER.at_size("4x96x160"),
    visual=MViTConfig(embed_dim=24, depth=5, num_heads=1, downscale_blocks=(1, 2, 4)),
    vggish=VGGishConfig(features=(16, "M", 32, "M", 64, 64, "M", 64, 64, "M"), hidden=64, embedding_dim=32),
    audio_embed_dim=64,
    audio_mlp=128,
    dim=32,
    lteb_tokens=4,
    decoder_dims=(16, 8, 4),
    audio_slices=1,
    audio_norm=True,
    amfb_scales=(2, 3, 4),
)
"""Every DTFSal block at reduced widths on a 4×96×160 clip (1.1 M params, ≈0.6 s per training sample on one
CPU core): the teacher of the CPU reference run (helper E, README results)."""

DTFSAL_CPU_FILM = dataclasses.replace(DTFSAL_CPU, amfb_audio_injection="film-gate")
"""``cpu`` with DTFSal-S's audio injection (FiLM, then the per-pixel gate): the experiment of README "Saliency results"."""

CONFIGS = {"paper": DTFSAL_PAPER, "small": DTFSAL_SMALL, "cpu": DTFSAL_CPU, "cpu-film": DTFSAL_CPU_FILM}
