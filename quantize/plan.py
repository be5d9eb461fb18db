"""The int8 plan of an export: the quantized model, the graph each format lowers, and its accuracy gate.

An int8 export starts from a quantized model — a saved QAT/PTQ checkpoint (``qat_checkpoint``) or PTQ
calibrated now on ``data`` — converted per format by its :mod:`quantize.recipes` recipe. The plan also
scores the fp32 model on the held-out split, so that :class:`quantize.gate.AccuracyGate` can compare
each artifact with it; the exporter (layer 4) only asks the plan for modules and runs the gate.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.models.rewrites import rewrite as apply_rewrites
from edgeav.registry import ModelEntry
from edgeav.tasks import get_task
from edgeav.train.samples import model_samples
from quantize.gate import AccuracyGate
from quantize.recipes import FloatModules, Recipe, get_recipe
from quantize.simulated import SimulatedQuantModel

# The generic export rewrites a captured int8 graph needs on every backend: the graph is captured once and
# then lowered to several formats, so the rewrite must suit them all (max pooling does; amax is not delegated;
# the matmul deformable attention and mean-reduction norms are what both ExecuTorch and LiteRT delegate).
# A model's own export forms (its card's ``export_forms``, e.g. AVESFormer's per-level depthwise copies)
# follow them: the plan knows no particular model.
QUANTIZATION_REWRITES = ("adaptive_max_pool_to_max_pool", "deformable_attention_to_matmul", "norm_to_mean_reduction")
PTQ_REWRITES = ("fold_conv_batchnorm",)  # QAT folds BN itself (with batch statistics while training)


def quantization_rewrite_names(method: str, export_forms: Sequence[str]) -> tuple[str, ...]:
    """The rewrites of an int8 capture by ``method``, for a model whose card offers ``export_forms``."""
    names = (PTQ_REWRITES if method == "ptq" else ()) + QUANTIZATION_REWRITES + tuple(export_forms)
    return tuple(dict.fromkeys(names))


def quantization_rewrite(method: str, export_forms: Sequence[str]):
    """The model rewrite `quantize.api.prepare` applies before capture, for ``method`` (ptq / qat)."""
    names = quantization_rewrite_names(method, export_forms)

    def rewrite(model: nn.Module) -> nn.Module:
        model.eval()  # BN folding needs eval-mode statistics; capture sets the mode it needs afterwards
        apply_rewrites(model, names)
        return model

    return rewrite


@dataclass(frozen=True)
class LayerCost:
    """One layer's measured cost on the target: its fp32 and int8 kernels, and the two converts (int8 -> fp32
    before, fp32 -> int8 after) that keeping it float inside an int8 graph adds. One ``unit`` for all three:
    milliseconds on the host, guest instructions on the ARM device (only their comparison matters)."""

    fp32: float
    int8: float
    converts: float
    unit: str = "ms"

    @property
    def kept_float(self) -> float:
        """What the layer costs left float inside an int8 graph."""
        return self.fp32 + self.converts


# (layer, its input) -> its cost on the target: export_targets.executorch.probe.probe_layer times it on the
# host (ms), bench.devices.arm.probe counts it on the emulated ARM core (guest instructions).
CostProbe = Callable[[nn.Module, torch.Tensor], LayerCost]


def _depthwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels


# Operator classes the per-operator precision choice decides for, by module predicate.
OP_CLASSES: dict[str, Callable[[nn.Module], bool]] = {
    "depthwise_conv": _depthwise,
    "pointwise_conv": lambda m: isinstance(m, nn.Conv2d) and m.groups == 1 and m.kernel_size == (1, 1),
    "conv": lambda m: isinstance(m, nn.Conv2d) and m.groups == 1 and m.kernel_size != (1, 1),
    "linear": lambda m: isinstance(m, nn.Linear),
}


def _layer_inputs(model: nn.Module, example: Sequence[torch.Tensor], classes: Sequence[str]) -> dict[str, tuple[str, nn.Module, torch.Tensor]]:
    """Every layer of ``classes``: name -> (class, layer, its input on ``example``), by a forward hook each."""
    seen: dict[str, tuple[str, nn.Module, torch.Tensor]] = {}
    hooks = []
    for name, m in model.named_modules():
        kind = next((c for c in classes if OP_CLASSES[c](m)), None)
        if kind:
            hooks.append(m.register_forward_hook(_recorder(seen, name, kind)))
    try:
        with torch.no_grad():
            model(*example)
    finally:
        for h in hooks:
            h.remove()
    return seen


def _recorder(seen: dict, name: str, kind: str) -> Callable[..., None]:
    def hook(module: nn.Module, args: tuple, _out: Any) -> None:  # returns None: the output is unchanged
        seen.setdefault(name, (kind, module, args[0].detach().clone()))
    return hook


def _layer_key(layer: nn.Module, x: torch.Tensor) -> tuple[str, tuple[int, ...]]:
    return repr(layer), tuple(x.shape)


def float_where_int8_is_slower(model: nn.Module, example: Sequence[torch.Tensor], probe: CostProbe,
                               classes: Sequence[str] = ("depthwise_conv",)) -> tuple[list[str], list[dict[str, Any]]]:
    """Layers to keep float because int8 is slower on the target, decided per operator class.

    Each distinct (layer, input shape) is probed once; a class stays float when its layers' int8 kernels
    take longer in total than their fp32 kernels plus the converts keeping them float adds. Returns the
    layer names kept float and one record per class (the manifest's ``precision_by_cost``).
    """
    unknown = [c for c in classes if c not in OP_CLASSES]
    if unknown:
        raise UsageError(f"no operator class {', '.join(unknown)}; choose from: {', '.join(OP_CLASSES)}")
    layers = _layer_inputs(model, example, classes)
    costs: dict[tuple[str, tuple[int, ...]], LayerCost] = {}
    for _kind, layer, x in layers.values():
        key = _layer_key(layer, x)
        if key not in costs:
            costs[key] = probe(copy.deepcopy(layer).eval(), x)
    kept: list[str] = []
    records = []
    for kind in classes:
        names = [n for n, (k, _, _) in layers.items() if k == kind]
        chosen = [costs[_layer_key(layers[n][1], layers[n][2])] for n in names]
        int8 = sum(c.int8 for c in chosen)
        keep = bool(names) and int8 > sum(c.kept_float for c in chosen)
        kept += names if keep else []
        records.append({"class": kind, "layers": len(names), "shapes_probed": len({_layer_key(*layers[n][1:]) for n in names}),
                        "unit": chosen[0].unit if chosen else "", "int8": round(int8, 4),
                        "fp32": round(sum(c.fp32 for c in chosen), 4),
                        "converts": round(sum(c.converts for c in chosen), 4),
                        "precision": "fp32" if keep else "int8"})
    return kept, records


@dataclass(frozen=True)
class Int8Options:
    """How an int8 export gets and checks its int8 graphs."""

    qat_checkpoint: Path | None = None
    data: str | None = None  # calibration (train split) and gate (held-out split) data; default: the checkpoint's
    calibration_batches: int = 16
    calibration_batch_size: int = 8
    keep_fp32: tuple[str, ...] = ()
    max_drop: float | None = None  # headline points the artifact may lose (None: the task's default)
    force: bool = False
    eval_split: str = "test"
    eval_limit: int = 0  # frames of the held-out split scored (0: all)
    seed: int = 0
    # PTQ: keep float the operator classes where int8 is slower on the target, as ``cost_probe`` measures
    cost_probe: CostProbe | None = None
    cost_classes: tuple[str, ...] = ("depthwise_conv",)
    cost_device: str = ""  # where cost_probe measures ("host", "arm:cortex-a76"), for the manifest


@dataclass
class Int8Plan:
    """The quantized model, the graph each format lowers, and the gate its artifacts pass."""

    entry: ModelEntry
    quantized: SimulatedQuantModel  # prepared, calibrated or fine-tuned
    record: dict[str, Any]  # how it was quantized (method, data, steps, keep_fp32, ...)
    gate: AccuracyGate
    _converted: dict[bool, nn.Module] = field(default_factory=dict)

    @staticmethod
    def recipe(fmt: str) -> Recipe:
        return get_recipe(fmt)

    def module_for(self, fmt: str, fp32_model: nn.Module) -> nn.Module:
        """The module ``fmt`` lowers at int8: the converted Q/DQ graph, or (weights-only recipes) the float
        model whose weights the converter quantizes."""
        recipe = self.recipe(fmt)
        if recipe.activations != "int8":
            return fp32_model
        fold = recipe.fold_quantize
        if fold not in self._converted:
            self._converted[fold] = self.quantized.convert(fold_quantize=fold)
        return self._converted[fold]

    def manifest_record(self, fmt: str) -> dict[str, Any]:
        return {"scheme": self.recipe(fmt).describe(), **self.record,
                "rewrites": list(quantization_rewrite_names(self.record["method"], self.entry.export_forms))}


def plan_int8(entry: ModelEntry, model: nn.Module, config_name: str, options: Int8Options) -> Int8Plan:
    """Quantize ``model`` for export: restore ``options.qat_checkpoint`` or calibrate PTQ on ``options.data``;
    score the fp32 model for the gate on the held-out split of that data."""
    config = entry.config(config_name)
    example = entry.samples(config, 1, options.seed)[0]
    names = tuple(t.name for t in entry.io_spec(config).inputs)
    if options.qat_checkpoint is not None:
        sim, record = _restore(entry, model, config_name, example, options)
        data = options.data or record.get("data")
    else:
        if not options.data:
            raise UsageError("--precision int8 without --qat-checkpoint calibrates now: pass --data SPEC (e.g. synthetic-ms3)")
        data = options.data
        sim, record = _calibrate(entry, model, config_name, example, names, options)
    return Int8Plan(entry, sim, record, _gate(entry, model, config, data, names, options))


def _restore(entry: ModelEntry, model: nn.Module, config_name: str, example: tuple[torch.Tensor, ...],
             options: Int8Options) -> tuple[SimulatedQuantModel, dict[str, Any]]:
    from quantize.checkpoint import read_record, restore_quantized

    path = options.qat_checkpoint
    saved, _ = read_record(path)
    if (saved.get("model"), saved.get("config")) != (entry.name, config_name):
        raise UsageError(
            f"--qat-checkpoint was made for {saved.get('model')} [{saved.get('config')}], not {entry.name} "
            f"[{config_name}]; pass the matching --model/--config"
        )
    sim, record = restore_quantized(model, example, path, quantization_rewrite(saved["method"], entry.export_forms),
                                    floats=FloatModules.of(entry))
    return sim, {**record, "checkpoint": str(path)}


def _calibrate(entry: ModelEntry, model: nn.Module, config_name: str, example: tuple[torch.Tensor, ...],
               names: tuple[str, ...], options: Int8Options) -> tuple[SimulatedQuantModel, dict[str, Any]]:
    from quantize.api import calibrate, input_batches, prepare

    data = options.data
    rewrite = quantization_rewrite("ptq", entry.export_forms)
    by_cost, cost_records = [], []
    if options.cost_probe is not None:  # measured on the rewritten graph: the layers the capture will see
        by_cost, cost_records = float_where_int8_is_slower(rewrite(copy.deepcopy(model)), example,
                                                           options.cost_probe, options.cost_classes)
    sim = prepare(model, example, "ptq", (*options.keep_fp32, *by_cost), rewrite, floats=FloatModules.of(entry))
    train = model_samples(entry, entry.config(config_name), data, "train", model)
    batches = input_batches(train, names, options.calibration_batches, options.calibration_batch_size, options.seed)
    seen = calibrate(sim, batches)
    record = {"method": "ptq", "model": entry.name, "config": config_name, "keep_fp32": list(options.keep_fp32),
              "kept_float": list(sim.kept_float), "data": data,
              **({"precision_by_cost": {"device": options.cost_device or "host", "classes": cost_records,
                                        "kept_float": by_cost}} if cost_records else {}),
              "calibration": {"data": data, "split": "train", "samples": seen, "seed": options.seed}}
    return sim, record


def _gate(entry: ModelEntry, model: nn.Module, config: Any, data: str | None, names: tuple[str, ...],
          options: Int8Options) -> AccuracyGate:
    """The gate, with the fp32 model's scores on the held-out split (no split without data: it skips)."""
    from edgeav.train.evaluate import evaluate

    task = get_task(entry.task)
    max_drop = task.default_max_drop if options.max_drop is None else options.max_drop
    if not data:
        return AccuracyGate(task, max_drop, options.force, options.eval_split, input_names=names)
    if entry.objective is None:
        raise UsageError(f"model '{entry.name}' has no objective to score it with; its int8 gate needs one")
    eval_set = model_samples(entry, config, data, options.eval_split, model)
    if options.eval_limit and options.eval_limit < len(eval_set):
        eval_set = torch.utils.data.Subset(eval_set, range(options.eval_limit))
    fp32 = evaluate(copy.deepcopy(model).eval(), entry.objective, eval_set)
    return AccuracyGate(task, max_drop, options.force, options.eval_split, data, eval_set, names, fp32)
