"""DTFSal's registry entry: configs, the clip-in / map-out contract, objective, upstream weights, paper figures."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from edgeav.audio import LogMelFrontEnd
from edgeav.models.dtfsal.configs import CONFIGS, DTFSalConfig
from edgeav.models.dtfsal.model import DTFSal
from edgeav.models.dtfsal.objective import DTFSAL_OBJECTIVE
from edgeav.models.dtfsal.weights import UPSTREAM
from edgeav.registry import ModelEntry, PaperFigures, register
from edgeav.specs import IOSpec, TensorSpec

SAMPLE_FPS = 10.0  # the synthetic clips' frame rate for `samples` (the data's own fps elsewhere)

READING = (
    "saliency [1,1,H,W] in (0, 1) (sigmoid) is the gaze map of the clip's LAST frame: colormap it as is, or divide "
    "by its sum for a probability map. Feed the T newest frames (oldest first) and the audio that ends with them."
)


def dtfsal_io_spec(cfg: DTFSalConfig) -> IOSpec:
    t, h, w = cfg.frames, cfg.height, cfg.width
    seconds = cfg.audio_samples / cfg.sample_rate
    return IOSpec(
        inputs=(
            TensorSpec("frames", (1, t, 3, h, w), "float32", "N, T, C, H, W (RGB, oldest first)", (0.0, 1.0),
                       f"the clip's {t} frames resized to {h}×{w}; K400 normalisation happens in-graph"),
            TensorSpec("audio", (1, cfg.audio_samples), "float32", "N, samples (mono PCM)", (-1.0, 1.0),
                       f"the {seconds:.3f} s of {cfg.sample_rate} Hz audio ending with the last frame; log-mel in-graph"),
        ),
        outputs=(TensorSpec("saliency", (1, 1, h, w), "float32", "NCHW", (0.0, 1.0), "saliency map of the last frame"),),
        output_reading=READING,
        sample_rate=cfg.sample_rate,
        audio_window="trailing",
    )


def dtfsal_dataset(cfg: DTFSalConfig, spec: str, split: str, audio_shuffle_seed: int | None = None,
                   model: nn.Module | None = None) -> Any:
    """Windows of ``cfg.frames`` frames (target = last) with the audio that ends with them, at the model size."""
    from edgeav.data import open_dataset
    from edgeav.data.saliency import SaliencyWindows

    return SaliencyWindows(open_dataset(spec, split), frames=cfg.frames, audio_samples=cfg.audio_samples,
                           size=(cfg.height, cfg.width), audio_shuffle_seed=audio_shuffle_seed)


def dtfsal_samples(cfg: DTFSalConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Realistic graph inputs: ``n`` windows of synthetic AV saliency clips (sound decides the fixated object)."""
    from edgeav.data.saliency import SaliencyConfig, SaliencyWindows, SyntheticSaliencyClips

    frames = max(cfg.frames, math.ceil(cfg.audio_samples * SAMPLE_FPS / cfg.sample_rate))
    clips = SyntheticSaliencyClips(SaliencyConfig(frame_size=(cfg.height, cfg.width), fps=SAMPLE_FPS,
                                                  frames_per_clip=frames, sample_rate=cfg.sample_rate), size=n, seed=seed)
    windows = SaliencyWindows(clips, frames=cfg.frames, audio_samples=cfg.audio_samples)
    return [(windows[i * len(windows) // n]["frames"][None], windows[i * len(windows) // n]["audio"][None]) for i in range(n)]


register(
    ModelEntry(
        name="dtfsal",
        task="saliency",
        summary="MViTv2-S + VGGish slices, LTEB/DLTFB token blocks, tri-stream AMFB, 4-branch decoder (AV saliency teacher)",
        builder=DTFSal,
        configs=CONFIGS,
        io_spec=dtfsal_io_spec,
        samples=dtfsal_samples,
        paper=PaperFigures(
            params_m=49.08, gflops=297.91, gflops_input="32×224×384 clip + 9 log-mel slices",
            source="DTFSal Table 1 (49.08 M) and §3.2 efficiency analysis (297.91 GFLOPs at 384×224); the GFLOPs are "
                   "conv+linear MACs (shared/design/models.md §5)",
            flops_convention="conv_linear_macs",
        ),
        objective=DTFSAL_OBJECTIVE,
        float_modules=(LogMelFrontEnd,),
        upstream=UPSTREAM,
        dataset=dtfsal_dataset,
    )
)
