"""Evaluation with the task's metrics on a held-out split, for a PyTorch model or an exported artifact.

The task (:mod:`edgeav.tasks`) says what is measured: AVSBench's Jaccard and F-score for binary
segmentation, per-category IoU and F for semantic data (a head with more than one output channel), CC,
NSS, AUC-Judd, SIM and KLD for saliency. The same loop scores a model in eager mode and the artifact an
app will ship, so the two numbers can be put side by side.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from edgeav.errors import DataError
from edgeav.registry import Batch, Objective
from edgeav.tasks import Task, get_task
from edgeav.train.samples import annotated_only

# batch -> per-pixel scores [B, C, H, W] (logits or the deployed output, see ``score(from_logits=...)``).
Predict = Callable[[Batch], torch.Tensor]


# Skipped samples an evaluation lists by message (the count is always complete).
MAX_LISTED = 20


def score(predict: Predict, dataset: Dataset, batch_size: int, task: Task, from_logits: bool) -> dict[str, Any]:
    """``task``'s metrics of ``predict`` over the annotated frames of ``dataset``.

    A sample whose files cannot be read (a DataError naming the file) is skipped and counted: the scores
    then carry ``skipped`` (how many) and ``skipped_files`` (the first messages). When every sample is
    unreadable the evaluation fails instead, naming the first file.
    """
    meter = task.meter(from_logits)
    problems: list[str] = []
    for start in range(0, len(dataset), batch_size):
        items = []
        for i in range(start, min(start + batch_size, len(dataset))):
            try:
                items.append(dataset[i])
            except DataError as exc:
                problems.append(f"sample {i}: {exc}")
        if not items:
            continue
        batch = annotated_only(default_collate(items))
        if len(batch["annotated"]) == 0:
            continue
        task.check_batch(batch)
        meter.update(predict(batch).cpu(), batch)
    if problems and len(problems) == len(dataset):
        raise DataError(f"every sample of the evaluation set is unreadable; the first: {problems[0]}")
    scores = meter.compute()
    if problems:
        scores.update(skipped=len(problems), skipped_files=problems[:MAX_LISTED])
    return scores


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, dataset: Dataset, batch_size: int = 8,
             device: torch.device | None = None) -> dict[str, Any]:
    """The metrics of ``objective.task`` (in their own units, e.g. mIoU in [0, 1]) of a PyTorch model
    over the annotated frames of ``dataset``; the model predicts through ``objective.logits``."""
    was_training = model.training
    model.eval()
    device = device or torch.device("cpu")

    def predict(batch: Batch) -> torch.Tensor:
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        return objective.logits(model, batch)

    try:
        return score(predict, dataset, batch_size, get_task(objective.task), from_logits=True)
    finally:
        model.train(was_training)


class ArtifactRunner(Protocol):
    """What this module needs of an export runner (edgeav.train does not import export_targets)."""

    def run(self, inputs: Sequence[torch.Tensor | np.ndarray]) -> list[np.ndarray]: ...


def evaluate_artifact(runner: ArtifactRunner, dataset: Dataset, task: Task, input_names: Sequence[str],
                      batch_size: int = 8) -> dict[str, Any]:
    """``task``'s metrics measured on an exported artifact: every frame goes through the artifact itself.

    ``input_names``: the batch keys the artifact takes, in order (its IOSpec input names). Artifacts are
    exported with batch 1, so each sample is run on its own; the first output is the deployed prediction.
    """
    def predict(batch: Batch) -> torch.Tensor:
        count = len(batch[input_names[0]])
        outs = [runner.run([batch[name][i : i + 1] for name in input_names])[0] for i in range(count)]
        return torch.from_numpy(np.concatenate(outs, 0)).float()

    return score(predict, dataset, batch_size, task, from_logits=False)
