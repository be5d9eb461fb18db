"""What every dataset returns: one audio-visual clip, one saliency clip or one still image."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import Tensor

from edgeav.errors import UsageError


@dataclass
class AVClip:
    """One audio-visual segmentation clip of T frames (one frame per second of audio).

    frames:    [T, 3, H, W] float32 RGB in [0, 1] (not ImageNet-normalised).
    audio:     [T, S] float32 PCM in [-1, 1], S = sample_rate × seconds per frame; None when the source
               has no waveform (an AVSBench tree with only the pickled log-mel).
    masks:     [T, 1, H, W] float32 in {0, 1}: pixels of the objects sounding in that frame.
    semantic:  [T, H, W] int64 category index + 1 of the sounding object at each pixel, 0 = background
               (AVSS only, else None).
    logmel:    [T, 1, 96, 64] float32 VGGish log-mel examples when the source stores them, else None.
    annotated: [T] bool, frames whose mask is ground truth (AVSBench S4 train annotates frame 1 only);
               masks of unannotated frames are zeros and must be left out of losses and metrics.
    """

    frames: Tensor
    audio: Tensor | None
    masks: Tensor
    category_names: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    semantic: Tensor | None = None
    logmel: Tensor | None = None
    annotated: Tensor | None = None

    def __post_init__(self) -> None:
        if self.annotated is None:
            self.annotated = torch.ones(self.frames.shape[0], dtype=torch.bool)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])


@dataclass
class SaliencyClip:
    """A window of T video frames with its audio and per-frame gaze ground truth.

    frames:       [T, 3, H, W] float32 RGB in [0, 1].
    audio:        [S] float32 PCM in [-1, 1] covering the window (S = T / fps × sample_rate), or None.
    saliency:     [T, 1, H, W] float32 in [0, 1] (max-normalised blurred fixation density).
    fixations:    [T, 1, H, W] float32 binary fixation map, or None when the source has none.
    """

    frames: Tensor
    audio: Tensor | None
    saliency: Tensor
    fixations: Tensor | None
    fps: float
    sample_rate: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SaliencyImage:
    """A still image with fixations (for image saliency models such as SalTR).

    image:      [3, H, W] float32 RGB in [0, 1].
    points:     [N, 2] float32 fixation coordinates (y, x) in pixels, one row per fixation.
    fixations:  [1, H, W] float32 binary fixation map.
    saliency:   [1, H, W] float32 in [0, 1].
    """

    image: Tensor
    points: Tensor
    fixations: Tensor
    saliency: Tensor
    meta: dict[str, Any] = field(default_factory=dict)


def shuffled_audio_order(count: int, seed: int) -> Tensor:
    """Which clip's audio each of ``count`` clips gets under ``--shuffle-audio``: a rotation by a seeded
    offset, so no clip keeps its own (a derangement). Shuffling measures how much a model relies on sound;
    with one clip it would shuffle nothing, so that is refused."""
    if count < 2:
        raise UsageError("--shuffle-audio pairs each clip with another clip's audio, but this split has "
                         f"{count} clip; use a split with at least 2 clips")
    g = torch.Generator().manual_seed(seed)
    return (torch.arange(count) + torch.randint(1, count, (1,), generator=g)) % count


def collate_clips(batch: Sequence[Any]) -> Any:
    """Stack a list of clips of one type into one batched clip (tensors gain a leading B dim).

    Tensor fields are stacked (None stays None only if it is None in every item); lists, dicts and
    scalars become lists. Use as ``DataLoader(dataset, collate_fn=collate_clips)``; ``SaliencyImage``
    batches keep ``points`` as a list because the number of fixations varies.
    """
    first = batch[0]
    out: dict[str, Any] = {}
    for f in fields(first):
        values = [getattr(item, f.name) for item in batch]
        if all(v is None for v in values):
            out[f.name] = None
        elif all(isinstance(v, Tensor) for v in values) and len({tuple(v.shape) for v in values}) == 1:
            out[f.name] = torch.stack(values)
        else:
            out[f.name] = values
    return type(first)(**out)
