"""What the harness benchmarks: an exported artifact (+ its manifest) or the PyTorch eager reference.

The harness knows nothing of how an artifact was made: it reads the manifest beside it for the model,
config, precision, I/O and figures (verified to describe the artifact: export_targets/integrity.py), and asks
``export_targets.formats.open_artifact`` for the runner that export verification uses. ``eager:MODEL[:CONFIG]`` names the registry model itself as a target.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.errors import EdgeAVError, UsageError
from edgeav.files import size_of
from edgeav.registry import ModelEntry, get_model_entry, load_model
from edgeav.specs import IOSpec
from edgeav.tasks import get_task
from export_targets.eager import EagerRunner
from export_targets.formats import format_of, open_artifact
from export_targets.integrity import check_io_spec, verified_manifest
from export_targets.runtime import ArtifactRunner, to_tensor

EAGER_PREFIX = "eager:"


@dataclass(frozen=True)
class BenchTarget:
    """One thing to time. ``path`` is None for the eager reference."""

    label: str
    format: str  # executorch, litert, onnx, coreml or eager
    model: str
    config: str
    precision: str
    path: Path | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def size_mb(self) -> float | None:
        """The artifact's size on disk (a package: its whole tree), not what its manifest claims."""
        return size_of(self.path) / 1e6 if self.path is not None and self.path.exists() else None

    def entry(self) -> ModelEntry:
        return get_model_entry(self.model)

    def io_spec(self) -> IOSpec:
        entry = self.entry()
        return entry.io_spec(entry.config(self.config))

    def inputs(self, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """One realistic input tuple from the registry (the samples export verification uses)."""
        entry = self.entry()
        return tuple(to_tensor(x) for x in entry.samples(entry.config(self.config), 1, seed)[0])

    def open(self, threads: int | None) -> ArtifactRunner:
        if self.path is None:
            return EagerRunner(build_eager_model(self), self.io_spec(), threads, name=self.label)
        return open_artifact(self.path, self.io_spec(), threads)

    def task_metric(self) -> tuple[str, float | None]:
        """The manifest's task metric (name, value), if export measured one; else the registry's name."""
        for key in ("task_metric", "metric"):
            value = self.manifest.get(key)
            if isinstance(value, dict) and "name" in value:
                return str(value["name"]), _float_or_none(value.get("value"))
        try:
            return get_task(self.entry().task).title, None
        except EdgeAVError:  # a target that failed before its model was known
            return "", None


def resolve_target(spec: str | Path) -> BenchTarget:
    """A BenchTarget from an artifact path (its manifest must sit beside it) or ``eager:MODEL[:CONFIG]``."""
    text = str(spec)
    if text.startswith(EAGER_PREFIX):
        model, _, config = text.removeprefix(EAGER_PREFIX).partition(":")
        entry = get_model_entry(model)
        config = config or entry.default_config
        entry.config(config)
        return BenchTarget(label=f"eager ({model}/{config})", format="eager", model=model, config=config,
                           precision="fp32")
    path = Path(text)
    info = format_of(path)
    # Every device runs these bytes (a phone or an emulator without opening them here): verified now.
    manifest = verified_manifest(path, info)
    target = BenchTarget(label=path.name, format=info.name, model=str(manifest["model"]),
                         config=str(manifest["config_name"]), precision=str(manifest.get("precision", "?")),
                         path=path, manifest=manifest)
    check_io_spec(path, manifest, target.io_spec())
    return target


def eager_twin(target: BenchTarget) -> BenchTarget:
    """The eager reference for an artifact's model and config, with the artifact's weights when known."""
    twin = resolve_target(f"{EAGER_PREFIX}{target.model}:{target.config}")
    return BenchTarget(**{**twin.__dict__, "manifest": {"weights": target.manifest.get("weights", {})}})


def build_eager_model(target: BenchTarget) -> torch.nn.Module:
    """The registry model, with the checkpoint the artifact was exported from when its manifest names one.

    Without a checkpoint, the weights are the registry's seed-0 initialisation (what `edgeav export` uses);
    for timing, weights do not matter.
    """
    weights = target.manifest.get("weights", {})
    found = weights.get("source") == "checkpoint" and weights.get("path") and Path(weights["path"]).is_file()
    return load_model(target.model, target.config, weights["path"] if found else None).model.eval()


def check_same_inputs(targets: list[BenchTarget]) -> None:
    """UsageError unless every target takes the same inputs (needed to compare them side by side)."""
    specs = {(t.model, t.config) for t in targets}
    shapes = {tuple(tuple(s.shape) for s in t.io_spec().inputs) for t in targets}
    if len(shapes) > 1:
        raise UsageError(f"--compare needs artifacts with the same inputs; got {sorted(specs)}: "
                         "compare exports of one model and config")


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value is not None and np.isfinite(float(value)) else None
    except (TypeError, ValueError):
        return None
