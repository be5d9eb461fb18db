"""The int8 path of ``edgeav export``: which graph each format lowers, and the accuracy gate.

An int8 export starts from a quantized model — a saved QAT/PTQ checkpoint (``--qat-checkpoint``) or PTQ
calibrated now on ``--data`` — converted per format by its :mod:`quantize.recipes` recipe. After lowering,
the exporter runs the artifact itself on the held-out split and compares its task metric with the fp32
model's: a drop beyond ``max_drop`` points fails the export (nothing is published) unless ``force``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.errors import ExportError, UsageError
from edgeav.registry import ModelEntry
from export_targets.rewrites import REWRITES

# The export rewrites a captured int8 graph needs on every backend: the graph is captured once and then
# lowered to several formats, so the rewrite must suit them all (max pooling does; amax is not delegated;
# the matmul deformable attention and mean-reduction norms are what both ExecuTorch and LiteRT delegate).
QUANTIZATION_REWRITES = ("adaptive_max_pool_to_max_pool", "deformable_attention_to_matmul", "norm_to_mean_reduction",
                         "untie_level_depthwise_conv")
PTQ_REWRITES = ("fold_conv_batchnorm",)  # QAT folds BN itself (with batch statistics while training)


def quantization_rewrite_names(method: str) -> tuple[str, ...]:
    return QUANTIZATION_REWRITES + (PTQ_REWRITES if method == "ptq" else ())


def quantization_rewrite(method: str):
    """The model rewrite `quantize.prepare` applies before capture, for ``method`` (ptq / qat)."""
    names = quantization_rewrite_names(method)
    chosen = [r for r in REWRITES if r.name in names]

    def rewrite(model: nn.Module) -> nn.Module:
        model.eval()  # BN folding needs eval-mode statistics; capture sets the mode it needs afterwards
        for r in chosen:
            r.apply(model)
        return model

    return rewrite


@dataclass(frozen=True)
class Int8Options:
    """How `edgeav export --precision int8` gets and checks its int8 graphs."""

    qat_checkpoint: Path | None = None
    data: str | None = None  # calibration (train split) and gate (held-out split) data; default: the checkpoint's
    calibration_batches: int = 16
    calibration_batch_size: int = 8
    keep_fp32: tuple[str, ...] = ()
    max_drop: float = 2.0  # task-metric points (mIoU x 100)
    force: bool = False
    eval_split: str = "test"
    eval_limit: int = 0  # frames of the held-out split scored (0: all)
    seed: int = 0


@dataclass
class Int8Plan:
    """The quantized model, the graph each format lowers, and the fp32 metric the gate compares with."""

    entry: ModelEntry
    sim: Any  # quantize.simulated.SimulatedQuantModel (prepared, calibrated or fine-tuned)
    record: dict[str, Any]  # how it was quantized (method, data, steps, keep_fp32, ...)
    options: Int8Options
    eval_set: Any = None
    fp32_scores: dict[str, Any] = field(default_factory=dict)
    _converted: dict[bool, nn.Module] = field(default_factory=dict)

    def recipe(self, fmt: str) -> Any:
        from quantize.recipes import get_recipe

        return get_recipe("coreml" if fmt == "coreml" else fmt)

    def module_for(self, fmt: str, fp32_model: nn.Module) -> nn.Module:
        """The module ``fmt`` lowers at int8: the converted Q/DQ graph, or (weights-only recipes) the float
        model whose weights the converter quantizes."""
        recipe = self.recipe(fmt)
        if recipe.activations != "int8":
            return fp32_model
        fold = recipe.fold_quantize
        if fold not in self._converted:
            self._converted[fold] = self.sim.convert(fold_quantize=fold)
        return self._converted[fold]

    def manifest_record(self, fmt: str) -> dict[str, Any]:
        return {"scheme": self.recipe(fmt).describe(), **self.record,
                "rewrites": list(quantization_rewrite_names(self.record["method"]))}

    def gate(self, fmt: str, scores: dict[str, Any] | None, reason: str = "") -> dict[str, Any]:
        """The accuracy record for ``fmt`` and, unless forced, an ExportError when the drop is too large."""
        metric = self.entry.metric
        base = {"metric": metric, "split": self.options.eval_split, "data": self.record.get("data"),
                "max_drop_points": self.options.max_drop, "fp32": _points(self.fp32_scores)}
        if scores is None:
            return {**base, "status": "skipped", "reason": reason}
        drop = base["fp32"]["miou"] - _points(scores)["miou"]
        record = {**base, "int8": _points(scores), "drop_points": round(drop, 3), "frames": int(scores.get("frames", 0))}
        if drop <= self.options.max_drop:
            return {**record, "status": "passed"}
        if self.options.force:
            return {**record, "status": "forced"}
        raise ExportError(
            f"{fmt} int8 artifact loses {drop:.2f} {metric} points on the {self.options.eval_split} split "
            f"({record['int8']['miou']:.2f} vs fp32 {base['fp32']['miou']:.2f}; --max-drop {self.options.max_drop:g}); "
            "fine-tune with `edgeav quantize --method qat`, keep sensitive layers float (--keep-fp32), or pass --force"
        )


def _points(scores: dict[str, Any]) -> dict[str, float]:
    return {"miou": round(100 * float(scores["miou"]), 3), "fscore": round(100 * float(scores["fscore"]), 3)}


def plan_int8(
    entry: ModelEntry, model: nn.Module, config_name: str, options: Int8Options
) -> Int8Plan:
    """Quantize ``model`` for export: restore ``options.qat_checkpoint`` or calibrate PTQ on ``options.data``."""
    from edgeav.train.evaluate import evaluate
    from edgeav.train.objectives import get_objective
    from edgeav.train.samples import FrameSamples
    from quantize.api import calibrate, input_batches, prepare
    from quantize.checkpoint import read_record, restore_quantized

    config = entry.config(config_name)
    example = entry.samples(config, 1, options.seed)[0]
    names = [t.name for t in entry.io_spec(config).inputs]
    image_size = getattr(config, "image_size", None)
    record: dict[str, Any]
    if options.qat_checkpoint is not None:
        saved, _ = read_record(options.qat_checkpoint)
        if (saved.get("model"), saved.get("config")) != (entry.name, config_name):
            raise UsageError(
                f"--qat-checkpoint was made for {saved.get('model')} [{saved.get('config')}], not {entry.name} "
                f"[{config_name}]; pass the matching --model/--config"
            )
        sim, record = restore_quantized(model, example, options.qat_checkpoint, quantization_rewrite(saved["method"]))
        record = {**record, "checkpoint": str(options.qat_checkpoint)}
        data = options.data or record.get("data")
    else:
        if not options.data:
            raise UsageError("--precision int8 without --qat-checkpoint calibrates now: pass --data SPEC (e.g. synthetic-ms3)")
        data = options.data
        sim = prepare(model, example, "ptq", options.keep_fp32, quantization_rewrite("ptq"))
        train = FrameSamples.from_spec(data, "train", image_size)
        seen = calibrate(sim, input_batches(train, names, options.calibration_batches, options.calibration_batch_size, options.seed))
        record = {"method": "ptq", "model": entry.name, "config": config_name, "keep_fp32": list(options.keep_fp32),
                  "kept_float": list(sim.kept_float), "data": data,
                  "calibration": {"data": data, "split": "train", "samples": seen, "seed": options.seed}}
    plan = Int8Plan(entry, sim, record, options)
    if data:
        eval_set = FrameSamples.from_spec(data, options.eval_split, image_size)
        if options.eval_limit and options.eval_limit < len(eval_set):
            eval_set = torch.utils.data.Subset(eval_set, range(options.eval_limit))
        plan.eval_set = eval_set
        plan.fp32_scores = evaluate(copy.deepcopy(model).eval(), get_objective(entry.name), eval_set)
    return plan


def score_artifact(runner: Any, dataset: Any) -> dict[str, Any]:
    from edgeav.train.evaluate import evaluate_artifact

    return evaluate_artifact(runner, dataset)
