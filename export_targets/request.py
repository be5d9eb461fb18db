"""The export request: what `edgeav export` and ``edgeav.export`` were asked to do, validated once.

The CLI and the Python API build the same frozen :class:`ExportRequest`; building it checks every argument
(formats, precision, installed converters, counts, arguments that mean nothing at the chosen precision), so
``export_model`` receives only requests that make sense and nothing heavy runs on a bad one.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.files import check_writable_dir
from edgeav.registry import LoadedModel, ModelEntry
from edgeav.specs import IOSpec
from export_targets.formats import check_installed, check_precision, resolve_targets
from export_targets.target import TargetInfo

# Arguments that mean something only at some precisions (field -> those precisions). Given at another
# precision they would be silently ignored, so the request refuses them instead (as Ultralytics' export table).
PRECISION_ARGUMENTS: Mapping[str, tuple[str, ...]] = {
    "qat_checkpoint": ("int8",),
    "data": ("int8",),
    "max_drop": ("int8",),
    "force": ("int8",),
    "keep_fp32": ("int8",),
    "calibration_batches": ("int8",),
    "eval_limit": ("int8",),
    "precision_by_cost": ("int8",),
    "cost_classes": ("int8",),
}

# Why a precision lowers one format at a time whatever --jobs says.
SERIAL_PRECISIONS: Mapping[str, str] = {
    "int8": "quantized graphs reference torchao's op library, which spawned workers do not load",
}


def flag(name: str) -> str:
    """The CLI spelling of a request field: ``keep_fp32`` -> ``--keep-fp32``."""
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class ExportRequest:
    """Where to export, at which precision, how to verify; int8 fields only at ``precision="int8"``."""

    targets: str | tuple[str, ...] = "android"  # a preset (android, ios, all), a format, or several
    out_dir: Path = Path("dist")
    precision: str = "fp32"
    samples: int = 4  # realistic samples the parity check runs
    seed: int = 0  # of those samples (and of the registry's initialisation when no checkpoint is given)
    jobs: int | None = None  # formats lowered at once, each in its own process (None: min(2, CPUs))
    qat_checkpoint: Path | None = None  # int8: quantized.pt from `edgeav quantize`; else PTQ on ``data``
    data: str | None = None  # int8: calibration (train split) and accuracy-gate (held-out split) data
    max_drop: float | None = None  # int8: headline points the artifact may lose against fp32 (None: the task's)
    force: bool = False  # int8: publish even when the accuracy gate fails (recorded in the manifest)
    keep_fp32: tuple[str, ...] = ()  # int8 PTQ: module-path globs left float
    calibration_batches: int = 16  # int8 PTQ: calibration batches of 8
    eval_limit: int = 0  # int8: held-out frames the gate scores (0: all)
    # int8 PTQ: the device whose measured costs keep an operator class float where int8 is slower there
    # ("host", "arm[:CPU]"; "" quantizes every class the quantizer annotates); the caller resolves it to a
    # probe (bench.devices.cost_probes) and passes it to plan_int8.
    precision_by_cost: str = ""
    cost_classes: tuple[str, ...] = ("depthwise_conv",)
    formats: tuple[TargetInfo, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        object.__setattr__(self, "keep_fp32", tuple(self.keep_fp32))
        object.__setattr__(self, "cost_classes", tuple(self.cost_classes))
        targets = self.targets if isinstance(self.targets, str) else list(self.targets)
        formats = resolve_targets(targets, self.precision)
        check_precision(self.precision, formats)
        self._check_counts()
        self._check_precision_arguments()
        self._check_cost_classes()
        if self.precision_by_cost and self.qat_checkpoint is not None:
            raise UsageError("--precision-by-cost plans a PTQ graph; a --qat-checkpoint already fixed which layers "
                             "are int8: drop one of the two")
        check_installed(formats)
        object.__setattr__(self, "formats", formats)

    def _check_counts(self) -> None:
        if self.samples < 1:
            raise UsageError(f"--samples must be at least 1 (got {self.samples})")
        if self.jobs is not None and self.jobs < 1:
            raise UsageError(f"--jobs must be at least 1 (got {self.jobs})")
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise UsageError(f"--out '{self.out_dir}' is a file; pass a directory")
        check_writable_dir(self.out_dir)  # now, not after minutes of calibration and lowering

    def _check_precision_arguments(self) -> None:
        defaults = {f.name: f.default for f in dataclasses.fields(self) if f.init}
        for name, precisions in PRECISION_ARGUMENTS.items():
            if self.precision not in precisions and getattr(self, name) != defaults[name]:
                only = " or ".join(f"--precision {p}" for p in precisions)
                raise UsageError(f"{flag(name)} applies to {only}; drop it or pass {only}")

    def _check_cost_classes(self) -> None:
        from quantize.plan import OP_CLASSES

        unknown = [c for c in self.cost_classes if c not in OP_CLASSES]
        if unknown or not self.cost_classes:
            raise UsageError(f"--cost-classes {','.join(self.cost_classes) or '(empty)'}: choose from "
                             f"{', '.join(OP_CLASSES)}")

    @property
    def format_names(self) -> list[str]:
        return [f.name for f in self.formats]

    @property
    def effective_jobs(self) -> int:
        """``jobs`` (default: min(2, CPUs)), or 1 at a precision that lowers in this process (see :attr:`notices`)."""
        if self.precision in SERIAL_PRECISIONS:
            return 1
        return self.jobs if self.jobs is not None else min(2, os.cpu_count() or 1)

    @property
    def notices(self) -> tuple[str, ...]:
        """What the request changed from what was asked, for the caller to show."""
        if self.jobs is not None and self.effective_jobs != self.jobs and len(self.formats) > 1:
            why = SERIAL_PRECISIONS[self.precision]
            return (f"--jobs {self.jobs} lowered to 1 at --precision {self.precision}: {why}",)
        return ()

    def int8_options(self, cost: tuple[str, Any] | None = None) -> Any:
        """The int8 plan's options (quantize's ``Int8Options``) from this request's int8 fields; ``cost`` is
        ``precision_by_cost`` resolved: (device as recorded, its ``quantize.plan.CostProbe``)."""
        from quantize.plan import Int8Options

        if self.precision_by_cost and cost is None:  # a caller that forgot to resolve it
            raise UsageError(f"--precision-by-cost {self.precision_by_cost}: no cost probe was resolved for it "
                             "(bench.devices.cost_probes.cost_probe_for)")
        return Int8Options(
            qat_checkpoint=self.qat_checkpoint, data=self.data, calibration_batches=self.calibration_batches,
            keep_fp32=self.keep_fp32, max_drop=self.max_drop, force=self.force, eval_limit=self.eval_limit,
            seed=self.seed, cost_probe=cost[1] if cost else None, cost_classes=self.cost_classes,
            cost_device=cost[0] if cost else "",
        )

    def plan_int8(self, subject: ExportSubject, cost: tuple[str, Any] | None = None) -> Any:
        """At int8, the quantized graphs and accuracy gate for ``subject`` (quantize.plan); None otherwise."""
        if self.precision != "int8":
            return None
        if subject.entry is None:
            raise UsageError(f"int8 export of '{subject.name}' needs a registry entry (its int8 recipe, float modules "
                             "and data); export it at precision fp32, or register the model")
        from quantize.plan import plan_int8

        return plan_int8(subject.entry, subject.model, subject.config_name, self.int8_options(cost))


SampleFn = Callable[[int, int], list[tuple[torch.Tensor, ...]]]  # (n, seed) -> input tuples in IOSpec order


@dataclass(frozen=True)
class ExportSubject:
    """What is exported: a model with its name, config, task, I/O contract and a source of realistic samples.

    A registry model gives all of these (:meth:`from_registry`); a user's own ``nn.Module`` declares them.
    """

    name: str
    model: nn.Module
    io_spec: IOSpec
    samples: SampleFn
    task: str
    config_name: str = "custom"
    config: Any = None
    weights: Mapping[str, Any] = field(default_factory=lambda: {"source": "as given"})
    entry: ModelEntry | None = None  # registry models only: the int8 plan reads its recipe and metric

    @classmethod
    def from_registry(cls, loaded: LoadedModel) -> ExportSubject:
        """A model from :func:`edgeav.registry.load_model`, with the weights record of its checkpoint."""
        io_spec = loaded.entry.io_spec(loaded.config)
        if loaded.checkpoint is not None and loaded.checkpoint.audio_window:  # the window it was trained with
            io_spec = dataclasses.replace(io_spec, audio_window=loaded.checkpoint.audio_window)
        return cls.from_entry(loaded.entry, loaded.model, loaded.config_name, config=loaded.config,
                              io_spec=io_spec, weights=loaded.weights)

    @classmethod
    def from_entry(cls, entry: ModelEntry, model: nn.Module, config_name: str | None = None, *, config: Any = None,
                   io_spec: IOSpec | None = None, weights: Mapping[str, Any] | None = None) -> ExportSubject:
        """``model``, an instance of ``entry`` at ``config_name`` (default: the entry's)."""
        config_name = config_name or entry.default_config
        config = entry.config(config_name) if config is None else config
        return cls(name=entry.name, model=model, io_spec=io_spec or entry.io_spec(config),
                   samples=lambda n, seed: entry.samples(config, n, seed), task=entry.task,
                   config_name=config_name, config=config, weights=weights or {"source": "as given"}, entry=entry)
