"""Evaluation with the task metric on a held-out split (AVSBench Jaccard and F-score)."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from edgeav.metrics import SegmentationMeter
from edgeav.train.objectives import Objective
from edgeav.train.samples import annotated_only


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, dataset: Dataset, batch_size: int = 8, device: torch.device | None = None) -> dict[str, float]:
    """mIoU and F-score (both in [0, 1]) over the annotated frames of ``dataset``."""
    was_training = model.training
    model.eval()
    meter = SegmentationMeter()
    device = device or torch.device("cpu")
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        batch = annotated_only(default_collate(items))
        if len(batch["mask"]) == 0:
            continue
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        logits = objective.logits(model, batch)
        meter.update(logits.cpu(), batch["mask"].cpu())
    model.train(was_training)
    return meter.compute()
