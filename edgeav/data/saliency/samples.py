"""Training and evaluation samples from saliency clips: a window of frames ending at a target frame.

One class serves both kinds of saliency model:

* the DTFSal teacher reads a clip of T frames and predicts the map of its last frame
  (``SaliencyWindows(clips, frames=T, audio_samples=S)``);
* a streaming student (DTFSal-S) sees one new frame per step and keeps the features of the previous
  ``K − 1`` frames as state; trained on windows of K frames with ``stride=1`` it sees exactly what it
  sees on a phone after K frames.

Each sample is a dict: ``frames`` [T, 3, H, W], ``audio`` [S] (the S samples that end where the target
frame ends — the audio a live app has heard at that moment), ``saliency`` [1, H, W] and ``fixations``
[1, H, W] of the target frame (an all-zero fixation map when the source has none: NSS and AUC-J then
leave it out), ``labelled`` (False for a video without eyeMaps: its maps are zeros and only a teacher can
supervise it), ``annotated`` (True: the trainer's "usable sample" flag), and ``clip``/``frame`` indices. The window's clips come from any dataset of :class:`SaliencyClip`
(``SyntheticSaliencyClips`` or the layout reader ``AVSaliencyVideos``).
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from edgeav.data.clips import SaliencyClip, shuffled_audio_order
from edgeav.errors import DataError, UsageError

DEFAULT_CACHE_MB = 2048


def audio_ending_at(audio: Tensor, end: int, length: int) -> Tensor:
    """The ``length`` samples of ``audio`` [S] that end at sample ``end`` (zeros before the start)."""
    start = end - length
    piece = audio[max(start, 0) : end]
    if start < 0:
        piece = torch.cat([audio.new_zeros(-start), piece])
    return piece


def resize_maps(saliency: Tensor, fixations: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Saliency [N, 1, h, w] bilinearly and fixations by max-pooling, so that no fixation is lost."""
    if tuple(saliency.shape[-2:]) == tuple(size):
        return saliency, fixations
    saliency = F.interpolate(saliency, size=size, mode="bilinear", align_corners=False)
    if fixations.shape[-2] >= size[0] and fixations.shape[-1] >= size[1]:
        fixations = F.adaptive_max_pool2d(fixations, size)
    else:
        fixations = F.interpolate(fixations, size=size, mode="nearest")
    return saliency, fixations


class SaliencyWindows(Dataset):
    """Windows of ``frames`` frames (target = last frame) every ``stride`` frames of every clip.

    ``audio_samples`` is the model's audio window; a target frame is used only once that much audio
    has been heard since the clip started (and ``frames`` frames have been seen), so no sample is padded.
    ``audio_shuffle_seed`` pairs every clip with the audio of another clip (a derangement), which
    measures how much a model relies on sound. ``size`` = (H, W) resizes frames and maps.
    """

    def __init__(
        self,
        clips: Dataset,
        frames: int,
        audio_samples: int,
        *,
        stride: int = 1,
        size: tuple[int, int] | None = None,
        audio_shuffle_seed: int | None = None,
        cache_mb: int = DEFAULT_CACHE_MB,
    ) -> None:
        if frames < 1 or audio_samples < 1 or stride < 1:
            raise UsageError("frames, audio_samples and stride must be >= 1")
        if len(clips) == 0:
            raise DataError("the dataset has no clips; check the --data path or the number of clips")
        self.clips, self.frames, self.audio_samples, self.size = clips, frames, audio_samples, size
        first: SaliencyClip = clips[0]
        if not isinstance(first, SaliencyClip):
            raise DataError(f"{type(clips).__name__} does not hold saliency clips; use a saliency dataset (synthetic-saliency, avsal-NAME:PATH)")
        if first.audio is None:
            raise DataError("this saliency dataset has no audio; add video_audio/{ds}/{vid}/{vid}.wav to the layout")
        self.fps, self.sample_rate = first.fps, first.sample_rate
        n = int(first.frames.shape[0])
        heard = math.ceil(audio_samples * first.fps / first.sample_rate - 1e-9)  # frames of audio the window needs
        self.first_target = max(frames, heard) - 1
        if self.first_target >= n:
            need = max(frames, heard)
            raise DataError(
                f"clips have {n} frames ({len(first.audio) / first.sample_rate:.2f} s of audio) but the model needs "
                f"{frames} frames and {audio_samples / first.sample_rate:.2f} s of audio ({need} frames at {first.fps:g} fps); "
                f"make longer clips (frames_per_clip={need} or more) or use a model config with a shorter clip"
            )
        self.targets = list(range(self.first_target, n, stride))
        self._audio_perm: Tensor | None = None
        if audio_shuffle_seed is not None:
            self._audio_perm = shuffled_audio_order(len(clips), audio_shuffle_seed)
        self._cache: dict[int, SaliencyClip] = {}
        self._budget, self._used = cache_mb * 2**20, 0

    def _clip(self, index: int) -> SaliencyClip:
        if index in self._cache:
            return self._cache[index]
        clip = self.clips[index]
        size = sum(t.numel() * t.element_size() for t in (clip.frames, clip.audio, clip.saliency, clip.fixations) if t is not None)
        if self._used + size <= self._budget:
            self._cache[index], self._used = clip, self._used + size
        return clip

    def __len__(self) -> int:
        return len(self.clips) * len(self.targets)

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip_idx, k = divmod(index, len(self.targets))
        t = self.targets[k]
        clip = self._clip(clip_idx)
        sound = clip if self._audio_perm is None else self._clip(int(self._audio_perm[clip_idx]))
        end = int(round((t + 1) * self.sample_rate / self.fps))
        if sound.audio is None or len(sound.audio) < end:
            raise DataError(f"clip {clip_idx}: its audio ends before frame {t + 1}; every clip needs audio for all its frames")
        frames = clip.frames[t + 1 - self.frames : t + 1]
        saliency = clip.saliency[t : t + 1]
        labelled = bool(clip.meta.get("labelled", True))
        fixations = clip.fixations[t : t + 1] if labelled and clip.fixations is not None else torch.zeros_like(saliency)
        if self.size and tuple(frames.shape[-2:]) != tuple(self.size):
            frames = F.interpolate(frames, size=self.size, mode="bilinear", align_corners=False)
            saliency, fixations = resize_maps(saliency, fixations, self.size)
        return {
            "frames": frames,
            "audio": audio_ending_at(sound.audio, end, self.audio_samples),
            "saliency": saliency[0],
            "fixations": fixations[0],
            "labelled": labelled,
            "annotated": True,  # every window is usable: teacher-only when unlabelled
            "clip": clip_idx,
            "frame": t,
        }
