"""LightAVSeg's registry entry: configs, I/O contract, objective, int8 float modules, upstream trunk weights
and paper figures."""
from __future__ import annotations

import torch

from edgeav.audio import LogMelFrontEnd
from edgeav.models.lightavseg.configs import (
    LIGHTAVSEG_AVSS,
    LIGHTAVSEG_PAPER,
    LIGHTAVSEG_SMALL,
    LIGHTAVSEG_SMALL_AVSS,
    LightAVSegConfig,
)
from edgeav.models.lightavseg.model import LightAVSeg
from edgeav.models.lightavseg.objective import LIGHTAVSEG_OBJECTIVE
from edgeav.models.lightavseg.weights import load_panns_weights, load_seaformer_weights
from edgeav.models.segmentation import frame_audio_io_spec, scene_samples
from edgeav.registry import ModelEntry, PaperFigures, register


def lightavseg_samples(cfg: LightAVSegConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Realistic inputs from ``n`` MS3-like synthetic scenes (AVSS-like scenes for a semantic head)."""
    return scene_samples(cfg, n, seed, "ms3" if cfg.num_classes == 1 else "avss")


register(
    ModelEntry(
        name="lightavseg",
        task="segmentation",
        summary="SeaFormer-L + PANNs MobileNetV2, reciprocal AV encoder, fusion decoder (ICML 2026)",
        builder=LightAVSeg,
        configs={"paper": LIGHTAVSEG_PAPER, "small": LIGHTAVSEG_SMALL,
                 "avss": LIGHTAVSEG_AVSS, "small-avss": LIGHTAVSEG_SMALL_AVSS},
        io_spec=frame_audio_io_spec,
        samples=lightavseg_samples,
        paper=PaperFigures(
            params_m=20.5, gflops=2.70, gflops_input="224×224 + one log-mel example",
            source="LightAVSeg Table 1 (20.5 M) and Table 3 (SeaFormer-L row, 2.70 G)",
            flops_excludes=("frontend",),
        ),
        objective=LIGHTAVSEG_OBJECTIVE,
        # The log-mel power spans ~1e-10 … 6.5e4 before its log: no one per-tensor int8 scale holds it.
        float_modules=(LogMelFrontEnd,),
        upstream={"seaformer": load_seaformer_weights, "panns": load_panns_weights},
    )
)
