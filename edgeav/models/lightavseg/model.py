"""LightAVSeg (ICML 2026, "LightAVSeg: Lightweight Audio-Visual Segmentation").

No code was released; this is the plain reading of the paper wherever its equations are blank
(``shared/papers/002``; facts in ``shared/design/models.md`` §1.2, §1.3, §4).

Data flow for one frame and its one second of audio::

    RGB [B,3,224,224] in [0,1] ─ ImageNet normalisation ─ SeaFormer-L stage 0 ─► F1 128@28²
    PCM [B,16000] ─ in-graph log-mel (PANNs convention, 16 kHz) ─ MobileNetV2 ─► A0 [B,1024]
    for each pyramid stage l = 1..4 (Reciprocal Audio-Visual Encoder, RAVE):
        v_l  = maxpool(F_l)                                  global visual descriptor [B,C_l,1,1]
        Â_l  = W_a(A_{l-1}) ⊙ hsig(W_v(v_l))                 eq. 2, hierarchical audio refinement
        F'_l = F_l + broadcast(Â_l)                          eq. 3, audio-guided visual enhancement
        F_{l+1} = next SeaFormer stage(F'_l)                 audio is injected *inside* the backbone
    Cross-Modal Fusion Decoder (CMFD), strides 64 → 32 → 16 → 8, decoder width E:
        X_k  = fuse(up(X_{k-1}) + lateral(F'_l))
        z    = [W_d D_{k-1} ; W_e Â_l]                       eq. 4: project both to E and concatenate
        D̃_k = value(z) ⊙ σ(gate(z))                          eq. 4: lightweight (GLU) gating
        D_k  = D̃_k ⊙ hsig(W_x maxpool(X_k))                  eq. 5: visual re-weighting
        X_k  = X_k + broadcast(D_k)                          eq. 6
        (D_0 = W_0 Â_4, the encoder's final audio state)
    head: depthwise-separable 3×3 on X_3 (stride 8) → 1×1 → bilinear ×8 → mask logits.

Choices where the paper is silent (all documented here so the numbers can be traced):
- The audio vector projections are 1×1 convs *with bias and without BN* on [B,C,1,1] tensors: BN over
  a batch of global vectors is ill-defined at batch 1, which QAT and fine-tuning on a phone's clips hit.
- The decoder fusion blocks are dense 3×3 Conv-BN-ReLU at strides 64/32 and depthwise-separable at
  strides 16/8, which spends parameters where pixels are few and keeps the FLOPs near the paper's 2.70 G.
- The audio front end is the PANNs convention at 16 kHz (Hann 512, hop 160, 64 Slaney mels 50–8000 Hz,
  power, 10·log10), the closest 16 kHz reading of the released 32 kHz MobileNetV2; one second per frame.
- The deployable graph ends in a sigmoid (binary) or softmax over classes (semantic): the apps threshold
  or argmax without extra math.
- Alignment loss: τ = 0.1, λ = 1.0, sigmoid of the temperature-scaled cosine map, last three decoder scales.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.audio import LogMelFrontEnd
from edgeav.models.backbones.panns_mobilenetv2 import PannsMobileNetV2
from edgeav.models.backbones.seaformer import SeaFormer
from edgeav.models.layers.conv import ConvBN, GlobalMaxPool, HSigmoid
from edgeav.models.layers.io import ImageNetNormalize
from edgeav.models.lightavseg.configs import LIGHTAVSEG_PAPER, LightAVSegConfig
from edgeav.models.segmentation import AVSegmentationModel


def _pointwise(in_ch: int, out_ch: int) -> nn.Conv2d:
    """1×1 conv with bias on [B,C,1,1] vectors (see the module docstring for why there is no BN)."""
    return nn.Conv2d(in_ch, out_ch, 1)


class AudioRefinement(nn.Module):
    """RAVE at one stage: refine the audio state under visual gating and inject it as a channel bias."""

    def __init__(self, audio_dim: int, visual_dim: int) -> None:
        super().__init__()
        self.pool = GlobalMaxPool()
        self.audio_proj = _pointwise(audio_dim, visual_dim)
        self.visual_proj = _pointwise(visual_dim, visual_dim)
        self.gate = HSigmoid()

    def forward(self, visual: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        refined = self.audio_proj(audio) * self.gate(self.visual_proj(self.pool(visual)))  # eq. 2
        return visual + refined, refined  # eq. 3 (broadcast over H, W)


class DecoderFusion(nn.Module):
    """CMFD at one scale: upsample-and-merge the visual path, update the recurrent audio state, inject it."""

    def __init__(self, skip_dim: int, audio_dim: int, dim: int, dense: bool) -> None:
        super().__init__()
        self.lateral = nn.Sequential(ConvBN(skip_dim, dim), nn.ReLU())
        if dense:
            self.fuse = nn.Sequential(ConvBN(dim, dim, 3, 1, 1), nn.ReLU())
        else:
            self.fuse = nn.Sequential(ConvBN(dim, dim, 3, 1, 1, groups=dim), ConvBN(dim, dim), nn.ReLU())
        self.state_proj = _pointwise(dim, dim)
        self.encoder_proj = _pointwise(audio_dim, dim)
        self.value = _pointwise(2 * dim, dim)
        self.gate = _pointwise(2 * dim, dim)
        self.visual_proj = _pointwise(dim, dim)
        self.pool = GlobalMaxPool()
        self.hsig = HSigmoid()

    def forward(
        self, prev: torch.Tensor | None, skip: torch.Tensor, enc_audio: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.lateral(skip)
        if prev is not None:
            x = x + F.interpolate(prev, size=x.shape[-2:], mode="bilinear", align_corners=False)
        x = self.fuse(x)
        z = torch.cat([self.state_proj(state), self.encoder_proj(enc_audio)], dim=1)
        fused = self.value(z) * torch.sigmoid(self.gate(z))  # eq. 4
        state = fused * self.hsig(self.visual_proj(self.pool(x)))  # eq. 5
        return x + state, state  # eq. 6


@dataclass
class LightAVSegOutput:
    """Training-time outputs: logits at input size plus what the alignment loss needs."""

    logits: torch.Tensor
    decoder_features: list[torch.Tensor]  # coarse → fine, one per decoder scale
    decoder_audio: list[torch.Tensor]  # the matching audio states [B, E, 1, 1]


class LightAVSeg(AVSegmentationModel):
    """LightAVSeg: raw PCM + RGB frame → sounding-object mask."""

    def __init__(self, cfg: LightAVSegConfig = LIGHTAVSEG_PAPER) -> None:
        super().__init__()
        self.cfg = cfg
        self.normalize = ImageNetNormalize()
        self.frontend = LogMelFrontEnd(cfg.logmel)
        self.audio = PannsMobileNetV2(cfg.audio)
        self.visual = SeaFormer(cfg.visual, input_size=cfg.image_size)
        chans = cfg.visual.pyramid_channels
        audio_dims = (cfg.audio.embedding_dim,) + chans[:-1]
        self.encoder = nn.ModuleList(AudioRefinement(a, v) for a, v in zip(audio_dims, chans))
        dim = cfg.decoder_dim
        self.decoder_init = _pointwise(chans[-1], dim)
        levels = list(reversed(range(len(chans))))  # decoder runs coarse → fine
        self.decoder = nn.ModuleList(
            DecoderFusion(chans[l], chans[l], dim, cfg.dense_fusion[k]) for k, l in enumerate(levels)
        )
        self.head = nn.Sequential(
            ConvBN(dim, dim, 3, 1, 1, groups=dim), ConvBN(dim, dim), nn.ReLU(), nn.Conv2d(dim, cfg.num_classes, 1)
        )
        if cfg.freeze_audio:
            self.audio.requires_grad_(False)

    def train(self, mode: bool = True) -> LightAVSeg:
        super().train(mode)
        if self.cfg.freeze_audio:
            self.audio.eval()  # a frozen trunk keeps its BN statistics
        return self

    def encode_audio(self, pcm: torch.Tensor) -> torch.Tensor:
        """PCM [B, samples] → initial audio state A0 [B, E_audio, 1, 1]."""
        emb = self.audio(self.frontend(pcm))
        return emb[:, :, None, None]

    def forward_train(self, frames: torch.Tensor, pcm: torch.Tensor) -> LightAVSegOutput:
        x = self.normalize(frames)
        audio = self.encode_audio(pcm)
        pyramid, states = [], []
        for level, rave in enumerate(self.encoder):
            x = self.visual.stage(level, x)
            x, audio = rave(x, audio)
            pyramid.append(x)
            states.append(audio)
        state = self.decoder_init(states[-1])
        feats, dec_audio, prev = [], [], None
        for k, block in enumerate(self.decoder):
            level = len(pyramid) - 1 - k
            prev, state = block(prev, pyramid[level], states[level], state)
            feats.append(prev)
            dec_audio.append(state)
        logits = F.interpolate(self.head(prev), size=frames.shape[-2:], mode="bilinear", align_corners=False)
        return LightAVSegOutput(logits, feats, dec_audio)
