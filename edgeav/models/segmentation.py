"""What the audio-visual segmentation models share: one frame and its audio in, mask probabilities out.

A model subclasses :class:`AVSegmentationModel` and defines ``forward_train(frames, pcm)`` returning an
output with ``.logits`` at input size (plus whatever its loss needs); the deployable ``forward``, the I/O
contract, the verification samples and the training-time prediction are then the same for every one.
"""
from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import nn

from edgeav.models.layers.io import mask_probabilities
from edgeav.specs import IOSpec, TensorSpec


class FrameAudioConfig(Protocol):
    """The fields of a model config that the shared I/O contract reads."""

    image_size: int
    sample_rate: int
    samples_per_frame: int
    num_classes: int


class AVSegmentationModel(nn.Module):
    """Base class: raw PCM + RGB frame → mask probabilities; subclasses define ``forward_train``."""

    def forward_train(self, frames: torch.Tensor, pcm: torch.Tensor) -> Any:
        raise NotImplementedError

    def forward(self, frames: torch.Tensor, pcm: torch.Tensor) -> torch.Tensor:
        """The deployable graph: probabilities [B, classes, H, W] (sigmoid if binary, softmax otherwise)."""
        return mask_probabilities(self.forward_train(frames, pcm).logits)


def frame_audio_io_spec(cfg: FrameAudioConfig) -> IOSpec:
    """One video frame and its PCM → a mask at input resolution (binary, or per-class probabilities)."""
    size = cfg.image_size
    binary = cfg.num_classes == 1
    return IOSpec(
        inputs=(
            TensorSpec("frames", (1, 3, size, size), "float32", "NCHW, RGB", (0.0, 1.0),
                       "one video frame resized to the model size; ImageNet normalisation happens in-graph"),
            TensorSpec("audio", (1, cfg.samples_per_frame), "float32", "N, samples (mono PCM)", (-1.0, 1.0),
                       f"the {cfg.samples_per_frame / cfg.sample_rate:g} s of audio around the frame at {cfg.sample_rate} Hz; log-mel happens in-graph"),
        ),
        outputs=(
            TensorSpec("mask", (1, cfg.num_classes, size, size), "float32", "NCHW", (0.0, 1.0),
                       "probability that a pixel belongs to a sounding object" if binary else "per-class probabilities"),
        ),
        output_reading=("threshold mask[0, 0] at 0.5 → binary sounding-object mask at input resolution" if binary
                        else "argmax over axis 1 → class index per pixel (0 = background)"),
        sample_rate=cfg.sample_rate,
        samples_per_frame=cfg.samples_per_frame,
        labels=("background", "sounding") if binary else semantic_labels(cfg.num_classes),
    )


def semantic_labels(num_classes: int) -> tuple[str, ...]:
    """Class names of a semantic head: background, then the synthetic world's categories (what
    synthetic-avss trains; a head trained on AVSBench-AVSS keeps the index order of its label file)."""
    from edgeav.data.categories import MAX_CATEGORIES, category_bank

    named = category_bank(min(num_classes - 1, MAX_CATEGORIES))
    return ("background", *(c.name for c in named), *(f"class_{i}" for i in range(len(named) + 1, num_classes)))


def scene_samples(cfg: FrameAudioConfig, n: int, seed: int, kind: str) -> list[tuple[torch.Tensor, ...]]:
    """Realistic inputs: one frame and its audio from ``n`` synthetic scenes of ``kind`` (s4, ms3, avss)."""
    from edgeav.data.synthetic import SceneConfig, SyntheticAVScenes

    scenes = SyntheticAVScenes(
        SceneConfig(kind=kind, image_size=cfg.image_size, sample_rate=cfg.sample_rate,
                    seconds_per_frame=cfg.samples_per_frame / cfg.sample_rate),
        num_scenes=n, seed=seed,
    )
    clips = (scenes[i] for i in range(n))
    return [(c.frames[:1].contiguous().float(), c.audio[:1].contiguous().float()) for c in clips]


def segmentation_logits(model: nn.Module, batch: dict[str, Any]) -> torch.Tensor:
    """The training-time prediction of an :class:`AVSegmentationModel`: mask logits at input size."""
    return model.forward_train(batch["frames"], batch["audio"]).logits
