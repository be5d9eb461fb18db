"""The int8 accuracy gate: an artifact's headline task metric against the fp32 model's, on a held-out split.

The exporter runs the artifact itself through :meth:`AccuracyGate.score` and hands the scores to
:meth:`AccuracyGate.judge`: a loss beyond ``max_drop`` headline points (in the task's direction — a KLD
that rises is a loss) fails the export unless ``force``. The gate knows nothing of formats: it scores
whatever runner it is given.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch.utils.data import Dataset

from edgeav.errors import ExportError
from edgeav.tasks import Task, get_task
from edgeav.train.evaluate import ArtifactRunner, evaluate_artifact


@dataclass(frozen=True)
class AccuracyGate:
    """What an int8 artifact must keep: ``task``'s headline within ``max_drop`` points of ``fp32_scores``."""

    task: Task
    max_drop: float  # headline points (mIoU × 100; CC as is)
    force: bool = False
    split: str = "test"
    data: str | None = None
    eval_set: Dataset | None = None  # None: nothing to score on (the gate records why it was skipped)
    input_names: Sequence[str] = ()
    fp32_scores: Mapping[str, Any] = field(default_factory=dict)

    def skip_reason(self) -> str:
        return "" if self.eval_set is not None else "no --data to evaluate on"

    def score(self, runner: ArtifactRunner) -> dict[str, Any]:
        """The task's metrics of an artifact's runner on the gate's split."""
        assert self.eval_set is not None, "score() on a gate without data; check skip_reason() first"
        return evaluate_artifact(runner, self.eval_set, self.task, tuple(self.input_names))

    def _base(self) -> dict[str, Any]:
        return {"task": self.task.name, "metric": self.task.title, "headline": self.task.headline,
                "higher_is_better": self.task.higher_is_better, "split": self.split, "data": self.data,
                "max_drop_points": self.max_drop, "fp32": self.task.points(self.fp32_scores)}

    def skipped(self, reason: str) -> dict[str, Any]:
        """The accuracy record of an artifact that could not be scored here."""
        return {**self._base(), "status": "skipped", "reason": reason}

    def judge(self, fmt: str, scores: Mapping[str, Any]) -> dict[str, Any]:
        """The accuracy record of ``fmt``'s artifact; ExportError past ``max_drop`` unless forced."""
        base = self._base()
        int8 = self.task.points(scores)
        drop = self.task.drop(base["fp32"], int8)
        record = {**base, "int8": int8, "drop_points": round(drop, 3), "frames": int(scores.get("frames", 0))}
        if drop <= self.max_drop:
            return {**record, "status": "passed"}
        if self.force:
            return {**record, "status": "forced"}
        key, digits = self.task.headline, self.task.headline_metric.decimals
        raise ExportError(
            f"{fmt} int8 artifact loses {drop:.{digits}f} {self.task.title} points on the {self.split} split "
            f"({int8[key]:.{digits}f} vs fp32 {base['fp32'][key]:.{digits}f}; --max-drop {self.max_drop:g}); "
            "fine-tune with `edgeav quantize --method qat`, keep sensitive layers float (--keep-fp32), or pass --force"
        )



def gate_summary(record: Mapping[str, Any]) -> str:
    """One line for a gate record: "mIoU 46.46 vs fp32 46.71 (drop 0.25, passed)" or why it was skipped."""
    if "int8" not in record:
        return f"accuracy gate {record['status']}: {record.get('reason', '')}"
    key, digits = record["headline"], get_task(record["task"]).headline_metric.decimals
    return (f"{record['metric']} {record['int8'][key]:.{digits}f} vs fp32 {record['fp32'][key]:.{digits}f} "
            f"(drop {record['drop_points']:.{digits}f}, {record['status']})")
