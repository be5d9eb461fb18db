"""ToySal: one frame + a short audio window -> a saliency map (a centre prior modulated by image and sound)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeav.models.layers.io import ImageNetNormalize


@dataclass(frozen=True)
class ToySalConfig:
    width: int = 6
    frame_size: tuple[int, int] = (32, 64)  # (H, W) of frames and maps
    audio_samples: int = 1600  # the last 0.1 s heard at 16 kHz


class ToyLoudness(nn.Module):
    """Audio window -> one gain per channel from its energy. Kept float in int8 (the entry's float module):
    squared PCM spans orders of magnitude."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(1, width)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(audio.square().mean(-1, keepdim=True)))[:, :, None, None]


class ToySal(nn.Module):
    def __init__(self, cfg: ToySalConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.encoder = nn.Sequential(ImageNetNormalize(), nn.Conv2d(3, w, 3, 1, 1), nn.ReLU(),
                                     nn.Conv2d(w, w, 3, 1, 1), nn.ReLU())
        self.loudness = ToyLoudness(w)
        self.readout = nn.Conv2d(w, 1, 1)

    def forward(self, frames: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """The saliency map in (0, 1), [B, 1, H, W]."""
        return torch.sigmoid(self.readout(self.encoder(frames) * self.loudness(audio)))
