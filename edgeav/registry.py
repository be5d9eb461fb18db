"""The model zoo: one entry per model, read by the CLI, the exporter, the benchmark and the manifests.

Adding a model is adding one module under ``edgeav/models`` that calls :func:`register` at import time,
plus its name in ``_MODEL_MODULES``.
"""
from __future__ import annotations

import dataclasses
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
        """The named config; ``NAME@SIZE`` is that config at a square input of SIZE pixels.

        The size suffix is part of the name so that it travels through manifests and checkpoints unchanged:
        an artifact exported with ``--config paper@128`` is re-opened at 128 by `edgeav eval --artifact`.
        """
        key = name or self.default_config
        base, at, size = key.partition("@")
        if base not in self.configs:
            raise UsageError(
                f"model '{self.name}' has no config '{base}'; choose one of: {', '.join(self.configs)}"
            )
        config = self.configs[base]
        return _at_input_size(self.name, key, config, size) if at else config

    def build(self, config_name: str | None = None) -> nn.Module:
        return self.builder(self.config(config_name))


# Every model here downsamples by 32 before its coarsest feature map.
INPUT_SIZE_MULTIPLE = 32


def _at_input_size(model: str, key: str, config: Any, size: str) -> Any:
    if not size.isdigit() or int(size) < INPUT_SIZE_MULTIPLE or int(size) % INPUT_SIZE_MULTIPLE:
        raise UsageError(
            f"config '{key}' of model '{model}': the size after '@' must be a multiple of {INPUT_SIZE_MULTIPLE} "
            f"(e.g. '{key.partition('@')[0]}@256')"
        )
    if not hasattr(config, "image_size"):
        raise UsageError(f"model '{model}' has no input size to change; drop '@{size}' from the config name")
    return dataclasses.replace(config, image_size=int(size))


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
