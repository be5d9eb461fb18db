"""Tensor and model I/O specs: what the exporter, the manifest and the demo apps read."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from edgeav.errors import InputShapeError, UsageError

AUDIO_WINDOWS = ("centred", "trailing")  # edgeav.data.windows reads this tuple


@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor of a deployable graph."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    layout: str = ""
    value_range: tuple[float, float] | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["value_range"] = list(self.value_range) if self.value_range else None
        return d

    def check(self, tensor: torch.Tensor) -> None:
        """Raise InputShapeError if ``tensor`` does not fit this spec."""
        if tuple(tensor.shape) != self.shape:
            raise InputShapeError(
                f"input '{self.name}' has shape {tuple(tensor.shape)}, expected {self.shape} ({self.layout}); "
                f"resize/reshape it to {list(self.shape)}"
            )
        if str(tensor.dtype).removeprefix("torch.") != self.dtype:
            raise InputShapeError(
                f"input '{self.name}' has dtype {tensor.dtype}, expected {self.dtype}; cast it with .to(torch.{self.dtype})"
            )


@dataclass(frozen=True)
class IOSpec:
    """The inputs and outputs of a model's deployable graph, plus how to use them."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    output_reading: str
    sample_rate: int | None = None
    samples_per_frame: int | None = None
    labels: tuple[str, ...] = field(default_factory=tuple)
    # Which second of audio goes with the frame (edgeav.data.windows): "centred" (the datasets' layout) or
    # "trailing" (the last second before the frame, what a live app has).
    audio_window: str = "centred"

    def __post_init__(self) -> None:
        if self.audio_window not in AUDIO_WINDOWS:
            raise UsageError(f"audio_window '{self.audio_window}' is unknown; choose one of {', '.join(AUDIO_WINDOWS)}")

    def check_inputs(self, tensors: tuple[torch.Tensor, ...]) -> None:
        if len(tensors) != len(self.inputs):
            raise InputShapeError(
                f"got {len(tensors)} inputs, expected {len(self.inputs)}: {[s.name for s in self.inputs]}"
            )
        for spec, t in zip(self.inputs, tensors):
            spec.check(t)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": [s.to_dict() for s in self.outputs],
            "output_reading": self.output_reading,
            "sample_rate": self.sample_rate,
            "samples_per_frame": self.samples_per_frame,
            "labels": list(self.labels),
            "audio_window": self.audio_window,
        }
