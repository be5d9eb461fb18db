"""Distillation: a teacher model teaches a student; label-free QAT (:mod:`quantize.api`) uses it with the
fp32 model teaching its fake-quantized copy on unlabeled clips.

The student matches the teacher's logits (binary: BCE against the teacher's probabilities; classes: KL
between softmaxes) and, optionally, its intermediate features (MSE on channel-normalised maps of the
output fields named in ``feature_fields``). When the batch carries masks and ``task_weight`` > 0 the
model's own training loss is added. Either way it is an :class:`Objective`, so the ordinary
:class:`~edgeav.train.trainer.Trainer` runs it.

Saliency students are matched on maps instead (students.md A2: TinyHD's recipe with the teacher's own loss):

    teacher_weight · (KL − CC)(student map, teacher map)
  + label_weight   · (KL − CC)(student map, ground truth)            on labelled samples only
  + side_weight    · mean_i KL(student side map i, teacher s_i)
  + hint_weight    · mean_i MSE(adapter_i(student feature i), teacher feature i pooled over time)

:func:`saliency_distillation_objective` is DTFSal → DTFSal-S, whose teacher and student read different
windows (clip length, audio) of the same sample; label-free QAT of a saliency model uses the same terms
through :func:`distillation_objective`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from edgeav.errors import CheckpointError, UsageError
from edgeav.models.saliency_losses import kl_cc_loss, kl_div
from edgeav.registry import Batch, Objective


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
    """Whether ``batch`` carries ground truth: masks (segmentation) or any labelled saliency map."""
    if "saliency" in batch:
        return bool(torch.as_tensor(batch.get("labelled", True)).any())
    mask = batch.get("mask")
    return torch.is_tensor(mask) and mask.numel() > 0


def _segmentation_terms(student: Any, teacher: Any) -> dict[str, torch.Tensor]:
    return {"distill": output_distillation(logits_of(student), logits_of(teacher))}


def _saliency_terms(student: Any, teacher: Any) -> dict[str, torch.Tensor]:
    return saliency_terms(student, teacher, SaliencyDistillConfig())


# How a student's output is matched to its teacher's, and what evaluation reads as its prediction, per task.
OUTPUT_TERMS = {"segmentation": _segmentation_terms, "saliency": _saliency_terms}
PREDICTION = {"segmentation": logits_of, "saliency": lambda out: saliency_maps(out)[0]}


def distillation_objective(
    teacher: nn.Module, input_names: Sequence[str], cfg: DistillConfig, task: Objective | None = None,
    metrics_task: str | None = None,
) -> Objective:
    """An Objective whose loss is distillation from ``teacher`` (+ ``task`` when the batch has masks).

    ``input_names`` are the batch keys the model takes, in order (the IOSpec input names).
    ``metrics_task``: the task evaluation scores the student on (default: ``task``'s).
    """
    evaluated_as = metrics_task or (task.task if task is not None else None)
    if evaluated_as is None:
        raise UsageError("distillation without a task objective needs metrics_task (e.g. 'segmentation')")
    # The teacher runs under no_grad; its parameters' requires_grad flags are left alone because the caller's
    # model is often prepared again afterwards (a second QAT run deep-copies those flags).
    teacher.eval()

    def inputs(batch: Batch) -> list[torch.Tensor]:
        return [batch[name] for name in input_names]

    def loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        student_out = net(*inputs(batch))
        with torch.no_grad():
            teacher_out = teacher.forward_train(*inputs(batch)) if hasattr(teacher, "forward_train") else teacher(*inputs(batch))
        parts = OUTPUT_TERMS[evaluated_as](student_out, teacher_out)
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
        return PREDICTION[evaluated_as](model.forward_train(*inputs(batch)))

    if evaluated_as not in OUTPUT_TERMS:
        raise UsageError(f"no distillation loss for task '{evaluated_as}'; tasks with one: {', '.join(OUTPUT_TERMS)}")
    return Objective(loss=loss, logits=logits, task=evaluated_as)


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
        if "saliency" in item:
            item["labelled"] = False  # saliency samples say it per sample; their maps stay for the shapes
        else:
            item["mask"] = torch.zeros(0)
        item["annotated"] = True
        return item


# ---------------------------------------------------------------------------------------------- saliency
@dataclass(frozen=True)
class SaliencyDistillConfig:
    teacher_weight: float = 1.0
    label_weight: float = 1.0  # 0: teacher only even where the data has ground truth
    side_weight: float = 0.5
    hint_weight: float = 0.0  # 0: no feature hints (and no adapters)


def saliency_maps(output: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(map, side maps) in [0, 1] of a saliency model's output: a deployed map (or a tuple led by it),
    DTFSal's ``saliency``/``side_maps``, or a student's ``logits``/``side_logits`` through their sigmoid."""
    if torch.is_tensor(output):
        return output, []
    if isinstance(output, (tuple, list)):
        return output[0], []
    if hasattr(output, "saliency"):
        return output.saliency, list(getattr(output, "side_maps", None) or [])
    return torch.sigmoid(output.logits), [torch.sigmoid(s) for s in getattr(output, "side_logits", [])]


def _fit(target: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if target.shape[-2:] == like.shape[-2:]:
        return target
    return F.interpolate(target, size=like.shape[-2:], mode="bilinear", align_corners=False)


def saliency_terms(student: Any, teacher: Any, cfg: SaliencyDistillConfig) -> dict[str, torch.Tensor]:
    """The teacher-map and side-map terms; "distill" is their weighted sum (weights from ``cfg``)."""
    s_map, s_sides = saliency_maps(student)
    t_map, t_sides = saliency_maps(teacher)
    kc = kl_cc_loss(s_map, _fit(t_map, s_map))
    parts = {"teacher_kl": kc["kl"], "teacher_cc": kc["cc"]}
    total = cfg.teacher_weight * kc["loss"]
    if cfg.side_weight and s_sides and t_sides:
        parts["side_kl"] = torch.stack([kl_div(s, _fit(t, s)) for s, t in zip(s_sides, t_sides)]).mean()
        total = total + cfg.side_weight * parts["side_kl"]
    return {**parts, "distill": total}


@dataclass(frozen=True)
class ModelWindow:
    """The part of an audio-visual saliency sample a model reads: its last ``frames`` frames and
    ``audio_samples`` (teacher and student read different windows of one sample)."""

    frames: int
    audio_samples: int

    def inputs(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        return batch["frames"][:, -self.frames :], batch["audio"][:, -self.audio_samples :]


@dataclass(frozen=True)
class NamedInputs:
    """A model that reads batch keys as they are (an image saliency model: ``("image",)``)."""

    names: tuple[str, ...]

    def inputs(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        return tuple(batch[n] for n in self.names)


class TeacherCache:
    """The frozen teacher's outputs per sample (clip, frame): samples are deterministic and the teacher is in
    eval mode, so each sample's outputs are computed once and reused every epoch (results do not change)."""

    def __init__(self, teacher: nn.Module, window: ModelWindow | NamedInputs, features: bool) -> None:
        self.teacher, self.window, self.features = teacher, window, features
        self.store: dict[tuple[int, int], tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]] = {}

    @torch.no_grad()
    def __call__(self, batch: Batch) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        keys = list(zip(batch["clip"].tolist(), batch["frame"].tolist()))
        if not all(k in self.store for k in keys):
            out = self.teacher.forward_train(*self.window.inputs(batch))
            t_map, t_sides = saliency_maps(out)
            feats = [f.mean(2) if f.dim() == 5 else f for f in out.features] if self.features else []
            for i, key in enumerate(keys):
                self.store[key] = (t_map[i].cpu(), [t[i].cpu() for t in t_sides], [f[i].cpu() for f in feats])
        rows = [self.store[k] for k in keys]
        device = next(v.device for v in batch.values() if torch.is_tensor(v))

        def column(pick) -> torch.Tensor:
            return torch.stack([pick(r) for r in rows]).to(device)

        sides = [column(lambda r, i=i: r[1][i]) for i in range(len(rows[0][1]))]
        feats = [column(lambda r, i=i: r[2][i]) for i in range(len(rows[0][2]))]
        return column(lambda r: r[0]), sides, feats


class DistillationStudent(nn.Module):
    """The student with its 1×1 hint adapters: what the trainer optimizes and checkpoints (``student.*``)."""

    def __init__(self, student: nn.Module, adapters: nn.ModuleList | None = None) -> None:
        super().__init__()
        self.student = student
        self.adapters = adapters if adapters is not None else nn.ModuleList()
        self.cfg = getattr(student, "cfg", None)

    def forward_train(self, *inputs: torch.Tensor) -> Any:
        return self.student.forward_train(*inputs)


def hint_loss(adapters: nn.ModuleList, student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean MSE of channel-normalised adapted student features against the teacher's (resized to them)."""
    adapted = [_fit(a(s), t) for a, s, t in zip(adapters, student, teacher)]
    return feature_distillation(adapted, teacher)


def saliency_distillation_objective(
    teacher: nn.Module, teacher_window: ModelWindow | NamedInputs, student_window: ModelWindow | NamedInputs,
    cfg: SaliencyDistillConfig,
) -> Objective:
    """DTFSal → DTFSal-S. ``model`` is a :class:`DistillationStudent`; the teacher is frozen in eval mode and
    run once per sample (:class:`TeacherCache`). Unlabelled samples (``labelled`` False) get the teacher only."""
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    cache = TeacherCache(teacher, teacher_window, features=cfg.hint_weight > 0)

    def loss(net: nn.Module, model: nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        out = net(*student_window.inputs(batch))
        t_map, t_sides, t_feats = cache(batch)
        parts = saliency_terms(out, _Maps(t_map, t_sides), cfg)
        total = parts["distill"]
        keep = torch.as_tensor(batch.get("labelled", True), dtype=torch.bool).expand(len(t_map))
        if cfg.label_weight and bool(keep.any()):
            gt = kl_cc_loss(saliency_maps(out)[0][keep], batch["saliency"][keep])
            parts.update(label_kl=gt["kl"], label_cc=gt["cc"])
            total = total + cfg.label_weight * gt["loss"]
        if cfg.hint_weight:
            parts["hint"] = hint_loss(model.adapters, out.features, t_feats)
            total = total + cfg.hint_weight * parts["hint"]
        return {**parts, "loss": total}

    def prediction(model: nn.Module, batch: Batch) -> torch.Tensor:
        return saliency_maps(model.forward_train(*student_window.inputs(batch)))[0]

    return Objective(loss=loss, logits=prediction, task="saliency")


@dataclass
class _Maps:
    """A teacher output rebuilt from the cache (what :func:`saliency_maps` reads)."""

    saliency: torch.Tensor
    side_maps: list[torch.Tensor]


def check_teacher_checkpoint(meta: dict[str, Any] | None, teacher: str, path: Any) -> None:
    """CheckpointError unless a trainer checkpoint's ``model_meta`` names ``teacher`` (raw state dicts pass)."""
    trained = (meta or {}).get("model")
    if trained is not None and trained != teacher:
        raise CheckpointError(
            f"--teacher-checkpoint {path} holds a '{trained}' model, not '{teacher}'; pass a checkpoint of "
            f"`edgeav train --model {teacher}`"
        )
