"""Tasks: what a model predicts and how that prediction is scored, read by evaluation, the int8 gate,
the CLI summaries, the bench tables and the manifests.

A :class:`Task` names its metrics (with their direction: KLD is better lower), the headline metric that
gates and ranks, the ground-truth keys a batch must carry, a meter that accumulates the metrics over a
split, and the machine-readable rule an app applies to the model's output. Scores are kept in the
metric's own units ([0, 1] for mIoU and CC); tables and the gate read them in *points*
(``value × Metric.points``: mIoU × 100, as AVSBench reports it; CC as saliency papers report it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from edgeav.errors import InputShapeError, UsageError
from edgeav.metrics import SaliencyMeter, SegmentationMeter, SemanticSegmentationMeter


@dataclass(frozen=True)
class Metric:
    """One score of a task: its key in a meter's result, how tables title it, and its direction."""

    key: str
    title: str
    higher_is_better: bool = True
    points: float = 1.0  # what one unit of the score is in table/gate points
    decimals: int = 3  # digits tables print (in points)


class Meter(Protocol):
    """Accumulates a task's metrics over a split, one batch of predictions at a time."""

    def update(self, scores: torch.Tensor, batch: Mapping[str, Any]) -> None: ...

    def compute(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Task:
    """A prediction task: its metrics, headline, ground truth, meter and output reading."""

    name: str
    metrics: tuple[Metric, ...]
    headline: str  # the metric key that gates int8 and heads tables
    targets: tuple[str, ...]  # batch keys holding the ground truth (the first one is required)
    make_meter: Callable[[bool], Meter]  # from_logits -> an empty meter
    reading: Callable[[str, int, Sequence[str]], dict[str, Any]]  # (output name, channels, labels) -> rule
    default_max_drop: float  # int8 gate: headline points an artifact may lose by default

    def meter(self, from_logits: bool = True) -> Meter:
        """An empty meter; ``from_logits``: predictions are pre-activation scores (eager), else the
        deployed output (an artifact's probabilities or map)."""
        return self.make_meter(from_logits)

    def metric(self, key: str) -> Metric:
        for m in self.metrics:
            if m.key == key:
                return m
        raise UsageError(f"task '{self.name}' has no metric '{key}'; its metrics: {', '.join(self.keys)}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.metrics)

    @property
    def headline_metric(self) -> Metric:
        return self.metric(self.headline)

    @property
    def higher_is_better(self) -> bool:
        return self.headline_metric.higher_is_better

    @property
    def title(self) -> str:
        """The headline's title ("mIoU", "CC"): what a table column or a gate message calls it."""
        return self.headline_metric.title

    def points(self, scores: Mapping[str, Any]) -> dict[str, float]:
        """The metrics present in ``scores`` in points, rounded one digit past what tables print."""
        return {m.key: round(m.points * float(scores[m.key]), m.decimals + 1) for m in self.metrics if m.key in scores}

    def headline_points(self, scores: Mapping[str, Any]) -> float:
        """The headline metric of ``scores`` in points, unrounded (what rankings and sensitivity compare)."""
        return self.headline_metric.points * float(scores[self.headline])

    def drop(self, reference: Mapping[str, float], candidate: Mapping[str, float]) -> float:
        """How much worse ``candidate`` is than ``reference`` on the headline (both in points): positive
        is a loss whichever way the metric points."""
        diff = reference[self.headline] - candidate[self.headline]
        return diff if self.higher_is_better else -diff

    def format(self, scores: Mapping[str, Any]) -> dict[str, str]:
        """The metrics present in ``scores`` (raw units) as table strings, in points."""
        return {m.key: f"{m.points * float(scores[m.key]):.{m.decimals}f}" for m in self.metrics if m.key in scores}

    def output_reading(self, output: str, channels: int, labels: Sequence[str] = ()) -> dict[str, Any]:
        """How an app reads output ``output`` of ``channels`` channels (the manifest's post-processing rule)."""
        return self.reading(output, channels, labels)

    def check_batch(self, batch: Mapping[str, Any]) -> None:
        """InputShapeError unless ``batch`` carries this task's ground truth."""
        if self.targets[0] not in batch:
            raise InputShapeError(
                f"the data has no '{self.targets[0]}' ground truth for a {self.name} model (its keys: "
                f"{', '.join(sorted(batch))}); evaluate on {self.name} data"
            )


class SegmentationTaskMeter:
    """The binary (AVSBench J/F) or the semantic (per-category IoU/F) meter, picked from the first
    prediction's channel count."""

    def __init__(self, from_logits: bool) -> None:
        self.from_logits = from_logits
        self.meter: SegmentationMeter | SemanticSegmentationMeter | None = None

    def update(self, scores: torch.Tensor, batch: Mapping[str, Any]) -> None:
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


class SaliencyTaskMeter:
    """CC, SIM and KLD against the density map; NSS and AUC-Judd against the fixation map when the data
    has one. Predictions are maps in both modes: a saliency objective's ``logits`` returns the deployed
    map (saliency models end in their own normalisation, and the metrics are defined on maps)."""

    def __init__(self, from_logits: bool) -> None:
        del from_logits  # a map either way
        self.meter = SaliencyMeter()

    def update(self, scores: torch.Tensor, batch: Mapping[str, Any]) -> None:
        if scores.shape[1] != 1:
            raise InputShapeError(f"a saliency model predicts one map per frame [B, 1, H, W], got {tuple(scores.shape)}")
        self.meter.update(scores, batch["saliency"], batch.get("fixations"))

    def compute(self) -> dict[str, Any]:
        return self.meter.compute()


def _segmentation_reading(output: str, channels: int, labels: Sequence[str]) -> dict[str, Any]:
    if channels == 1:
        return {"kind": "threshold", "output": output, "channel": 0, "value": 0.5}
    return {"kind": "argmax", "output": output, "axis": 1, "background": 0, "labels": list(labels)}


def _saliency_reading(output: str, channels: int, labels: Sequence[str]) -> dict[str, Any]:
    # The map is positive with an arbitrary scale: apps stretch it to [0, 1] per frame before the colormap.
    return {"kind": "saliency", "output": output, "channel": 0, "normalize": "min-max", "colormap": "jet"}


SEGMENTATION = Task(
    name="segmentation",
    metrics=(Metric("miou", "mIoU", points=100.0, decimals=2), Metric("fscore", "F", points=100.0, decimals=2)),
    headline="miou",
    targets=("mask", "semantic"),
    make_meter=SegmentationTaskMeter,
    reading=_segmentation_reading,
    default_max_drop=2.0,
)

SALIENCY = Task(
    name="saliency",
    metrics=(Metric("cc", "CC"), Metric("nss", "NSS"), Metric("auc_judd", "AUC-J"), Metric("sim", "SIM"),
             Metric("kld", "KLD", higher_is_better=False)),
    headline="cc",
    targets=("saliency", "fixations"),
    make_meter=SaliencyTaskMeter,
    reading=_saliency_reading,
    default_max_drop=0.02,  # CC: the gate for saliency students
)

TASKS: dict[str, Task] = {t.name: t for t in (SEGMENTATION, SALIENCY)}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise UsageError(f"unknown task '{name}'; a model entry's task is one of: {', '.join(TASKS)}")
    return TASKS[name]
