"""ToySeg's card: configs, I/O contract, objective, float modules — registered by its one register() line."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgeav.registry import Batch, ModelEntry, Objective, register
from edgeav.specs import IOSpec, TensorSpec
from toyseg.model import ToyAudioGate, ToySeg, ToySegConfig


def io_spec(cfg: ToySegConfig) -> IOSpec:
    s = cfg.image_size
    return IOSpec(
        inputs=(TensorSpec("frames", (1, 3, s, s), layout="NCHW RGB", value_range=(0.0, 1.0)),
                TensorSpec("audio", (1, cfg.samples_per_frame), layout="N, samples", value_range=(-1.0, 1.0))),
        outputs=(TensorSpec("mask", (1, 1, s, s), layout="NCHW", value_range=(0.0, 1.0)),),
        output_reading="threshold mask[0, 0] at 0.5", sample_rate=16000, samples_per_frame=cfg.samples_per_frame,
        labels=("background", "sounding"),
    )


def samples(cfg: ToySegConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    rng = np.random.default_rng(seed)
    t = np.arange(cfg.samples_per_frame) / 16000
    return [(torch.from_numpy(rng.uniform(0, 1, (1, 3, cfg.image_size, cfg.image_size)).astype(np.float32)),
             torch.from_numpy((0.3 * np.sin(2 * np.pi * rng.uniform(200, 2000) * t))[None].astype(np.float32)))
            for _ in range(n)]


def _loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
    loss = F.binary_cross_entropy_with_logits(net(batch["frames"], batch["audio"]), batch["mask"])
    return {"loss": loss}


register(ModelEntry(
    name="toyseg", task="segmentation", summary="test toy: frame + PCM -> mask",
    builder=ToySeg, configs={"small": ToySegConfig()}, io_spec=io_spec, samples=samples, default_config="small",
    objective=Objective(loss=_loss, logits=lambda model, batch: model.forward_train(batch["frames"], batch["audio"]),
                        task="segmentation"),
    float_modules=(ToyAudioGate,),
))
