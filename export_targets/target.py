"""What an export format is: a frozen :class:`TargetInfo` (its table row) and an :class:`ExportTarget`.

Each format is a folder, ``export_targets/<name>/``: its ``__init__`` holds the ``INFO`` row, ``lower.py``
has ``lower(request, info) -> LoweringReport``, ``runner.py`` has ``inspect(path) -> ArtifactStructure`` and
``RUNNER`` (its :class:`~export_targets.runtime.ArtifactRunner`). :class:`ExportTarget` reaches them only
when a step runs, so listing formats or rejecting a bad option never imports a converter.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from edgeav.specs import IOSpec
from export_targets.runtime import ArtifactRunner


@dataclass(frozen=True)
class TargetInfo:
    """What a format is: the row of the ``export_formats()`` table."""

    name: str  # the --target name, e.g. "executorch"
    package: str  # the format's folder as a module, e.g. "export_targets.executorch"
    title: str  # for people, e.g. "ExecuTorch (XNNPACK)"
    suffix: str  # ".pte"; a suffix naming a directory when ``is_directory``
    precisions: Mapping[str, str]  # requested precision -> precision the artifact computes in
    requires: tuple[str, ...]  # modules needed to lower
    runtimes: tuple[str, ...]  # modules able to run the artifact: any one of them is enough
    pip_extra: str  # the pyproject extra that installs ``requires``
    # The model-layer rewrites (edgeav.models.rewrites names) and checks this format's export applies,
    # in the order they run: constructs its converter or delegate cannot take, swapped before lowering.
    rewrites: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()  # ``sys.platform`` values where the runtime works; () = anywhere
    is_directory: bool = False
    notes: str = ""
    # Relative lowering time (higher = slower, seen on LightAVSeg); only the order matters: the
    # parallel exporter starts the slowest formats first so its workers finish together.
    lowering_cost: int = 0

    def missing_modules(self) -> list[str]:
        """The modules in ``requires`` that are not installed."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def runtime_module(self) -> str | None:
        """The first installed runtime module, or None."""
        return next((m for m in self.runtimes if importlib.util.find_spec(m) is not None), None)

    def run_skip_reason(self) -> str | None:
        """Why artifacts of this format cannot run on this host, or None when they can."""
        if self.platforms and sys.platform not in self.platforms:
            names = {"darwin": "macOS", "linux": "Linux", "win32": "Windows"}
            where = " or ".join(names.get(p, p) for p in self.platforms)
            return f"{self.title} runs only on {where}"
        if self.runtime_module() is None:
            return f"no {self.title} runtime installed (pip install {' or '.join(self.runtimes)})"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "suffix": self.suffix,
            "precisions": dict(self.precisions),
            "requires": list(self.requires),
            "runtimes": list(self.runtimes),
            "platforms": list(self.platforms),
        }


@dataclass(frozen=True)
class TensorInfo:
    """One input or output as a saved artifact declares it (name is None when the format has none)."""

    name: str | None
    shape: tuple[int, ...]
    dtype: str  # numpy-style name: "float32", "float16", "int8", ...


@dataclass(frozen=True)
class ArtifactStructure:
    """What a saved artifact says about itself, read without running it."""

    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    ops: tuple[str, ...]  # the sorted op set (MIL ops, TFLite builtins, ONNX op types, edge ops)
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoweringRequest:
    """What a target needs to lower one model: the model, one example input tuple, the I/O contract."""

    model: nn.Module
    example_inputs: tuple[torch.Tensor, ...]
    io_spec: IOSpec
    precision: str  # the requested precision (fp32, ...); the format maps it to what it writes
    dest: Path

    def fields(self) -> tuple[nn.Module, tuple[torch.Tensor, ...], IOSpec, str, Path]:
        return self.model, self.example_inputs, self.io_spec, self.precision, self.dest


@dataclass(frozen=True)
class LoweringReport:
    """What a lowering did besides writing the artifact."""

    details: Mapping[str, Any] = field(default_factory=dict)  # e.g. the delegation summary
    warnings: tuple[str, ...] = ()
    ops: tuple[str, ...] = ()  # the op set seen while lowering, for formats whose artifact does not list it


class ExportTarget:
    """One export format's three steps, each done by the format folder's own module (see the module doc).

    Tests replace a format by subclassing this and overriding the steps.
    """

    def __init__(self, info: TargetInfo) -> None:
        self.info = info

    def lower(self, request: LoweringRequest) -> LoweringReport:
        """Convert ``request.model`` (eval mode, rewrites applied) and write the artifact to ``request.dest``."""
        return self._part("lower").lower(request, self.info)

    def inspect(self, path: Path) -> ArtifactStructure:
        """Read a saved artifact's inputs, outputs and op set without executing it."""
        return self._part("runner").inspect(Path(path))

    def load(self, path: Path, io_spec: IOSpec | None = None, threads: int | None = None) -> ArtifactRunner:
        """Load a saved artifact for execution on this host (see ``TargetInfo.run_skip_reason``).

        With ``io_spec``, runners of formats that name their inputs bind them by name, not by position;
        ``threads`` None leaves the runtime's default thread count.
        """
        runner: type[ArtifactRunner] = self._part("runner").RUNNER
        return runner(Path(path), io_spec, threads)

    def _part(self, module: str) -> ModuleType:
        return importlib.import_module(f"{self.info.package}.{module}")
