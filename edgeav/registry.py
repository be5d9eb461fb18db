"""The model zoo: one entry per model, read by the CLI, the exporter, the benchmark and the manifests.

Adding a model is adding one module under ``edgeav/models`` that calls :func:`register` at import time,
plus its name in ``_MODEL_MODULES``.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.specs import IOSpec

SampleFn = Callable[[Any, int, int], list[tuple[torch.Tensor, ...]]]


@dataclass(frozen=True)
class PaperFigures:
    """What the paper reports, so `edgeav models --detail` can put ours beside it."""

    params_m: float | None = None
    gflops: float | None = None
    gflops_input: str = ""
    source: str = ""
    # Parts of our graph the paper's FLOP count leaves out (e.g. an in-graph audio front end).
    flops_excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelEntry:
    """Everything edgeav knows about one model family."""

    name: str
    task: str  # "segmentation" | "saliency"
    metric: str  # the task metric the exporter reports, e.g. "mIoU"
    summary: str
    builder: Callable[[Any], nn.Module]
    configs: Mapping[str, Any]
    io_spec: Callable[[Any], IOSpec]
    samples: SampleFn  # realistic inputs for verification: (config, n, seed) -> list of input tuples
    default_config: str = "paper"
    paper: PaperFigures = field(default_factory=PaperFigures)

    def config(self, name: str | None = None) -> Any:
        key = name or self.default_config
        if key not in self.configs:
            raise UsageError(
                f"model '{self.name}' has no config '{key}'; choose one of: {', '.join(self.configs)}"
            )
        return self.configs[key]

    def build(self, config_name: str | None = None) -> nn.Module:
        return self.builder(self.config(config_name))


_REGISTRY: dict[str, ModelEntry] = {}
# Modules that register models when imported; kept as data so `list_models` imports lazily.
_MODEL_MODULES = ("edgeav.models.lightavseg", "edgeav.models.avesformer")


def register(entry: ModelEntry) -> ModelEntry:
    if entry.name in _REGISTRY:
        raise ValueError(f"model '{entry.name}' registered twice")
    _REGISTRY[entry.name] = entry
    return entry


def _load_all() -> None:
    for mod in _MODEL_MODULES:
        importlib.import_module(mod)


def list_models() -> list[ModelEntry]:
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda e: e.name)


def get_model_entry(name: str) -> ModelEntry:
    _load_all()
    if name not in _REGISTRY:
        raise UsageError(f"unknown model '{name}'; run `edgeav models` to list them ({', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]
