"""The quantization API: prepare → calibrate (PTQ) or fine-tune (QAT) → convert, one model at a time.

    sim = prepare(model, example_inputs, method="qat", keep_fp32=["decoder.*"])
    calibrate(sim, batches)                       # ranges from real data (PTQ, and QAT's starting point)
    run_qat(sim, teacher, train_set, QATConfig(steps=300), out_dir, input_names, task_objective)
    int8 = sim.convert()                          # int8.forward is what the exporters lower

:func:`quantize_model` is that sequence in one call, returning the record `save_quantized` stores; the
CLI (`edgeav quantize`) and the benchmark scripts both go through it.

The captured graph uses the shared int8 scheme of :mod:`quantize.recipes`, so one result serves the
ExecuTorch, LiteRT and Core ML A8W8 recipes (Core ML W8A16 quantizes the fine-tuned weights only).
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, default_collate

from edgeav.errors import UsageError
from edgeav.registry import Objective
from edgeav.train.trainer import TrainConfig, Trainer, TrainState
from quantize.capture import PREFIX, capture
from edgeav.train.distill import DistillConfig, WithoutLabels, distillation_objective
from quantize.recipes import FloatModules, build_quantizer, match_modules, outermost
from quantize.simulated import SimulatedQuantModel

METHODS = ("ptq", "qat")
ModelRewrite = Callable[[nn.Module], nn.Module]


@dataclass(frozen=True)
class QATConfig:
    """QAT fine-tuning. BN and observer freezing happen at fractions of ``steps`` (the usual schedule:
    ranges and folded BN settle first, then the weights adapt to fixed quantization grids)."""

    steps: int = 300
    batch_size: int = 8
    lr: float = 1e-5
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    # BatchNorm on its running statistics from the first step: fine-tuning a converged model on batches of 8
    # otherwise drifts them (paper-size LightAVSeg: frozen at 0 with lr 1e-5 47.10 mIoU, at 0.5 with 2e-5 46.12).
    freeze_bn_at: float = 0.0
    freeze_observers_at: float = 0.75
    label_free: bool = False
    distill: DistillConfig = field(default_factory=DistillConfig)
    eval_every: int = 0
    seed: int = 0

    def step_of(self, fraction: float) -> int:
        return max(1, round(fraction * self.steps))


def prepare(
    model: nn.Module,
    example_inputs: Sequence[torch.Tensor],
    method: str,
    keep_fp32: Iterable[str] = (),
    rewrite: ModelRewrite | None = None,
    only: Iterable[str] | None = None,
    *,
    floats: FloatModules,
) -> SimulatedQuantModel:
    """Capture a copy of ``model`` and insert observers (``ptq``) or fake quantizers (``qat``).

    ``floats``: the module types always left float (the model's card: ``FloatModules.of(entry)``).
    ``keep_fp32``: glob patterns of module names left float as well.
    ``rewrite``: applied to the copy before capture (export rewrites a backend needs, e.g. max pooling).
    ``only``: quantize just these module names (sensitivity analysis).
    """
    if method not in METHODS:
        raise UsageError(f"unknown --method '{method}'; choose one of: {', '.join(METHODS)}")
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e, prepare_qat_pt2e

    work = copy.deepcopy(model)
    if rewrite is not None:
        work = rewrite(work)
    if method == "qat":
        nudge_zero_batchnorm_scales(work)
    keep = outermost([*floats.names(work), *match_modules(work, keep_fp32)])
    quantizer = build_quantizer(
        qat=method == "qat",
        keep_float=[PREFIX + n for n in keep],
        only=None if only is None else [PREFIX + n for n in only],
        wholly_float=[PREFIX + n for n in floats.wholly_names(work)],
    )
    captured = capture(work, example_inputs, train_bn=method == "qat")
    prepare_fn = prepare_qat_pt2e if method == "qat" else prepare_pt2e
    prepared = prepare_fn(captured.graph, quantizer)
    sim = SimulatedQuantModel(captured, prepared, getattr(model, "cfg", None))
    sim.method = method
    sim.kept_float = tuple(keep)
    return sim.eval()


# Far from any multiple of the QAT learning rate: Adam's first step moves every weight by almost exactly
# lr, so a nudge equal to the default lr (1e-5) put these weights back on 0 after one step (NaN at step 2).
ZERO_BN_SCALE = 1e-3


@torch.no_grad()
def nudge_zero_batchnorm_scales(model: nn.Module) -> int:
    """Give BatchNorm weights that are exactly 0 the value ``ZERO_BN_SCALE``; returns how many.

    QAT's conv-BN pattern multiplies the conv weight by ``gamma / std`` and divides the conv output by the
    same factor, so a zero gamma (zero-initialised residual projections, e.g. SeaFormer's ``bn_weight_init=0``)
    gives 0/0 = NaN. The nudged branch adds ~1e-3 of a normalised activation: nothing measurable.
    """
    count = 0
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.weight is not None:
            zero = module.weight == 0
            count += int(zero.sum())
            module.weight[zero] = ZERO_BN_SCALE
    return count


def input_batches(
    dataset: Dataset, input_names: Sequence[str], batches: int, batch_size: int, seed: int = 0
) -> Iterator[tuple[torch.Tensor, ...]]:
    """``batches`` batches of model inputs drawn without replacement (with, once the set is exhausted)."""
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise UsageError("the calibration data is empty; pass a --data spec with samples")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    for b in range(batches):
        idx = [order[(b * batch_size + i) % n] for i in range(batch_size)]
        batch = default_collate([dataset[i] for i in idx])
        yield tuple(batch[name] for name in input_names)


@torch.no_grad()
def calibrate(sim: SimulatedQuantModel, batches: Iterable[Sequence[torch.Tensor]]) -> int:
    """Run the model in eval mode (BN running statistics) so observers see real activation ranges.

    Returns the number of samples seen.
    """
    sim.eval()
    seen = 0
    for inputs in batches:
        sim(*inputs)
        seen += int(inputs[0].shape[0])
    return seen


def run_qat(
    sim: SimulatedQuantModel,
    teacher: nn.Module,
    train_set: Dataset,
    cfg: QATConfig,
    out_dir: Path,
    input_names: Sequence[str],
    task: Objective | None = None,
    eval_set: Dataset | None = None,
    on_step: Callable[[TrainState, dict[str, float]], None] | None = None,
) -> TrainState:
    """Fine-tune ``sim`` with the trainer: distillation from ``teacher`` (+ ``task`` when batches have masks).

    Freezes BatchNorm at ``cfg.freeze_bn_at`` and observers at ``cfg.freeze_observers_at`` of the steps.
    Writes the trainer's log/checkpoint files under ``out_dir / "qat"``.
    """
    if cfg.steps < 1:
        raise UsageError(f"--steps must be at least 1 for QAT (got {cfg.steps})")
    for flag, fraction in (("--freeze-bn-at", cfg.freeze_bn_at), ("--freeze-observers-at", cfg.freeze_observers_at)):
        if not 0.0 <= fraction <= 1.0:
            raise UsageError(f"{flag} is a fraction of the QAT steps between 0 and 1 (got {fraction:g})")
    objective = distillation_objective(teacher, input_names, cfg.distill, None if cfg.label_free else task,
                                       metrics_task=task.task if task is not None else None)
    train_cfg = TrainConfig(
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay,
        grad_clip=cfg.grad_clip, eval_every=cfg.eval_every, seed=cfg.seed, poly_power=1.0,
    )
    bn_step, obs_step = cfg.step_of(cfg.freeze_bn_at), cfg.step_of(cfg.freeze_observers_at)

    def schedule(state: TrainState, row: dict[str, float]) -> None:
        if state.step == bn_step:
            sim.freeze_batchnorm()
        if state.step == obs_step:
            sim.freeze_observers()
        row["bn_frozen"], row["observers_frozen"] = float(state.step >= bn_step), float(state.step >= obs_step)
        if on_step is not None:
            on_step(state, row)

    trainer = Trainer(sim, objective, train_set, train_cfg, Path(out_dir) / "qat", eval_set=eval_set, on_step=schedule)
    start = time.perf_counter()
    state = trainer.fit()
    sim.qat_seconds = time.perf_counter() - start
    sim.eval()
    return state


def qat_record(cfg: QATConfig) -> dict[str, Any]:
    """The QAT settings as the manifest and the checkpoint record them."""
    out = asdict(cfg)
    out["freeze_bn_step"] = cfg.step_of(cfg.freeze_bn_at)
    out["freeze_observers_step"] = cfg.step_of(cfg.freeze_observers_at)
    return out


@dataclass
class QuantizeRequest:
    """One quantization of a trained model: what `edgeav quantize` and the int8 benchmark ask for."""

    method: str  # "ptq" | "qat"
    train: Dataset
    input_names: Sequence[str]
    objective: Objective
    out_dir: Path
    floats: FloatModules  # the model's always-float modules (FloatModules.of(entry))
    qat: QATConfig = field(default_factory=QATConfig)
    keep_fp32: Sequence[str] = ()
    rewrite: ModelRewrite | None = None
    calibration_batches: int = 16
    calibration_batch_size: int = 8
    seed: int = 0


def quantize_model(
    model: nn.Module,
    example_inputs: Sequence[torch.Tensor],
    request: QuantizeRequest,
    on_step: Callable[[TrainState, dict[str, float]], None] | None = None,
) -> tuple[SimulatedQuantModel, dict[str, Any]]:
    """prepare → calibrate → (QAT) → freeze observers; returns the model and what was done, as recorded.

    The record holds the method, the modules kept float, the calibration sample count, and for QAT its
    settings, duration and the loss terms of the last step (which terms there are shows what was optimised:
    a label-free run has no task term). Callers add their own context (model name, data spec) before saving.
    """
    sim = prepare(model, example_inputs, request.method, request.keep_fp32, request.rewrite, floats=request.floats)
    batches = input_batches(request.train, request.input_names, request.calibration_batches,
                            request.calibration_batch_size, request.seed)
    record: dict[str, Any] = {"method": request.method, "keep_fp32": list(request.keep_fp32),
                              "kept_float": list(sim.kept_float),
                              "calibration": {"split": "train", "samples": calibrate(sim, batches), "seed": request.seed}}
    if request.method == "qat":
        last_step: dict[str, float] = {}

        def remember(state: TrainState, row: dict[str, float]) -> None:
            last_step.clear()
            last_step.update(row)
            if on_step is not None:
                on_step(state, row)

        data = WithoutLabels(request.train) if request.qat.label_free else request.train
        run_qat(sim, model, data, request.qat, request.out_dir, request.input_names, request.objective, on_step=remember)
        record["qat"] = {**qat_record(request.qat), "seconds": round(sim.qat_seconds, 1),
                         "last_step": {k: round(float(v), 6) for k, v in last_step.items()}}
    sim.freeze_observers()
    record["bn_frozen"], record["observers_frozen"] = sim.bn_frozen, True
    return sim, record
