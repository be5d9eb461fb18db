"""TinyAV: a tiny two-input audio-visual model with the I/O of the real ones, as a ModelEntry.

``TinyAV``: RGB frames [1, 3, 64, 64] + mono 16 kHz PCM [1, 16000] -> mask probability [1, 1, 64, 64].
Its audio gate is pooled with ``nn.AdaptiveMaxPool2d(1)``, so export rewrites are exercised.

Its own module, not conftest.py: spawned export workers unpickle the model by module name, and with several
conftest.py files in the suite the name ``conftest`` points at whichever was imported last.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from edgeav.registry import ModelEntry
from edgeav.specs import IOSpec, TensorSpec

SAMPLE_RATE = 16000



@dataclass(frozen=True)
class TinyAVConfig:
    width: int = 8
    size: int = 64


class TinyAV(nn.Module):
    def __init__(self, config: TinyAVConfig) -> None:
        super().__init__()
        w = config.width
        self.visual = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1), nn.BatchNorm2d(w), nn.ReLU(), nn.Conv2d(w, w, 3, 1, 1))
        self.audio = nn.Sequential(nn.Conv1d(1, w, 400, stride=160), nn.ReLU())
        self.gate_pool = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Conv2d(w, 1, 1)

    def forward(self, frames: torch.Tensor, pcm: torch.Tensor) -> torch.Tensor:
        v = self.visual(frames)
        a = self.audio(pcm.unsqueeze(1)).mean(-1)[:, :, None, None]
        gate = torch.sigmoid(self.gate_pool(v) + a)
        logits = self.head(v * gate)
        return torch.sigmoid(F.interpolate(logits, scale_factor=2.0, mode="bilinear", align_corners=False))


def tiny_av_io_spec(config: TinyAVConfig) -> IOSpec:
    s = config.size
    return IOSpec(
        inputs=(
            TensorSpec("frames", (1, 3, s, s), layout="NCHW RGB", value_range=(0.0, 1.0)),
            TensorSpec("pcm", (1, SAMPLE_RATE), layout="N,samples mono", value_range=(-1.0, 1.0)),
        ),
        outputs=(TensorSpec("mask", (1, 1, s, s), layout="NCHW", value_range=(0.0, 1.0)),),
        output_reading="per-pixel probability of the sounding object; threshold at 0.5",
        sample_rate=SAMPLE_RATE,
        samples_per_frame=SAMPLE_RATE,
        labels=("background", "sounding object"),
    )


def tiny_av_samples(config: TinyAVConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Scenes, not noise: a lit gradient with one coloured disc, and a two-tone sound with a little hiss."""
    rng = np.random.default_rng(seed)
    s = config.size
    yy, xx = np.mgrid[0:s, 0:s] / s
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    out = []
    for _ in range(n):
        img = np.stack([0.2 + 0.5 * yy, 0.3 + 0.4 * xx, 0.5 - 0.3 * yy], 0)
        cy, cx, r = rng.uniform(0.3, 0.7, 2).tolist() + [rng.uniform(0.1, 0.25)]
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        img[:, disc] = rng.uniform(0, 1, (3, 1))
        f1, f2 = rng.uniform(200, 2000, 2)
        pcm = 0.3 * np.sin(2 * np.pi * f1 * t) + 0.1 * np.sin(2 * np.pi * f2 * t) + 0.01 * rng.standard_normal(t.size)
        out.append((torch.from_numpy(img[None].astype(np.float32)), torch.from_numpy(pcm[None].astype(np.float32))))
    return out


def _build(config: TinyAVConfig) -> nn.Module:
    torch.manual_seed(0)
    return TinyAV(config).eval()


TINY_AV = ModelEntry(
    name="tinyav",
    task="segmentation",
    summary="test model: two inputs, one mask",
    builder=_build,
    configs={"small": TinyAVConfig(), "wide": TinyAVConfig(width=16)},
    io_spec=tiny_av_io_spec,
    samples=tiny_av_samples,
    default_config="small",
)
