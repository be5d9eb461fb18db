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
from edgeav.data.check import DataFile, quick_check
from edgeav.data.clips import AVClip
from edgeav.data.files import (
    avss_palette,
    fit_frames,
    image_size,
    load_binary_mask,
    load_label_rgb,
    load_logmel_pkl,
    load_rgb,
    read_csv,
    require,
)
from edgeav.data.wav import load_wav
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


def _audio_fields(wav: Path | None, pkl: Path, frames: int, sample_rate: int):
    """(audio, logmel) of a clip; ``wav`` None: the dataset has no wavs (only the pickled log-mel)."""
    audio = logmel = None
    if wav is not None:
        audio = fit_frames(load_wav(wav, sample_rate), frames, sample_rate)
    if pkl.exists() or wav is None:
        logmel = load_logmel_pkl(pkl)
        if logmel.dim() != 4 or logmel.shape[1:] != (1, 96, 64):
            raise DataError(f"{pkl} holds a tensor of shape {tuple(logmel.shape)}, expected [T, 1, 96, 64]; regenerate it")
    return audio, logmel


class _AVSBenchObject(torch.utils.data.Dataset):
    """Reader of one AVSBench-object subset (S4 or MS3), described by a :class:`BinaryLayout`."""

    layout: BinaryLayout

    def __init__(self, root: str | Path, split: str = "train", *, image_size: int = 224, sample_rate: int = 16000,
                 check_files: bool = True):
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
        # A tree has wavs (then every clip of every split needs its own) or only the pickled log-mel (the S4
        # download); looked up over all splits, so a split whose only wav was deleted is not taken for the latter.
        wav_root = self.base / lay.data / lay.wav.split("/", 1)[0]
        self.has_wavs = wav_root.is_dir() and next(wav_root.rglob("*.wav"), None) is not None
        if check_files:  # headers only; `edgeav data check` decodes every file
            quick_check(self, root)

    def __len__(self) -> int:
        return len(self.items)

    def _path(self, template: str, name: str, category: str, i: int = 0) -> Path:
        rel = template.format(split=self.split, category=category, name=name, i=i)
        return self.base / self.layout.data / rel

    def _masks(self, name: str, category: str) -> list[tuple[int, Path]]:
        """(frame number, path) of the masks a clip has: the split's required ones, and any other present."""
        lay = self.layout
        required = lay.train_masks if self.split == "train" else lay.frames
        paths = [(i, self._path(lay.mask, name, category, i)) for i in range(1, lay.frames + 1)]
        return [(i, p) for i, p in paths if i <= required or p.exists()]

    def files(self, index: int) -> list[DataFile]:
        """The files clip ``index`` needs (see :mod:`edgeav.data.check`)."""
        lay = self.layout
        name, category = self.items[index]
        frame = lambda i: self._path(lay.frame, name, category, i)
        out = [DataFile(frame(i), "frame") for i in range(1, lay.frames + 1)]
        out += [DataFile(p, "mask", frame=frame(i)) for i, p in self._masks(name, category)]
        if self.has_wavs:
            out.append(DataFile(self._path(lay.wav, name, category), "audio", seconds=float(lay.frames)))
        pkl = self._path(lay.logmel, name, category)
        if not self.has_wavs or pkl.exists():
            out.append(DataFile(pkl, "log-mel"))
        return out

    def __getitem__(self, index: int) -> AVClip:
        lay = self.layout
        name, category = self.items[index]
        first = self._path(lay.frame, name, category, 1)
        frame_size = image_size(first, "frame")
        frames = torch.stack([load_rgb(self._path(lay.frame, name, category, i), self.size) for i in range(1, lay.frames + 1)])
        masks = torch.zeros(lay.frames, 1, *self.size)
        annotated = torch.zeros(lay.frames, dtype=torch.bool)
        for i, path in self._masks(name, category):
            masks[i - 1] = load_binary_mask(path, self.size, frame_size)
            annotated[i - 1] = True
        wav = self._path(lay.wav, name, category) if self.has_wavs else None
        audio, logmel = _audio_fields(wav, self._path(lay.logmel, name, category), lay.frames, self.sample_rate)
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

    def __init__(self, root: str | Path, split: str = "train", *, image_size: int = 224, sample_rate: int = 16000,
                 check_files: bool = True):
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

        if check_files:  # headers only; `edgeav data check` decodes every file
            quick_check(self, root)

    def __len__(self) -> int:
        return len(self.items)

    def _frame_count(self, clip_dir: Path) -> int:
        frame_dir = clip_dir / "frames"
        return len(list(frame_dir.glob("*.jpg"))) if frame_dir.is_dir() else 0

    def _labels(self, clip_dir: Path, label: str, count: int) -> list[tuple[int, Path]]:
        # v1s videos annotate the first frame only; in val/test every frame must have a label map
        required = 1 if (label == "v1s" or self.split == "train") else count
        paths = [(i, clip_dir / "labels_rgb" / f"{i}.png") for i in range(count)]
        return [(i, p) for i, p in paths if i < required or p.exists()]

    def files(self, index: int) -> list[DataFile]:
        """The files clip ``index`` needs (see :mod:`edgeav.data.check`)."""
        uid, label = self.items[index]
        clip_dir = self.base / label / uid
        count = self._frame_count(clip_dir)
        if count == 0:
            return [DataFile(clip_dir / "frames" / "0.jpg", "frame")]
        frame = lambda i: clip_dir / "frames" / f"{i}.jpg"
        out = [DataFile(frame(i), "frame") for i in range(count)]
        out += [DataFile(p, "label map", frame=frame(i)) for i, p in self._labels(clip_dir, label, count)]
        return out + [DataFile(clip_dir / "audio.wav", "audio", seconds=float(count))]

    def __getitem__(self, index: int) -> AVClip:
        uid, label = self.items[index]
        clip_dir = self.base / label / uid
        count = self._frame_count(clip_dir)
        if count == 0:
            raise DataError(f"no frames in {clip_dir / 'frames'}: expected {clip_dir / 'frames' / '0.jpg'} ...")
        frame_size = image_size(clip_dir / "frames" / "0.jpg", "frame")
        frames = torch.stack([load_rgb(clip_dir / "frames" / f"{i}.jpg", self.size) for i in range(count)])
        semantic = torch.zeros(count, *self.size, dtype=torch.int64)
        annotated = torch.zeros(count, dtype=torch.bool)
        for i, path in self._labels(clip_dir, label, count):
            semantic[i] = load_label_rgb(path, self.palette, self.size, frame_size)
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

