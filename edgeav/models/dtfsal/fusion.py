"""DTFSal's Adaptive Multimodal Fusion Block (AMFB, eq. 12-14) and the 3×3 deformable convolution it uses.

Per fused scale: the audio map is aligned to the visual one (see :class:`AudioAlign`) and injected into it; three
streams read that audio-visual map — local (Conv3d k(1,3,3) + BN + ReLU), global (Conv3d k(1,5,5)) and
adaptive (a 3×3 deformable convolution on every frame) — and the Tri-Stream Score (GAP → Linear → sigmoid)
weighs them into one map.

Choices where the paper is silent (config fields ``amfb_scales``, ``amfb_local_kernel``, ``amfb_global_kernel``):
- Scales: AMFB runs on scales 2 and 3 (strides 8, 16). On scale 1 (stride 4, 56×96 × 8 frames) the three
  streams alone would cost ~68 GMACs, more than the whole gap between the paper's visual-only and audio-visual
  figures; adding scale 4 would put the model 3.5 % above the paper's 49.08 M parameters.
- Audio injection (``amfb_audio_injection``, a registry :data:`AUDIO_INJECTIONS`): the audio features
  ``[B, 256, 9, H/32, W/32]`` are aligned per scale by a fixed linear resampling of the 9 slices onto the T/4
  visual steps, a 1×1×1 Conv3d to C* and a bilinear resize to the scale's grid (:class:`AudioAlign`). Then
  ``"add"`` adds that map to the visual one; ``"gate"`` (the default) instead multiplies every pixel by
  ``2σ(⟨q(ā_t), k(F_t(x, y))⟩ / √d)``, where ``ā_t`` is the aligned map averaged over the grid at step t and
  ``k`` a 1×1×1 Conv3d of the visual map (``amfb_gate_dim`` = d = 32): the audio-visual correspondence AVS
  models learn. Why: the aligned map's grid is the log-mel's (time × frequency resized), not the image's,
  so an added map is one sound code for every pixel and cannot say *which* object sounds. Measured on the
  CPU reference run (``cpu`` config, synthetic clips where the sound decides the fixated object): with
  ``"add"`` the teacher's CC was 0.579 with the clip's audio and 0.579 with another clip's; adding the map
  *and* gating still gave 0.584 / 0.585, and the audio features had collapsed to nearly one vector for all
  clips (spread across clips 0.02 against a mean magnitude of 0.72): an added sound is noise to the visual
  map at first, and training switched it off before the gate could use it. So the gate alone: its query
  is zero-initialised, the gate starts as the identity and injects nothing until the sound helps.
  The gate is divided by its mean over the frame (mean 1 per step). Measured without that (``cpu`` teacher
  with the tagging-pretrained, frozen VGGish, 1000 steps): the audio reaching the gate told the sounding
  category apart (nearest-centroid accuracy 0.95 on the query), yet true and shuffled audio gave CC 0.494 /
  0.492: the gate had become a per-sound *gain* — nearly uniform over the frame (pixel std 0.05 at scale 3)
  but 1.1 apart between true and shuffled audio. A gain changes neither CC nor KL of the normalised map,
  so nothing taught it to localise. Centring the keys over the frame was not enough (100 steps: the scores
  grew until the sigmoid saturated at 2 on most pixels, the same gain again); the mean-1 gate removes it.
  The deformable offsets are predicted from the visual and the aligned audio map side by side, so the sound
  also steers where the adaptive stream samples ("integrated for cross-modal alignment").
- The deformable convolution is 2-D per frame (the paper says 3×3), offsets initialised to zero so it starts
  as a plain 3×3 convolution (the DCN convention).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.models.dtfsal.configs import DTFSalConfig
from edgeav.models.dtfsal.enhance import resize_frames


def linear_resample_matrix(src: int, dst: int) -> torch.Tensor:
    """``[dst, src]`` weights of 1-D linear interpolation (``align_corners=False``), as a constant matrix."""
    eye = torch.eye(src).unsqueeze(0)  # [1, src, src]: column j is the unit signal at j
    return F.interpolate(eye, size=dst, mode="linear", align_corners=False)[0].T.contiguous()


class DeformConv2d(nn.Module):
    """3×3 deformable convolution (Dai et al. 2017) by bilinear sampling with ``grid_sample``; no torchvision.

    ``x [N, C, H, W]`` and ``offsets [N, 2·9, H, W]`` (dy, dx per kernel point, in pixels, kernel points in
    row-major order) → ``[N, out, H, W]``. The nine samples of every pixel are gathered by one ``grid_sample``
    into ``[N, C·9, H, W]`` and reduced by the 3×3 weight seen as a 1×1 convolution, so with zero offsets
    this is exactly ``conv2d(x, weight, padding=1)`` (zero padding outside the image).
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.weight, self.bias = conv.weight, conv.bias
        ky, kx = torch.meshgrid(torch.arange(-1.0, 2.0), torch.arange(-1.0, 2.0), indexing="ij")
        self.register_buffer("kernel_yx", torch.stack((ky.flatten(), kx.flatten()), -1), persistent=False)

    def forward(self, x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        base_y = torch.arange(h, device=x.device, dtype=x.dtype).view(1, 1, h, 1)
        base_x = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, 1, w)
        off = offsets.view(n, 9, 2, h, w)
        y = base_y + self.kernel_yx[:, 0].view(1, 9, 1, 1) + off[:, :, 0]  # [N, 9, H, W] in pixels
        xx = base_x + self.kernel_yx[:, 1].view(1, 9, 1, 1) + off[:, :, 1]
        grid = torch.stack(((2 * xx + 1) / w - 1, (2 * y + 1) / h - 1), dim=-1)  # align_corners=False coords
        samples = F.grid_sample(x, grid.view(n, 9 * h, w, 2), mode="bilinear", padding_mode="zeros", align_corners=False)
        samples = samples.view(n, c * 9, h, w)  # channel-major, kernel point minor = the weight's layout
        return F.conv2d(samples, self.weight.reshape(self.weight.shape[0], c * 9, 1, 1), self.bias)


