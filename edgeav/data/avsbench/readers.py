"""Readers of the AVSBench S4, MS3 and AVSS layouts, returning :class:`AVClip`."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from edgeav.data.avsbench.layout import (
    AVSS_CSV,
    AVSS_FOLDER,
    AVSS_LABELS,
    AVSS_NUM_CLASSES,
    LAYOUTS,
    MS3_LAYOUT,
    S4_LAYOUT,
    SPLITS,
    BinaryLayout,
    subset_root,
)
from edgeav.data.clips import AVClip
from edgeav.data.files import (
    avss_palette,
    fit_frames,
    load_binary_mask,
    load_label_rgb,
    load_logmel_pkl,
    load_rgb,
    load_wav,
    read_csv,
    require,
)
from edgeav.errors import DataError


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"split '{split}' is unknown; choose one of {', '.join(SPLITS)}")


def _column(header: list[str], name: str, fallback: int | None, path: Path) -> int:
    if name in header:
        return header.index(name)
    if fallback is not None and fallback < len(header):
        return fallback
    raise DataError(f"{path} has no '{name}' column (header: {', '.join(header)}); is this the right CSV?")


def _audio_fields(wav: Path, pkl: Path, frames: int, sample_rate: int):
    audio = logmel = None
    if wav.exists():
        audio = fit_frames(load_wav(wav, sample_rate), frames, sample_rate)
    if pkl.exists():
        logmel = load_logmel_pkl(pkl)
        if logmel.dim() != 4 or logmel.shape[1:] != (1, 96, 64):
            raise DataError(f"{pkl} holds a tensor of shape {tuple(logmel.shape)}, expected [T, 1, 96, 64]")
    if audio is None and logmel is None:
        raise DataError(f"no audio for this video: expected {pkl} or {wav}")
    return audio, logmel


class _AVSBenchObject(torch.utils.data.Dataset):
    """Reader of one AVSBench-object subset (S4 or MS3), described by a :class:`BinaryLayout`."""

    layout: BinaryLayout

    def __init__(self, root: str | Path, split: str = "train", *, image_size: int = 224, sample_rate: int = 16000):
        _check_split(split)
        lay = self.layout
        self.base = subset_root(root, lay.folder, lay.csv)
        self.split, self.size, self.sample_rate = split, (image_size, image_size), sample_rate
        csv_path = self.base / lay.csv
        header, rows = read_csv(csv_path)
        col_split = _column(header, "split", None, csv_path)
        col_cat = _column(header, "category", 2, csv_path) if lay.kind == "s4" else None
        self.items = [(r[0], r[col_cat] if col_cat is not None else "") for r in rows if r[col_split] == split]
        if not self.items:
            raise DataError(f"{csv_path} lists no videos for split '{split}'")

    def __len__(self) -> int:
        return len(self.items)

    def _path(self, template: str, name: str, category: str, i: int = 0) -> Path:
        rel = template.format(split=self.split, category=category, name=name, i=i)
        return self.base / self.layout.data / rel

    def __getitem__(self, index: int) -> AVClip:
        lay = self.layout
        name, category = self.items[index]
        frames = torch.stack([load_rgb(self._path(lay.frame, name, category, i), self.size) for i in range(1, lay.frames + 1)])
        masks = torch.zeros(lay.frames, 1, *self.size)
        annotated = torch.zeros(lay.frames, dtype=torch.bool)
        required = lay.train_masks if self.split == "train" else lay.frames
        for i in range(1, lay.frames + 1):
            path = self._path(lay.mask, name, category, i)
            if i <= required or path.exists():
                masks[i - 1] = load_binary_mask(path, self.size)
                annotated[i - 1] = True
        audio, logmel = _audio_fields(
            self._path(lay.wav, name, category), self._path(lay.logmel, name, category), lay.frames, self.sample_rate
        )
        return AVClip(
            frames=frames,
            audio=audio,
            masks=masks,
            category_names=[category] if category else [],
            meta={"kind": lay.kind, "name": name, "split": self.split, "index": index},
            logmel=logmel,
            annotated=annotated,
        )


class AVSBenchS4(_AVSBenchObject):
    """AVSBench-object single-source (S4)."""

    layout = S4_LAYOUT


class AVSBenchMS3(_AVSBenchObject):
    """AVSBench-object multi-source (MS3)."""

    layout = MS3_LAYOUT


def read_label_index(path: Path) -> dict[str, int]:
    with open(require(path, "label index"), encoding="utf-8") as f:
        return {str(k): int(v) for k, v in json.load(f).items()}


class AVSBenchAVSS(torch.utils.data.Dataset):
    """AVSBench-semantic (AVSS): per-pixel category masks of the sounding objects, 0 = background."""

    def __init__(self, root: str | Path, split: str = "train", *, image_size: int = 224, sample_rate: int = 16000):
        _check_split(split)
        self.base = subset_root(root, AVSS_FOLDER, AVSS_CSV)
        self.split, self.size, self.sample_rate = split, (image_size, image_size), sample_rate
        csv_path = self.base / AVSS_CSV
        header, rows = read_csv(csv_path)
        cols = [_column(header, c, None, csv_path) for c in ("uid", "label", "split")]
        self.items = [(r[cols[0]], r[cols[1]]) for r in rows if r[cols[2]] == split]
        if not self.items:
            raise DataError(f"{csv_path} lists no videos for split '{split}'")
        label_index = read_label_index(self.base / AVSS_LABELS)
        self.class_names = [n for n, _ in sorted(label_index.items(), key=lambda kv: kv[1])][1:]
        self.palette = avss_palette(max(AVSS_NUM_CLASSES, len(label_index)))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> AVClip:
        uid, label = self.items[index]
        clip_dir = self.base / label / uid
        frame_dir = require(clip_dir / "frames", "frames folder")
        count = len(list(frame_dir.glob("*.jpg")))
        if count == 0:
            raise DataError(f"no frames in {frame_dir}: expected {frame_dir / '0.jpg'} ...")
        frames = torch.stack([load_rgb(frame_dir / f"{i}.jpg", self.size) for i in range(count)])
        semantic = torch.zeros(count, *self.size, dtype=torch.int64)
        annotated = torch.zeros(count, dtype=torch.bool)
        # v1s videos annotate the first frame only; in val/test every frame must have a label map
        required = 1 if (label == "v1s" or self.split == "train") else count
        for i in range(count):
            path = clip_dir / "labels_rgb" / f"{i}.png"
            if i < required or path.exists():
                semantic[i] = load_label_rgb(path, self.palette, self.size)
                annotated[i] = True
        audio = fit_frames(load_wav(clip_dir / "audio.wav", self.sample_rate), count, self.sample_rate)
        present = sorted(int(v) for v in semantic.unique() if v > 0)
        return AVClip(
            frames=frames,
            audio=audio,
            masks=(semantic > 0).float()[:, None],
            category_names=[self.class_names[v - 1] for v in present if v - 1 < len(self.class_names)],
            meta={"kind": "avss", "name": uid, "label": label, "split": self.split, "index": index},
            semantic=semantic,
            annotated=annotated,
        )


READERS: dict[str, Callable[..., torch.utils.data.Dataset]] = {
    "s4": AVSBenchS4,
    "ms3": AVSBenchMS3,
    "avss": AVSBenchAVSS,
}


def available_splits(root: str | Path, kind: str) -> list[str]:
    """Splits that have at least one video listed in ``kind``'s metadata CSV under ``root``."""
    if kind == "avss":
        base = subset_root(root, AVSS_FOLDER, AVSS_CSV)
        header, rows = read_csv(base / AVSS_CSV)
    else:
        lay = LAYOUTS[kind]
        base = subset_root(root, lay.folder, lay.csv)
        header, rows = read_csv(base / lay.csv)
    col = _column(header, "split", None, base)
    present = {r[col] for r in rows}
    return [s for s in SPLITS if s in present]

