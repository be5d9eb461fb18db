"""Frame-level training samples from clip datasets.

Every model in edgeav takes one frame and its audio per forward (the deployable contract), so training
and evaluation flatten clips of T frames into samples. Only frames whose mask is ground truth become
samples (AVSBench S4 train annotates frame 1 of 5); the pattern is read from the first clip, since the
official splits annotate the same frames in every clip of a split.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from edgeav.data import open_dataset
from edgeav.data.clips import AVClip, shuffled_audio_order
from edgeav.data.registry import data_task
from edgeav.errors import DataError, UsageError
from edgeav.registry import ModelEntry

# Enough for 1,000 MS3-like scenes at 224² (about 4.3 GB as float32); 0 turns caching off.
DEFAULT_CACHE_MB = 6144


class FrameSamples(Dataset):
    """The annotated frames of every clip, each a dict: frames [3,H,W], audio [S], mask [1,H,W], annotated,
    and semantic [1,H,W] int64 class indices when the dataset is semantic (AVSS-like)."""

    def __init__(self, clips: Dataset, audio_shuffle_seed: int | None = None, image_size: int | None = None,
                 cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self.clips = clips
        self.image_size = image_size  # resize frames (bilinear) and masks (nearest) to the model's input
        # Synthetic clips are rendered on access and one clip serves several frame samples, so keep the
        # clips read so far in memory, up to ``cache_mb``; reading is deterministic, so results do not change.
        self._cache: dict[int, Any] = {}
        self._cache_budget = cache_mb * 2**20
        self._cache_bytes = 0
        if len(clips) == 0:
            raise DataError("the dataset has no clips; check the --data path or the number of scenes")
        first = clips[0]
        if not isinstance(first, AVClip):
            raise UsageError(
                f"segmentation training and evaluation read audio-visual clips with masks, but this dataset holds "
                f"{type(first).__name__}s (saliency data); pass segmentation data (synthetic-ms3, avsbench-ms3:PATH)"
            )
        if first.audio is None:
            raise DataError(
                "this dataset has no raw audio (only pickled log-mel); edgeav models take raw PCM — "
                "add the audio wavs of the official layout"
            )
        self.frame_ids = [t for t in range(first.num_frames) if bool(first.annotated[t])]
        if not self.frame_ids:
            raise DataError("the first clip has no annotated frame; this split cannot be used for training or evaluation")
        self._audio_perm: torch.Tensor | None = None
        if audio_shuffle_seed is not None:
            self._audio_perm = shuffled_audio_order(len(clips), audio_shuffle_seed)

    @classmethod
    def from_spec(
        cls, spec: str, split: str, image_size: int | None = None, audio_shuffle_seed: int | None = None
    ) -> FrameSamples:
        """Frame samples of ``open_dataset(spec, split)`` (e.g. ``synthetic-ms3``, ``avsbench-s4:PATH``)."""
        return cls(open_dataset(spec, split), audio_shuffle_seed=audio_shuffle_seed, image_size=image_size)

    def _clip(self, index: int) -> Any:
        if index in self._cache:
            return self._cache[index]
        clip = self.clips[index]
        size = _clip_bytes(clip)
        if self._cache_bytes + size <= self._cache_budget:
            self._cache[index] = clip
            self._cache_bytes += size
        return clip

    def __len__(self) -> int:
        return len(self.clips) * len(self.frame_ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip_idx, k = divmod(index, len(self.frame_ids))
        t = self.frame_ids[k]
        clip = self._clip(clip_idx)
        audio_clip = clip if self._audio_perm is None else self._clip(int(self._audio_perm[clip_idx]))
        frames, mask = clip.frames[t], clip.masks[t]
        semantic = None if clip.semantic is None else clip.semantic[t][None]  # [1, H, W] class indices
        if self.image_size and frames.shape[-1] != self.image_size:
            size = (self.image_size, self.image_size)
            frames = F.interpolate(frames[None], size=size, mode="bilinear", align_corners=False)[0]
            mask = F.interpolate(mask[None], size=size, mode="nearest")[0]
            if semantic is not None:
                semantic = F.interpolate(semantic[None].float(), size=size, mode="nearest")[0].long()
        item = {
            "frames": frames,
            "audio": audio_clip.audio[t],
            "mask": mask,
            "annotated": bool(clip.annotated[t]),
        }
        if semantic is not None:
            item["semantic"] = semantic
        return item


def _clip_bytes(clip: Any) -> int:
    tensors = (clip.frames, clip.audio, clip.masks, clip.semantic, clip.logmel)
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


def annotated_only(batch: dict[str, Any]) -> dict[str, Any]:
    """A collated batch restricted to its annotated samples (a guard for splits whose clips are not
    annotated alike; :class:`FrameSamples` already keeps only the frames annotated in the first clip)."""
    keep = torch.as_tensor(batch["annotated"], dtype=torch.bool)
    if bool(keep.all()):
        return batch
    return {k: v[keep] if torch.is_tensor(v) and v.dim() > 0 else v for k, v in batch.items()}


# Data to suggest when a model is given another task's data.
EXAMPLE_DATA = {"segmentation": "synthetic-ms3 or avsbench-ms3:PATH", "saliency": "synthetic-saliency or avsal-NAME:PATH"}


def check_data_fits(entry: ModelEntry, config: Any, spec: str) -> None:
    """UsageError (one line naming both) when ``spec`` is data of another task than ``entry``'s, or has
    no semantic labels for a multi-class head."""
    kind = data_task(spec)
    if kind is None:
        return
    task, semantic = kind
    if task != entry.task:
        raise UsageError(
            f"--data {spec} is {task} data, but {entry.name} is a {entry.task} model; pass {entry.task} data "
            f"(e.g. {EXAMPLE_DATA[entry.task]}) or a {task} model"
        )
    classes = getattr(config, "num_classes", 1)
    if classes > 1 and not semantic:
        raise UsageError(
            f"--data {spec} has binary masks, but this {entry.name} config has a {classes}-class head; pass "
            "semantic data (synthetic-avss, avsbench-avss:PATH) or a binary config"
        )


def model_samples(entry: ModelEntry, config: Any, spec: str, split: str, model: torch.nn.Module | None = None,
                  audio_shuffle_seed: int | None = None) -> Dataset:
    """A model's samples of ``split`` of dataset ``spec``: its entry's ``dataset`` (``model``: the fp32 model,
    for samples that depend on it), or segmentation frames at the config's input size. Data of another
    task is refused first (:func:`check_data_fits`)."""
    check_data_fits(entry, config, spec)
    if entry.dataset is not None:
        return entry.dataset(config, spec, split, audio_shuffle_seed, model)
    return FrameSamples.from_spec(spec, split, getattr(config, "image_size", None), audio_shuffle_seed)