class AudioAlign(nn.Module):
    """Audio features ``[B, A, S, h, w]`` → ``[B, C, T, H, W]`` on one visual scale (see the module docstring)."""

    def __init__(self, audio_dim: int, dim: int, slices: int, steps: int) -> None:
        super().__init__()
        self.register_buffer("time_matrix", linear_resample_matrix(slices, steps), persistent=False)
        self.proj = nn.Conv3d(audio_dim, dim, 1)

    def forward(self, audio: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        timed = F.linear(audio.permute(0, 1, 3, 4, 2), self.time_matrix)  # [B, A, h, w, T]
        return resize_frames(self.proj(timed.permute(0, 1, 4, 2, 3)), size)


class AddAudio(nn.Module):
    """``"add"``: visual + aligned audio (one sound code on every pixel)."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()

    def forward(self, visual: torch.Tensor, aligned: torch.Tensor) -> torch.Tensor:
        return visual + aligned


class GateAudio(nn.Module):
    """``"gate"``: visual · 2σ(⟨q(ā_t), k(visual)⟩ / √d) per pixel and step (module docstring)."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.query = nn.Linear(cfg.dim, cfg.amfb_gate_dim)
        nn.init.zeros_(self.query.weight)  # identity gate at initialisation
        nn.init.zeros_(self.query.bias)
        self.key = nn.Conv3d(cfg.dim, cfg.amfb_gate_dim, 1)
        self.scale = cfg.amfb_gate_dim**-0.5

    def forward(self, visual: torch.Tensor, aligned: torch.Tensor) -> torch.Tensor:
        query = self.query(aligned.mean(dim=(3, 4)).transpose(1, 2))  # [B, T, d]: the sound at each step
        keys = self.key(visual)  # [B, d, T, H, W]
        score = (keys * query.transpose(1, 2)[..., None, None]).sum(1, keepdim=True) * self.scale
        gate = 2.0 * torch.sigmoid(score)
        # Mean 1 over the frame: the gate can only say *where* (which pixels match the sound), not turn the
        # whole map up or down per sound, which the KL − CC loss cannot see (module docstring).
        return visual * (gate / gate.mean(dim=(3, 4), keepdim=True))


class FilmGateAudio(nn.Module):
    """``"film-gate"``: per-channel FiLM from the sound, ``F · 2σ(γ(ā_t)) + β(ā_t)`` (zero-initialised, the
    identity), then the per-pixel gate on the result — DTFSal-S's ``AudioGate``, which does learn the binding.
    Measured (config ``cpu-film``, 500 steps from the mean-1-gate teacher, README): CC 0.585 true vs
    0.582 shuffled — no better than the gate alone."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.film = nn.Linear(cfg.dim, 2 * cfg.dim)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.gate = GateAudio(cfg)

    def forward(self, visual: torch.Tensor, aligned: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.film(aligned.mean(dim=(3, 4)).transpose(1, 2)).transpose(1, 2)[..., None, None].chunk(2, dim=1)
        return self.gate(visual * (2.0 * torch.sigmoid(gamma)) + beta, aligned)


AUDIO_INJECTIONS: dict[str, type[nn.Module]] = {"add": AddAudio, "gate": GateAudio, "film-gate": FilmGateAudio}
"""How AMFB injects the aligned audio map (``DTFSalConfig.amfb_audio_injection``)."""


def _same_conv3d(dim: int, kernel: tuple[int, int, int], bias: bool) -> nn.Conv3d:
    return nn.Conv3d(dim, dim, kernel, padding=tuple(k // 2 for k in kernel), bias=bias)


class AMFB(nn.Module):
    """Eq. 12-14 on one scale: ``F, audio → W_local·F_local + W_global·F_global + W_adaptive·F_adaptive``."""

    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        dim = cfg.dim
        self.align = AudioAlign(cfg.audio_embed_dim, dim, cfg.audio_slices, cfg.fused_frames)
        self.inject = AUDIO_INJECTIONS[cfg.amfb_audio_injection](cfg)
        self.local = nn.Sequential(_same_conv3d(dim, cfg.amfb_local_kernel, bias=False), nn.BatchNorm3d(dim), nn.ReLU())
        self.global_ = _same_conv3d(dim, cfg.amfb_global_kernel, bias=True)
        self.offsets = nn.Conv2d(2 * dim, 18, 3, padding=1)
        nn.init.zeros_(self.offsets.weight)
        nn.init.zeros_(self.offsets.bias)
        self.adaptive = DeformConv2d(dim, dim)
        self.score = nn.Linear(3 * dim, 3)

    def forward(self, visual: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = visual.shape
        aligned = self.align(audio, (h, w))
        x = self.inject(visual, aligned)
        local, global_ = self.local(x), self.global_(x)
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        cond = torch.cat((visual, aligned), 1).transpose(1, 2).reshape(b * t, 2 * c, h, w)
        adaptive = self.adaptive(frames, self.offsets(cond)).reshape(b, t, c, h, w).transpose(1, 2)
        streams = (local, global_, adaptive)
        pooled = torch.cat([s.mean(dim=(2, 3, 4)) for s in streams], dim=1)  # GAP of F_fused (eq. 12-13)
        weights = torch.sigmoid(self.score(pooled))  # [B, 3]
        return sum(weights[:, i].view(b, 1, 1, 1, 1) * s for i, s in enumerate(streams))
