"""Label-free QAT: the fp32 model teaches its fake-quantized copy on unlabeled clips.

The student matches the teacher's logits (binary: BCE against the teacher's probabilities; classes: KL
between softmaxes) and, optionally, its intermediate features (MSE on channel-normalised maps of the
output fields named in ``feature_fields``). When the batch carries masks and ``task_weight`` > 0 the
model's own training loss is added. Either way it is an :class:`Objective`, so the ordinary
:class:`~edgeav.train.trainer.Trainer` runs it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from edgeav.train.objectives import Batch, Objective


@dataclass(frozen=True)
class DistillConfig:
    output_weight: float = 1.0
    feature_weight: float = 0.0  # 0: outputs only
    feature_fields: tuple[str, ...] = ("decoder_features",)
    task_weight: float = 1.0  # used only on batches that carry masks


def logits_of(output: Any) -> torch.Tensor:
    """The logits of a training output (``.logits`` by convention, else the output itself)."""
    return getattr(output, "logits", output)


def output_distillation(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Match student logits to teacher logits (one channel: BCE on soft targets; else softmax KL)."""
    if student.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(student, torch.sigmoid(teacher))
    return F.kl_div(F.log_softmax(student, 1), F.log_softmax(teacher, 1), log_target=True, reduction="batchmean") / (
        student.shape[-1] * student.shape[-2]
    )


def feature_distillation(student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean MSE between channel-normalised feature maps (scale-free: layers of any magnitude weigh alike)."""
    terms = [F.mse_loss(F.normalize(s, dim=1), F.normalize(t, dim=1)) for s, t in zip(student, teacher)]
    return torch.stack(terms).mean()


def has_labels(batch: Batch) -> bool:
    mask = batch.get("mask")
    return torch.is_tensor(mask) and mask.numel() > 0


def distillation_objective(
    teacher: nn.Module, input_names: Sequence[str], cfg: DistillConfig, task: Objective | None = None
) -> Objective:
    """An Objective whose loss is distillation from ``teacher`` (+ ``task`` when the batch has masks).

    ``input_names`` are the batch keys the model takes, in order (the IOSpec input names).
    """
    # The teacher runs under no_grad; its parameters' requires_grad flags are left alone because the caller's
    # model is often prepared again afterwards (a second QAT run deep-copies those flags).
    teacher.eval()

    def inputs(batch: Batch) -> list[torch.Tensor]:
        return [batch[name] for name in input_names]

    def loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        student_out = net(*inputs(batch))
        with torch.no_grad():
            teacher_out = teacher.forward_train(*inputs(batch)) if hasattr(teacher, "forward_train") else teacher(*inputs(batch))
        parts = {"distill": output_distillation(logits_of(student_out), logits_of(teacher_out))}
        total = cfg.output_weight * parts["distill"]
        if cfg.feature_weight:
            for name in cfg.feature_fields:
                if hasattr(student_out, name):
                    parts[f"feat_{name}"] = feature_distillation(getattr(student_out, name), getattr(teacher_out, name))
                    total = total + cfg.feature_weight * parts[f"feat_{name}"]
        if task is not None and cfg.task_weight and has_labels(batch):
            # The task objective runs ``net`` itself; hand it the student output computed above.
            task_parts = task.loss(lambda *_: student_out, model, batch)
            parts["task"] = task_parts["loss"]
            total = total + cfg.task_weight * parts["task"]
        parts["loss"] = total
        return parts

    def logits(model: nn.Module, batch: Batch) -> torch.Tensor:
        return logits_of(model.forward_train(*inputs(batch)))

    return Objective(loss=loss, logits=logits)


class WithoutLabels(Dataset):
    """A frame dataset with its masks hidden: what a user with only raw video + audio has.

    The trainer forms batches from samples marked annotated and counts them by their mask, so each sample
    keeps ``annotated`` and an empty ``mask`` (zero elements: :func:`has_labels` is False).
    """

    def __init__(self, frames: Dataset) -> None:
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.frames[index])
        item["mask"] = torch.zeros(0)
        item["annotated"] = True
        return item
