"""ToySal's card: configs, I/O contract, samples from saliency clips, objective — one register() line."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from edgeav.data import open_dataset
from edgeav.data.saliency.samples import SaliencyWindows
from edgeav.registry import Batch, ModelEntry, Objective, register
from edgeav.specs import IOSpec, TensorSpec
from toysal.model import ToyLoudness, ToySal, ToySalConfig


def io_spec(cfg: ToySalConfig) -> IOSpec:
    h, w = cfg.frame_size
    return IOSpec(
        inputs=(TensorSpec("frames", (1, 3, h, w), layout="NCHW RGB", value_range=(0.0, 1.0)),
                TensorSpec("audio", (1, cfg.audio_samples), layout="N, samples", value_range=(-1.0, 1.0))),
        outputs=(TensorSpec("saliency", (1, 1, h, w), layout="NCHW", value_range=(0.0, 1.0)),),
        output_reading="saliency map in (0, 1); stretch per frame for display", sample_rate=16000,
        samples_per_frame=cfg.audio_samples,
    )


def samples(cfg: ToySalConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(1, 3, *cfg.frame_size, generator=g), 0.2 * torch.randn(1, cfg.audio_samples, generator=g))
            for _ in range(n)]


class _CurrentFrame(Dataset):
    """Windows of one frame, with the frame axis dropped: ``frames`` [3, H, W] as the graph takes it."""

    def __init__(self, windows: SaliencyWindows) -> None:
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.windows[index])
        item["frames"] = item["frames"][0]
        return item


def dataset(cfg: ToySalConfig, spec: str, split: str, audio_shuffle_seed: int | None, model: nn.Module | None) -> Dataset:
    clips = open_dataset(spec, split)
    return _CurrentFrame(SaliencyWindows(clips, frames=1, audio_samples=cfg.audio_samples, size=cfg.frame_size,
                                         audio_shuffle_seed=audio_shuffle_seed))


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    pred = net(batch["frames"], batch["audio"])
    return {"loss": F.binary_cross_entropy(pred.clamp(1e-6, 1 - 1e-6), batch["saliency"])}


register(ModelEntry(
    name="toysal", task="saliency", summary="test toy: frame + audio window -> saliency map",
    builder=ToySal, configs={"small": ToySalConfig()}, io_spec=io_spec, samples=samples, default_config="small",
    objective=Objective(loss=_loss, logits=lambda model, batch: model(batch["frames"], batch["audio"]), task="saliency"),
    dataset=dataset,
    float_modules=(ToyLoudness,),
))
