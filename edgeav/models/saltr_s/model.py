"""SalTR-S: a dense-map phone student of SalTR (shared/design/students.md A2, "dense-map student").

    RGB [B,3,256,320] ─ ImageNet normalisation ─ MobileNetV3-Large taps (strides 4, 8, 16, 32)
    ─ the project's 2-D saliency decoder (top-down, depthwise-separable 3×3, bilinear ×2, one side map per
      level, 1×1 fusion) ─ sigmoid ─► saliency [B,1,256,320] in [0, 1]

It predicts the map SalTR renders (no queries, no matching): distilled from the teacher's map plus the
ground truth with KL − CC (PKD's recipe). Plain convolutions, hardswish, squeeze-excitation and bilinear
resizes only, so it lowers to int8 on every target.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeav.models.layers.saliency_decoder import SaliencyDecoder
from edgeav.models.layers.io import ImageNetNormalize
from edgeav.models.saltr_s.configs import SalTRSConfig
from edgeav.models.saltr_s.encoder import MobileNetV3Taps


@dataclass
class DenseSaliencyOutput:
    """``logits`` [B,1,H,W] (the map before its sigmoid), ``side_logits`` 4 × [B,1,H,W] (strides 4..32),
    ``features`` the decoder inputs (for feature hints)."""

    logits: torch.Tensor
    side_logits: list[torch.Tensor]
    features: list[torch.Tensor]


class SalTRS(nn.Module):
    """RGB image [B, 3, H, W] in [0, 1] → saliency map [B, 1, H, W] in [0, 1]."""

    def __init__(self, cfg: SalTRSConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.normalize = ImageNetNormalize()
        self.encoder = MobileNetV3Taps(cfg.setting, cfg.stem_channels)
        self.decoder = SaliencyDecoder(self.encoder.channels, cfg.decoder_channels, cfg.image_size)

    def forward_train(self, image: torch.Tensor) -> DenseSaliencyOutput:
        feats = self.encoder(self.normalize(image))
        logits, sides = self.decoder(feats)
        return DenseSaliencyOutput(logits, sides, feats)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.forward_train(image).logits)
