"""DTFSal's feature enhancement (eq. 2-3), LTEB (eq. 4-8) and DLTFB (eq. 9-11).

Feature enhancement is TMFI-Net's ``DecoderConvUp``: per scale a Conv3d k(2,1,1) s(2,1,1) to C* = 192 (T/2 →
T/4), a top-down path with lateral additions (F4 upsampled ×2/×4/×8 into every finer scale) and a Conv3d
k(1,3,3) on scales 1-3.

Choices where the paper is silent (config fields of :class:`~edgeav.models.dtfsal.configs.DTFSalConfig`):
- LTEB tokens (``lteb_tokens`` N = 8, ``token_size`` = the deepest grid 7×12): each scale has its own N tokens
  ``P_i ∈ R^{C×h×w}``; the weights come per time step (E(t) is the spatial mean of G at each t), so
  ``K(t) = Σ_i w_i(t) P_i`` is interpolated (bilinear) to the scale's grid before the Conv 1×3×3 of eq. 7.
  N·h·w was sized so that the model lands on the paper's parameter count.
- DLTFB runs *in place of* LTEB on scale 4: it computes the same token path (its ``F·P''`` term) and adds
  the shift branch of eq. 9-10. The shift is UNeXt's: channels split into ``2·shift + 1`` groups, group g
  moved by g − shift pixels with zero fill (static pad + slice, no ``torch.roll``). The "Conv3d" of eq. 9
  is a depthwise 3×3×3 (UNeXt's DWConv, lifted to 3-D), the LN a LayerNorm over channels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.dtfsal.configs import DTFSalConfig


def resize_frames(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of every frame of ``[B, C, T, H, W]``: trilinear with temporal scale 1, written 2-D."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    b, c, t, h, w = x.shape
    frames = x.transpose(1, 2).reshape(b * t, c, h, w)
    frames = F.interpolate(frames, size=size, mode="bilinear", align_corners=False)
    return frames.reshape(b, t, c, *size).transpose(1, 2)


def upsample(x: torch.Tensor, scale: int) -> torch.Tensor:
    return resize_frames(x, (x.shape[-2] * scale, x.shape[-1] * scale))


def conv_1x3x3(in_ch: int, out_ch: int, bias: bool = True) -> nn.Conv3d:
    return nn.Conv3d(in_ch, out_ch, (1, 3, 3), padding=(0, 1, 1), bias=bias)


class FeatureEnhancement(nn.Module):
    """Eq. 3: encoder scales ``F^E_1..4`` (finest first) → refined ``F^R_1..4``, each C* channels at T/4."""

    def __init__(self, in_dims: tuple[int, ...], dim: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv3d(c, dim, (2, 1, 1), (2, 1, 1)) for c in in_dims)
        self.refine = nn.ModuleList(conv_1x3x3(dim, dim, bias=False) for _ in in_dims[:-1])

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        lat = [conv(f) for conv, f in zip(self.lateral, feats)]
        top = lat[-1]  # F^R_4 = Conv(F^E_4)
        fused = [top]
        for i in range(len(lat) - 2, -1, -1):  # scales 3, 2, 1
            f = lat[i] + upsample(fused[0], 2)
            if i < len(lat) - 2:  # F2, F1 also take F^R_4 directly (×4, ×8)
                f = f + upsample(top, 2 ** (len(lat) - 1 - i))
            fused.insert(0, f)
        return [conv(f) for conv, f in zip(self.refine, fused[:-1])] + [top]


class TokenWeights(nn.Module):
    """Eq. 4-7: ``F^R`` → ``P''``, the adaptively weighted learnable tokens mapped back to the feature map."""

    def __init__(self, dim: int, tokens: int, token_size: tuple[int, int]) -> None:
        super().__init__()
        self.gate = conv_1x3x3(dim, dim)
        self.weights = nn.Linear(dim, tokens)
        self.tokens = nn.Parameter(torch.randn(tokens, dim, *token_size) * 0.02)
        self.out = conv_1x3x3(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        g = torch.sigmoid(self.gate(x))  # eq. 4
        e = g.mean(dim=(3, 4)).transpose(1, 2)  # E(t): [B, T, C]
        wts = torch.softmax(self.weights(e), dim=-1)  # eq. 5: [B, T, N]
        n, _, th, tw = self.tokens.shape
        k = (wts.reshape(b * t, n) @ self.tokens.reshape(n, -1)).reshape(b, t, c, th, tw)  # eq. 6
        k = resize_frames(k.transpose(1, 2), (h, w))
        return self.out(k)  # eq. 7


class LTEB(nn.Module):
    """Eq. 8: ``F^w = F · P'' + F``."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.token = TokenWeights(cfg.dim, cfg.lteb_tokens, cfg.token_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.token(x) + x


def axial_shift(x: torch.Tensor, shift: int, dim: int) -> torch.Tensor:
    """Move channel group g of ``[B, C, T, H, W]`` by ``g − shift`` along ``dim`` (3 = H, 4 = W), zero fill."""
    groups = torch.chunk(x, 2 * shift + 1, dim=1)
    length = x.shape[dim]
    pad = [0] * (2 * (x.dim() - dim))
    pad[-2:] = [shift, shift]  # F.pad lists the last axis first
    moved = []
    for g, part in enumerate(groups):
        start = 2 * shift - g  # output[i] = input[i - (g - shift)]
        moved.append(F.pad(part, pad).narrow(dim, start, length))
    return torch.cat(moved, dim=1)


class DLTFB(nn.Module):
    """Eq. 9-11: ``F · P'' + F + Conv1(LN(shift_H(DWConv3d(GELU(Conv1(shift_W(F)))))))``."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.shift = cfg.dltfb_shift
        self.token = TokenWeights(cfg.dim, cfg.lteb_tokens, cfg.token_size)
        self.fc1 = nn.Conv3d(cfg.dim, cfg.dim, 1)
        self.act = nn.GELU()
        self.conv = nn.Conv3d(cfg.dim, cfg.dim, 3, padding=1, groups=cfg.dim)
        self.norm = nn.LayerNorm(cfg.dim)
        self.fc2 = nn.Conv3d(cfg.dim, cfg.dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(self.act(self.fc1(axial_shift(x, self.shift, 4))))  # eq. 9
        y = axial_shift(y, self.shift, 3)
        y = self.norm(y.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
        shifted = x + self.fc2(y)  # eq. 10
        return x * self.token(x) + shifted  # eq. 11
