"""DTFSal's audio branch: raw 16 kHz PCM → in-graph VGGish log-mel → 9 slices → VGGish trunk → temporal Transformer.

Following DiffSal (shared/design/models.md §5): 64-frame log-mel slices (0.64 s) every 11 frames (110 ms;
the paper's "11 ms" window), each resized to (H/2, W/2) = 112×192 so that VGGish's fully convolutional
trunk (no embedding head) yields ``[512, H/32, W/32]``, the grid of MViT's deepest scale. The log-mel is
torchvggish's (``VGGISH_LOGMEL``) computed in the graph for 64 + 8·11 = 152 frames, i.e. 24 560 samples.

Temporal enhancement ("a patch embedding layer followed by a Transformer layer"): the patch embedding is a
1×1×1 Conv3d (512 → ``audio_embed_dim`` = 256) per audio token plus a learned embedding per slice, then one
post-norm Transformer layer (``audio_heads`` = 2 heads, FFN ``audio_mlp`` = 256) over all slice × grid tokens.
``audio_norm`` (a choice, on in the ``cpu`` config, off at paper size where torchvggish's weights expect
raw log-mel): a BatchNorm on the log-mel before VGGish and one on the embedded audio tokens. Measured on the CPU reference run without it: VGGish
trained from scratch on raw log-mel gave features that differed between clips by scale only (spread 35 on a
magnitude of 41 after the patch embedding, 0.08 on 0.8 after the LayerNorm), so every clip reached AMFB as
nearly the same audio vector; the log-mel BatchNorm alone still left 0.10 on 0.82 after the LayerNorm
(the tokens kept one common direction), hence the second, on the tokens. The width 256 is a choice: it gives the 0.53 M parameters of DiffSal's ``AudioAttnNet`` (dim 512, 2 heads of 64). DiffSal's
``AudioAttnNet`` builds such an embedding but overwrites its output before use; here it is used.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.audio import LogMelFrontEnd
from edgeav.errors import InputShapeError
from edgeav.models.backbones.vggish import vggish_trunk
from edgeav.models.dtfsal.configs import DTFSalConfig
from edgeav.models.layers.attention import FeedForward, MultiHeadAttention


class LogMelSlices(nn.Module):
    """PCM ``[B, S]`` → ``[B·slices, 1, H/2, W/2]`` log-mel slices, resized as DiffSal does."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.frontend = LogMelFrontEnd(cfg.logmel_config)

    def forward(self, pcm: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        if pcm.dim() != 2 or pcm.shape[-1] != c.audio_samples:
            raise InputShapeError(
                f"DTFSal audio must be [batch, {c.audio_samples}] samples of {c.sample_rate} Hz PCM "
                f"({c.audio_samples / c.sample_rate:.3f} s), got {tuple(pcm.shape)}: cut or zero-pad the clip's audio to that length"
            )
        logmel = self.frontend(pcm)  # [B, 1, frames, 64]
        slices = [logmel[:, :, i * c.slice_hop : i * c.slice_hop + c.slice_frames] for i in range(c.audio_slices)]
        stacked = torch.cat(slices, dim=1).reshape(-1, 1, c.slice_frames, logmel.shape[-1])
        return F.interpolate(stacked, size=c.slice_size, mode="bilinear", align_corners=False)


class TemporalEnhancement(nn.Module):
    """``[B, 512, S, h, w]`` → ``[B, E, S, h, w]``: patch embedding to E + slice embedding + one Transformer layer."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        dim = cfg.audio_embed_dim
        self.patch_embed = nn.Conv3d(cfg.audio_dim, dim, 1)
        # With audio_norm: centre every embedded channel over the batch, so that tokens differ in direction
        # and not only in scale, which the post-norm LayerNorm below would remove (module docstring).
        self.token_norm = nn.BatchNorm3d(dim) if cfg.audio_norm else nn.Identity()
        self.slice_embed = nn.Parameter(torch.zeros(1, dim, cfg.audio_slices, 1, 1))
        nn.init.trunc_normal_(self.slice_embed, std=0.02)
        self.attn = MultiHeadAttention(dim, cfg.audio_heads)
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, cfg.audio_mlp, dropout=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, s, h, w = x.shape
        tokens = (self.token_norm(self.patch_embed(x)) + self.slice_embed).flatten(2).transpose(1, 2)  # [B, S·h·w, A]
        tokens = self.norm(tokens + self.attn(tokens, tokens, tokens))
        tokens = self.ffn(tokens)
        return tokens.transpose(1, 2).reshape(b, -1, s, h, w)


class VGGishSlices(nn.Module):
    """PCM ``[B, audio_samples]`` → VGGish trunk features ``[B, 512, slices, H/32, W/32]``: the part of the audio
    path that AudioSet pretraining (here: audio tagging, :mod:`edgeav.models.dtfsal.tagging`) can provide."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.slices = LogMelSlices(cfg)
        # Log-mel values sit around -4 and differ between clips mostly by level; from scratch, VGGish's
        # ReLU trunk then codes loudness, which the temporal layer's LayerNorm removes (see `audio_norm`).
        self.norm = nn.BatchNorm2d(1) if cfg.audio_norm else nn.Identity()
        self.vggish = vggish_trunk(cfg.vggish)

    def forward(self, pcm: torch.Tensor) -> torch.Tensor:
        feats = self.vggish(self.norm(self.slices(pcm)))  # [B·S, A, h, w]
        n, a, h, w = feats.shape
        return feats.reshape(-1, self.cfg.audio_slices, a, h, w).transpose(1, 2)


class AudioEncoder(VGGishSlices):
    """PCM ``[B, audio_samples]`` → audio features ``[B, audio_embed_dim, slices, H/32, W/32]``.

    ``freeze_audio``: the log-mel norm and the VGGish trunk keep their (pretrained) weights and statistics;
    the temporal enhancement still trains (``edgeav train --audio-weights`` sets it, as for LightAVSeg).
    """

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__(cfg)
        self.temporal = TemporalEnhancement(cfg)
        if cfg.freeze_audio:
            self.norm.requires_grad_(False)
            self.vggish.requires_grad_(False)

    def train(self, mode: bool = True) -> AudioEncoder:
        super().train(mode)
        if self.cfg.freeze_audio:
            self.norm.eval()  # a frozen log-mel BatchNorm keeps its pretrained statistics
        return self

    def forward(self, pcm: torch.Tensor) -> torch.Tensor:
        return self.temporal(super().forward(pcm))
