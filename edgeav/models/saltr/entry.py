"""SalTR's registry entry: configs, the image-in / map-and-points-out contract, objective, paper figures."""
from __future__ import annotations

from typing import Any

import torch

from edgeav.models.saltr.configs import CONFIGS
from edgeav.models.saltr.model import SalTR
from edgeav.models.saltr.objective import SALTR_OBJECTIVE
from edgeav.registry import ModelEntry, PaperFigures, register
from edgeav.specs import IOSpec, TensorSpec

READING = (
    "saliency [1,1,H,W] in [0, 1] (max-normalised sum of the queries' Gaussians, σ = 19 px at 480×640): colormap it "
    "as is, or divide by its sum for a probability map. fixations [1,N,3] rows are (x, y, p): x, y in [0, 1] of the "
    "image width/height, p = probability the query is a fixation; draw the rows with p ≥ 0.5."
)


def image_saliency_io_spec(cfg: Any) -> IOSpec:
    """One RGB image in; the map and (for set predictors) the fixation queries out."""
    h, w = cfg.image_size
    outputs = [TensorSpec("saliency", (1, 1, h, w), "float32", "NCHW", (0.0, 1.0), "saliency map of the image")]
    if getattr(cfg, "num_queries", 0):
        outputs.append(TensorSpec("fixations", (1, cfg.num_queries, 3), "float32", "N, queries, (x, y, p)", (0.0, 1.0),
                                  "every fixation query: normalised point and fixation probability (no NMS)"))
    return IOSpec(
        inputs=(TensorSpec("image", (1, 3, h, w), "float32", "NCHW, RGB", (0.0, 1.0),
                           "the image resized to the model size; ImageNet normalisation happens in-graph"),),
        outputs=tuple(outputs),
        output_reading=READING if len(outputs) > 1 else READING.split(" fixations")[0],
    )


def still_image_samples(cfg: Any, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Realistic inputs: ``n`` synthetic still images at the model size."""
    from edgeav.data.saliency import SaliencyConfig, SyntheticSaliencyImages

    images = SyntheticSaliencyImages(SaliencyConfig(frame_size=tuple(cfg.image_size)), size=n, seed=seed)
    return [(images[i].image[None].contiguous(),) for i in range(n)]


def saltr_dataset(cfg: Any, spec: str, split: str, audio_shuffle_seed: int | None = None, model: Any = None) -> Any:
    """Still-image samples of ``spec`` at the model size, at most ``num_queries`` fixations each (100 for a
    dense model). Images have no audio, so ``audio_shuffle_seed`` has nothing to shuffle."""
    from edgeav.data import open_dataset
    from edgeav.data.saliency.fixations import FixationSamples

    return FixationSamples(open_dataset(spec, split), size=tuple(cfg.image_size), max_fixations=getattr(cfg, "num_queries", 100))


register(
    ModelEntry(
        name="saltr",
        task="saliency",
        summary="ResNet-50 + DETR encoder-decoder, 100 fixation queries, Hungarian matching, in-graph Gaussian map",
        builder=SalTR,
        configs=CONFIGS,
        io_spec=image_saliency_io_spec,
        samples=still_image_samples,
        paper=PaperFigures(
            params_m=41.3, gflops_input="480×640 image (SALICON)",
            source="no SalTR figures; DETR-R50's 41.3 M params (Carion et al. 2020, Table 1), whose architecture SalTR uses",
        ),
        objective=SALTR_OBJECTIVE,
        dataset=saltr_dataset,
    )
)
