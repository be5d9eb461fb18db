"""DTFSal's hierarchical multi-decoder (eq. 15), TMFI-Net's ``convtsp1..4`` + ``convout``.

Each scale has its own branch: Conv3d(192→96→48→24, k(2,3,3), s(2,1,1), no bias) with ReLU, halving T at
each layer (8 → 4 → 2 → 1 at 32 frames), bilinear ×2 upsampling after each layer while the branch is still
coarser than the input, then Conv3d(24→1, k(1,3,3)), the remaining upsampling (×2 on scale 3, ×4 on scale 4)
and a sigmoid: the side map ``s_i``. ``S = sigmoid(Conv3d(4→1, k(1,3,3))([s1; s2; s3; s4]))``.
The paper's "Multi-Decoder 1.74 M / One Decoder 0.43 M" are exactly these branches (0.4357 M each).

Clips shorter than 32 frames have fewer halvings to do; the layers past them keep kernel and stride 1 in T.
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.dtfsal.configs import DTFSalConfig
from edgeav.models.dtfsal.enhance import upsample


class DecoderBranch(nn.Module):
    """One scale ``[B, C*, T/4, H/s, W/s]`` → side map ``[B, 1, 1, H, W]`` in (0, 1)."""

    def __init__(self, cfg: DTFSalConfig, stride: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch, remaining = cfg.dim, stride
        for i, out_ch in enumerate(cfg.decoder_dims):
            t = 2 if i < cfg.decoder_time_halvings else 1
            layers += [nn.Conv3d(in_ch, out_ch, (t, 3, 3), (t, 1, 1), (0, 1, 1), bias=False), nn.ReLU()]
            if remaining > 1:
                layers.append(Upsample(2))
                remaining //= 2
            in_ch = out_ch
        layers.append(nn.Conv3d(in_ch, 1, (1, 3, 3), padding=(0, 1, 1), bias=False))
        if remaining > 1:
            layers.append(Upsample(remaining))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layers(x))


class Upsample(nn.Module):
    """Trilinear upsampling by (1, s, s), computed frame by frame."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample(x, self.scale)


class MultiDecoder(nn.Module):
    """Four decoder inputs (finest first) → (final map ``[B, 1, H, W]``, side maps s1..s4 each ``[B, 1, H, W]``)."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.branches = nn.ModuleList(DecoderBranch(cfg, 2 ** (i + 2)) for i in range(4))
        self.out = nn.Conv3d(4, 1, (1, 3, 3), padding=(0, 1, 1))

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        sides = [branch(f) for branch, f in zip(self.branches, feats)]
        final = torch.sigmoid(self.out(torch.cat(sides, dim=1)))
        return final[:, :, 0], [s[:, :, 0] for s in sides]
