"""The audio-visual saliency layout (DIEM / Coutrot / SumMe / ETMD / AVAD as STAViS and DiffSal use them),
and a SALICON-like layout for still images.

Videos (``root`` holds these folders; ``ds`` is the dataset name, e.g. ``DIEM``)::

    video_frames/{ds}/{vid}/img_{00001..}.jpg
    video_audio/{ds}/{vid}/{vid}.wav
    annotations/{ds}/{vid}/maps/eyeMap_{00001..}.jpg          (optional: a video without maps is unlabelled)
    annotations/{ds}/{vid}/fixations/fixMap_{00001..}.png   (edgeav addition, optional: binary fixation maps)
    fold_lists/{ds}_list_{train|test}_{1,2,3}_fps.txt       (lines "vid nframes fps")

Still images::

    images/{split}/{name}.jpg   maps/{split}/{name}.png   fixations/{split}/{name}.json  ({"points": [[y, x], ...]})
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.data.clips import SaliencyClip, SaliencyImage
from edgeav.data.files import (
    fit_frames,
    load_grey,
    load_rgb,
    require,
    save_grey,
    save_rgb,
)
from edgeav.data.wav import load_wav, save_wav
from edgeav.errors import DataError, UsageError

FRAME = "video_frames/{ds}/{vid}/img_{i:05d}.jpg"
AUDIO = "video_audio/{ds}/{vid}/{vid}.wav"
EYE_MAP = "annotations/{ds}/{vid}/maps/eyeMap_{i:05d}.jpg"
FIX_MAP = "annotations/{ds}/{vid}/fixations/fixMap_{i:05d}.png"
FOLD_LIST = "fold_lists/{ds}_list_{split}_{fold}_fps.txt"
MANIFEST = "edgeav_dataset.json"


def _path(root: Path, template: str, **kw: Any) -> Path:
    return root / template.format(**kw)


def _mkpath(root: Path, template: str, **kw: Any) -> Path:
    p = _path(root, template, **kw)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def write_av_saliency(
    dataset: Any,
    root: str | Path,
    name: str = "SynthAV",
    *,
    folds: int = 3,
    test_fraction: float = 0.2,
    on_progress: Callable[[int], None] | None = None,
) -> Path:
    """Write a dataset of :class:`SaliencyClip` as videos of dataset ``name`` with ``folds`` train/test splits."""
    root = Path(root)
    videos = []
    for i in range(len(dataset)):
        clip = dataset[i]
        vid = f"{name.lower()}_{i:05d}"
        for f in range(clip.frames.shape[0]):
            save_rgb(_mkpath(root, FRAME, ds=name, vid=vid, i=f + 1), clip.frames[f])
            save_grey(_mkpath(root, EYE_MAP, ds=name, vid=vid, i=f + 1), clip.saliency[f])
            if clip.fixations is not None:
                save_grey(_mkpath(root, FIX_MAP, ds=name, vid=vid, i=f + 1), clip.fixations[f])
        if clip.audio is not None:
            save_wav(_mkpath(root, AUDIO, ds=name, vid=vid), clip.audio, clip.sample_rate)
        videos.append((vid, clip.frames.shape[0], clip.fps))
        if on_progress:
            on_progress(1)
    rng = np.random.default_rng([getattr(dataset, "seed", 0), 101])
    n_test = max(1, int(round(test_fraction * len(videos)))) if len(videos) > 1 else 0
    for fold in range(1, folds + 1):
        test = set(rng.permutation(len(videos))[:n_test].tolist())
        for split, members in (("train", [v for k, v in enumerate(videos) if k not in test]),
                               ("test", [v for k, v in enumerate(videos) if k in test])):
            lines = "".join(f"{vid} {n} {fps:g}\n" for vid, n, fps in members)
            _mkpath(root, FOLD_LIST, ds=name, split=split, fold=fold).write_text(lines)
    manifest_path = root / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"format": "edgeav-avsal/1"}
    manifest.setdefault("datasets", {})[name] = {"videos": len(videos), "folds": folds, "seed": getattr(dataset, "seed", None)}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def read_fold_list(root: str | Path, name: str, split: str, fold: int) -> list[tuple[str, int, float]]:
    """(vid, nframes, fps) of one fold list."""
    path = require(_path(Path(root), FOLD_LIST, ds=name, split=split, fold=fold), "fold list")
    videos = []
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 3:
            raise DataError(f"{path}:{line_no}: expected 'name nframes fps', got {line!r}")
        videos.append((parts[0], int(parts[1]), float(parts[2])))
    return videos


class AVSaliencyVideos(torch.utils.data.Dataset):
    """Windows of ``clip_frames`` frames (every ``stride`` frames) over the videos of one fold list."""

    def __init__(
        self,
        root: str | Path,
        name: str,
        split: str = "train",
        fold: int = 1,
        *,
        clip_frames: int = 16,
        stride: int | None = None,
        size: tuple[int, int] | None = None,
        sample_rate: int = 16000,
    ) -> None:
        if split not in ("train", "test"):
            raise UsageError(f"saliency split must be 'train' or 'test', got '{split}'")
        self.root, self.name, self.size, self.sample_rate = Path(root), name, size, sample_rate
        self.clip_frames = clip_frames
        self.videos = read_fold_list(root, name, split, fold)
        step = stride or clip_frames
        self.windows = [
            (k, start)
            for k, (_, n, _) in enumerate(self.videos)
            for start in range(0, max(1, n - clip_frames + 1), step)
        ]
        if not self.windows:
            raise DataError(f"fold list {split} {fold} of {name} under {root} lists no videos")

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> SaliencyClip:
        k, start = self.windows[index]
        vid, n, fps = self.videos[k]
        frame_ids = [min(start + j, n - 1) + 1 for j in range(self.clip_frames)]  # files are 1-based
        kw = {"ds": self.name, "vid": vid}
        frames = torch.stack([load_rgb(_path(self.root, FRAME, i=i, **kw), self.size) for i in frame_ids])
        # Videos without eyeMaps are unlabelled: a distilled student learns them from its teacher alone.
        labelled = _path(self.root, EYE_MAP, i=frame_ids[0], **kw).exists()
        if labelled:
            saliency = torch.stack([load_grey(_path(self.root, EYE_MAP, i=i, **kw), self.size) for i in frame_ids])
        else:
            saliency = torch.zeros(frames.shape[0], 1, *frames.shape[-2:])
        fixations = None
        if _path(self.root, FIX_MAP, i=frame_ids[0], **kw).exists():
            fixations = torch.stack(
                [(load_grey(_path(self.root, FIX_MAP, i=i, **kw), self.size, nearest=True) > 0.5).float() for i in frame_ids]
            )
        audio = None
        wav = _path(self.root, AUDIO, **kw)
        if wav.exists():
            seconds = self.clip_frames / fps
            pcm = load_wav(wav, self.sample_rate, start=start / fps, duration=seconds)
            audio = fit_frames(pcm, 1, int(round(seconds * self.sample_rate)))[0]
        return SaliencyClip(
            frames=frames,
            audio=audio,
            saliency=saliency,
            fixations=fixations,
            fps=fps,
            sample_rate=self.sample_rate,
            meta={"video": vid, "dataset": self.name, "start": start, "frames": frame_ids, "labelled": labelled},
        )


IMAGE, MAP, FIXATIONS = "images/{split}/{name}.jpg", "maps/{split}/{name}.png", "fixations/{split}/{name}.json"


def write_saliency_images(dataset: Any, root: str | Path, split: str = "train") -> Path:
    """Write a dataset of :class:`SaliencyImage` in the still-image layout."""
    root = Path(root)
    for i in range(len(dataset)):
        item = dataset[i]
        name = f"img_{i:06d}"
        save_rgb(_mkpath(root, IMAGE, split=split, name=name), item.image)
        save_grey(_mkpath(root, MAP, split=split, name=name), item.saliency)
        h, w = item.image.shape[-2:]
        payload = {"height": int(h), "width": int(w), "points": item.points.tolist()}
        _mkpath(root, FIXATIONS, split=split, name=name).write_text(json.dumps(payload))
    return root


class SaliencyImageFolder(torch.utils.data.Dataset):
    """Still images with fixation points and saliency maps, from the still-image layout."""

    def __init__(self, root: str | Path, split: str = "train", *, size: tuple[int, int] | None = None) -> None:
        self.root, self.split, self.size = Path(root), split, size
        folder = require(self.root / "images" / split, "image folder")
        self.names = sorted(p.stem for p in folder.glob("*.jpg"))
        if not self.names:
            raise DataError(f"no images in {folder}: expected {folder / 'NAME.jpg'} ...")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> SaliencyImage:
        name = self.names[index]
        image = load_rgb(_path(self.root, IMAGE, split=self.split, name=name), self.size)
        saliency = load_grey(_path(self.root, MAP, split=self.split, name=name), self.size)
        payload = json.loads(require(_path(self.root, FIXATIONS, split=self.split, name=name), "fixations").read_text())
        points = torch.tensor(payload["points"], dtype=torch.float32).reshape(-1, 2)
        h, w = image.shape[-2:]
        points = points * torch.tensor([h / payload["height"], w / payload["width"]])
        fix = torch.zeros(1, h, w)
        if len(points):
            ys = points[:, 0].round().long().clamp(0, h - 1)
            xs = points[:, 1].round().long().clamp(0, w - 1)
            fix[0, ys, xs] = 1.0
        return SaliencyImage(image=image, points=points, fixations=fix, saliency=saliency, meta={"name": name})
