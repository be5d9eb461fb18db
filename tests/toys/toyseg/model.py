"""ToySeg: one frame + one second of PCM -> a sounding-object mask, the smallest AVS model with a real card."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.layers.io import ImageNetNormalize


@dataclass(frozen=True)
class ToySegConfig:
    width: int = 8
    image_size: int = 64  # FrameSamples resizes the data's frames and masks to this
    samples_per_frame: int = 16000


class ToyAudioGate(nn.Module):
    """PCM -> one gate per channel. Kept float in int8 (the entry's float module): its input is raw PCM."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, width, 400, stride=160)

    def forward(self, pcm: torch.Tensor) -> torch.Tensor:
        return self.conv(pcm.unsqueeze(1)).abs().mean(-1)[:, :, None, None]


class ToySeg(nn.Module):
    def __init__(self, cfg: ToySegConfig) -> None:
        super().__init__()
        w = cfg.width
        self.cfg = cfg
        # Normalising in-graph (as the zoo's models do) keeps the int8 graph's pixel input float in LiteRT.
        self.visual = nn.Sequential(ImageNetNormalize(), nn.Conv2d(3, w, 3, 2, 1), nn.BatchNorm2d(w), nn.ReLU(), nn.Conv2d(w, w, 3, 1, 1))
        self.audio = ToyAudioGate(w)
        self.head = nn.Conv2d(w, 1, 1)

    def forward_train(self, frames: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """Mask logits at input resolution."""
        v = self.visual(frames)
        logits = self.head(v * torch.sigmoid(self.audio(audio)))
        return F.interpolate(logits, scale_factor=2.0, mode="bilinear", align_corners=False)

    def forward(self, frames: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.forward_train(frames, audio))
