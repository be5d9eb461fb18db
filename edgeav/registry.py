"""The model zoo: one entry per model, read by the CLI, the exporter, the benchmark and the manifests.

Adding a model is adding one folder ``edgeav/models/<name>/`` whose ``entry.py`` calls :func:`register` at
import time; :func:`list_models` finds every such ``entry.py`` (no second list of module names).
An entry carries the model's whole card: configs, I/O contract, task, training objective, the modules
int8 keeps float, the export forms it offers and the upstream weights it can load.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeav.checkpoints import CheckpointInfo, load_checkpoint
from edgeav.errors import UsageError
from edgeav.specs import IOSpec

SampleFn = Callable[[Any, int, int], list[tuple[torch.Tensor, ...]]]
Batch = dict[str, Any]
# An upstream weight loader: (model, upstream state dict) -> (loaded keys, skipped upstream keys).
UpstreamLoader = Callable[[nn.Module, Mapping[str, torch.Tensor]], tuple[list[str], list[str]]]
# The model's samples of a --data spec: (config, spec, split, audio_shuffle_seed, model) -> a dataset of dict
# samples keyed by its IOSpec input names plus its task's ground truth. ``model``: the fp32 model at hand, for
# samples that depend on it (a streaming model's state); None where there is none yet.
DatasetFn = Callable[[Any, str, str, "int | None", "nn.Module | None"], Any]


@dataclass(frozen=True)
class PaperFigures:
    """What the paper reports, so `edgeav models --detail` can put ours beside it."""

    params_m: float | None = None
    gflops: float | None = None
    gflops_input: str = ""
    source: str = ""
    # Parts of our graph the paper's FLOP count leaves out (e.g. an in-graph audio front end).
    flops_excludes: tuple[str, ...] = ()
    # What the paper's "GFLOPs" counts (edgeav.modelcard): "flops" = 2 × MACs of every conv/linear/matmul;
    # "conv_linear_macs" = MACs of convolutions and linear layers only (thop-style).
    flops_convention: str = "flops"


@dataclass(frozen=True)
class Objective:
    """How a model trains. ``loss(net, model, batch)``: named scalars, the total under "loss"; ``net`` runs
    ``forward_train`` (possibly DDP-wrapped), ``model`` is the bare model for its config.
    ``logits(model, batch)`` predicts. Batches arrive with unannotated samples already removed.

    Defined here, not in ``edgeav.train``, because a model folder (layer 1) names its own objective.
    """

    loss: Callable[[nn.Module, nn.Module, Batch], dict[str, torch.Tensor]]
    logits: Callable[[nn.Module, Batch], torch.Tensor]
    task: str  # the edgeav.tasks name whose metrics evaluation reports


@dataclass(frozen=True)
class ModelEntry:
    """Everything edgeav knows about one model family."""

    name: str
    task: str  # a task name edgeav.tasks resolves: "segmentation" | "saliency"
    summary: str
    builder: Callable[[Any], nn.Module]
    configs: Mapping[str, Any]
    io_spec: Callable[[Any], IOSpec]
    samples: SampleFn  # realistic inputs for verification: (config, n, seed) -> list of input tuples
    default_config: str = "paper"
    paper: PaperFigures = field(default_factory=PaperFigures)
    objective: Objective | None = None  # None: not trainable with edgeav
    # Module types int8 keeps float whatever the user asks (their outputs stay float; see docs/quantize.md),
    # and of those the ones that carry no int8 observer at all.
    float_modules: tuple[type[nn.Module], ...] = ()
    wholly_float_modules: tuple[type[nn.Module], ...] = ()
    export_forms: tuple[str, ...] = ()  # names of the edgeav.models.rewrites this model's graph uses
    upstream: Mapping[str, UpstreamLoader] = field(default_factory=dict)  # released weights it can load, by source
    dataset: DatasetFn | None = None  # None: segmentation frames (edgeav.train.samples.FrameSamples)

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
    if hasattr(config, "at_size"):  # a config with its own size grammar (e.g. a clip's TxHxW)
        return config.at_size(size)
    if not size.isdigit() or int(size) < INPUT_SIZE_MULTIPLE or int(size) % INPUT_SIZE_MULTIPLE:
        raise UsageError(
            f"config '{key}' of model '{model}': the size after '@' must be a multiple of {INPUT_SIZE_MULTIPLE} "
            f"(e.g. '{key.partition('@')[0]}@256')"
        )
    if not hasattr(config, "image_size"):
        raise UsageError(f"model '{model}' has no input size to change; drop '@{size}' from the config name")
    return dataclasses.replace(config, image_size=int(size))


_REGISTRY: dict[str, ModelEntry] = {}
MODELS_PACKAGE = "edgeav.models"  # every <package>/<name>/entry.py registers its models when imported
_discovered = False


def register(entry: ModelEntry) -> ModelEntry:
    if entry.name in _REGISTRY:
        raise ValueError(f"model '{entry.name}' registered twice")
    _REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove a registered model (for tests that register a toy model of their own)."""
    _REGISTRY.pop(name, None)


def _entry_modules() -> list[str]:
    """``<package>.<name>.entry`` for every sub-package holding an entry.py, found on disk: a folder of
    shared code (layers, backbones) is neither a model nor imported here."""
    package = importlib.import_module(MODELS_PACKAGE)
    return sorted(
        f"{MODELS_PACKAGE}.{m.name}.entry" for m in pkgutil.iter_modules(package.__path__)
        if m.ispkg and (Path(m.module_finder.path) / m.name / "entry.py").is_file()
    )


def _load_all() -> None:
    """Import every model folder's entry.py once."""
    global _discovered
    if _discovered:
        return
    for module in _entry_modules():
        importlib.import_module(module)
    _discovered = True


def list_models() -> list[ModelEntry]:
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda e: e.name)


def get_model_entry(name: str) -> ModelEntry:
    _load_all()
    if name not in _REGISTRY:
        raise UsageError(f"unknown model '{name}'; run `edgeav models` to list them ({', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


@dataclass(frozen=True)
class LoadedModel:
    """A registry model built from a named config, with the weights it holds and where they came from."""

    entry: ModelEntry
    config_name: str
    config: Any
    model: nn.Module
    checkpoint: CheckpointInfo | None  # None: the registry's seeded initialisation

    @property
    def weights(self) -> dict[str, Any]:
        """The manifest's ``weights`` record."""
        if self.checkpoint is not None:
            return self.checkpoint.to_dict()
        return {"source": "registry-init", "note": "no checkpoint: the registry's initialisation"}


def load_model(
    name: str,
    config: str | None = None,
    checkpoint: str | Path | None = None,
    *,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedModel:
    """Build model ``name`` at ``config`` (default: the entry's) and load ``checkpoint`` into it strictly.

    Without a checkpoint the weights are ``torch.manual_seed(seed)``'s initialisation, so two calls agree.
    ``overrides`` replace config fields before building (e.g. ``freeze_audio=False`` for training).
    """
    entry = get_model_entry(name)
    config_name = config or entry.default_config
    cfg = entry.config(config_name)
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    torch.manual_seed(seed)
    model = entry.builder(cfg)
    info = load_checkpoint(model, checkpoint) if checkpoint is not None else None
    return LoadedModel(entry=entry, config_name=config_name, config=cfg, model=model, checkpoint=info)
