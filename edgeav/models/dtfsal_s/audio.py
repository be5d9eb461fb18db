"""DTFSal-S's audio side: in-graph VGGish log-mel → a 4-block 2-D CNN → one vector per call, and the
gates through which that vector selects visual channels (FiLM) and the pixels that look like the sound.

The synthetic and AV saliency scenes make the sound decide *which* object people look at; the audio
vector only has to say what kind of thing sounds. Measured (reference pilot, 500 steps on synthetic clips
at 96×160): with the channel gate alone the student learnt no use of sound (CC 0.570 with the clip's own
audio, 0.573 with another clip's), so a per-pixel correspondence gate was added. So the branch is small
(≈0.1 M parameters at paper size), as the design note recommends: the audio gains in the AV saliency papers are
small too.
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.audio.config import VGGISH_LOGMEL
from edgeav.audio.frontend import LogMelFrontEnd


class AudioBranch(nn.Module):
    """PCM [B, S] → audio vector [B, dim]: log-mel [B, 1, 96, 64], 4 × (3×3 conv, BN, ReLU, 2×2 max pool),
    global average pool, linear + ReLU."""

    def __init__(self, channels: tuple[int, ...], dim: int) -> None:
        super().__init__()
        self.logmel = LogMelFrontEnd(VGGISH_LOGMEL)
        self.bn0 = nn.BatchNorm2d(1)  # log-mel values sit around -4; normalise before the convs
        layers: list[nn.Module] = []
        in_ch = 1
        for c in channels:
            layers += [nn.Conv2d(in_ch, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            in_ch = c
        self.cnn = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, dim)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        x = self.cnn(self.bn0(self.logmel(audio)))
        return torch.relu(self.fc(self.pool(x).flatten(1)))


class AudioGate(nn.Module):
    """Two gates from the audio vector ``a`` on features ``x`` [B, C, h, w]:

    * per channel (FiLM): x · 2σ(γ(a)) + β(a), the identity at initialisation (γ = β = 0);
    * per pixel (where the sound is): x · 2σ(⟨q(a), k(x)⟩ / √d), the audio-visual correspondence that
      AVS models learn — one query per call against a key per pixel, computed as a batched matmul (the
      channel sum a 4-D graph delegates), so that "which object sounds" is one learnable similarity
      instead of a channel code the decoder must untangle.
    """

    def __init__(self, audio_dim: int, channels: int, key_dim: int = 32) -> None:
        super().__init__()
        self.film = nn.Linear(audio_dim, 2 * channels)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.query = nn.Linear(audio_dim, key_dim)
        self.key = nn.Conv2d(channels, key_dim, 1)
        self.channels, self.key_dim = channels, key_dim

    def forward(self, x: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        gb = self.film(audio)
        gamma = gb[:, : self.channels].reshape(-1, self.channels, 1, 1)
        beta = gb[:, self.channels :].reshape(-1, self.channels, 1, 1)
        x = x * (2.0 * torch.sigmoid(gamma)) + beta
        h, w = x.shape[-2:]
        keys = self.key(x).reshape(-1, self.key_dim, h * w)  # [B, d, hw]
        query = self.query(audio).reshape(-1, 1, self.key_dim)  # [B, 1, d]
        score = torch.bmm(query, keys).reshape(-1, 1, h, w) * self.key_dim**-0.5
        return x * (2.0 * torch.sigmoid(score))
