"""Evaluation with the task metric on a held-out split, for a PyTorch model or an exported artifact.

Binary AVS data (S4, MS3) is scored with AVSBench's Jaccard and F-score; semantic data (AVSS, a head with
more than one output channel) with per-category IoU and F from a confusion matrix. The same loop scores
a model in eager mode and the artifact an app will ship, so the two numbers can be put side by side.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from edgeav.errors import InputShapeError
from edgeav.metrics import SegmentationMeter, SemanticSegmentationMeter
from edgeav.train.objectives import Batch, Objective
from edgeav.train.samples import annotated_only

# batch -> per-pixel scores [B, C, H, W] (logits or probabilities, see ``score(from_logits=...)``).
Predict = Callable[[Batch], torch.Tensor]


class _TaskMeter:
    """Picks the binary or the semantic meter from the first prediction's channel count."""

    def __init__(self, from_logits: bool) -> None:
        self.from_logits = from_logits
        self.meter: SegmentationMeter | SemanticSegmentationMeter | None = None

    def update(self, scores: torch.Tensor, batch: Batch) -> None:
        channels = scores.shape[1]
        if self.meter is None:
            self.meter = (SegmentationMeter(from_logits=self.from_logits) if channels == 1
                          else SemanticSegmentationMeter(channels))
        if channels == 1:
            self.meter.update(scores, batch["mask"])
        elif "semantic" not in batch:
            raise InputShapeError(
                f"the model predicts {channels} classes but the data has no semantic labels; "
                "evaluate on an AVSS-like dataset (synthetic-avss, avsbench-avss:PATH)"
            )
        else:
            self.meter.update(scores, batch["semantic"])

    def compute(self) -> dict[str, Any]:
        return self.meter.compute() if self.meter is not None else {"miou": 0.0, "fscore": 0.0, "frames": 0.0}


def score(predict: Predict, dataset: Dataset, batch_size: int, from_logits: bool) -> dict[str, Any]:
    """The task metric of ``predict`` over the annotated frames of ``dataset``."""
    meter = _TaskMeter(from_logits)
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        batch = annotated_only(default_collate(items))
        if len(batch["mask"]) == 0:
            continue
        meter.update(predict(batch).cpu(), batch)
    return meter.compute()


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, dataset: Dataset, batch_size: int = 8,
             device: torch.device | None = None) -> dict[str, Any]:
    """mIoU and F-score (both in [0, 1]) of a PyTorch model over the annotated frames of ``dataset``."""
    was_training = model.training
    model.eval()
    device = device or torch.device("cpu")

    def predict(batch: Batch) -> torch.Tensor:
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        return objective.logits(model, batch)

    try:
        return score(predict, dataset, batch_size, from_logits=True)
    finally:
        model.train(was_training)


class ArtifactRunner(Protocol):
    """What this module needs of ``export_targets.base.Runner`` (edgeav.train does not import export_targets)."""

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]: ...


def evaluate_artifact(runner: ArtifactRunner, dataset: Dataset, batch_size: int = 8) -> dict[str, Any]:
    """The task metric measured on an exported artifact: every frame goes through the artifact itself.

    Artifacts are exported with batch 1, so each sample is run on its own; outputs are probabilities.
    """
    def predict(batch: Batch) -> torch.Tensor:
        outs = [runner.run([batch["frames"][i : i + 1], batch["audio"][i : i + 1]])[0]
                for i in range(len(batch["frames"]))]
        return torch.from_numpy(np.concatenate(outs, 0)).float()

    return score(predict, dataset, batch_size, from_logits=False)
