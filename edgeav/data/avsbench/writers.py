"""Writing any dataset of :class:`AVClip` into an AVSBench layout, so one reader serves real and synthetic data.

The pickled log-mel is the clip's own ``logmel`` when it has one, else VGGish examples computed from the
16-bit waveform that is written next to it. Writing a split replaces that split's rows in the metadata
CSV and keeps the other splits. ``edgeav_dataset.json`` at the root records what generated each split.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgeav.data.avsbench.layout import (
    AVSS_CSV,
    AVSS_FOLDER,
    AVSS_LABELS,
    AVSS_NUM_CLASSES,
    LAYOUTS,
    SPLITS,
    BinaryLayout,
)
from edgeav.data.clips import AVClip
from edgeav.data.files import (
    avss_palette,
    read_csv,
    save_binary_mask,
    save_label_rgb,
    save_logmel_pkl,
    save_rgb,
    write_csv,
)
from edgeav.data.wav import save_wav
from edgeav.data.logmel import vggish_examples
from edgeav.errors import UsageError

MANIFEST = "edgeav_dataset.json"
AVSS_LABEL = "v2"  # AVSBench-semantic's label for fully annotated videos
MIN_PARALLEL = 64  # below this, starting worker processes costs more than it saves


def clip_name(kind: str, split: str, index: int) -> str:
    return f"{kind}_{split}_{index:06d}"


def _pcm(clip: AVClip) -> np.ndarray | None:
    return None if clip.audio is None else clip.audio.reshape(-1).numpy()


def _write_object_clip(lay: BinaryLayout, data: Path, split: str, name: str, clip: AVClip) -> list[str]:
    if lay.kind == "s4" and len(clip.category_names) != 1:
        raise UsageError(f"S4 needs one sounding category per clip, clip {name} has {clip.category_names}")
    category = clip.category_names[0] if lay.kind == "s4" else ""

    def path(template: str, i: int = 0) -> Path:
        p = data / template.format(split=split, category=category, name=name, i=i)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    for i in range(clip.num_frames):
        save_rgb(path(lay.frame, i + 1), clip.frames[i])
        if bool(clip.annotated[i]):
            save_binary_mask(path(lay.mask, i + 1), clip.masks[i, 0], lay.mask_mode)
    pcm = _pcm(clip)
    if pcm is not None:
        save_wav(path(lay.wav), pcm, clip.audio.shape[1])
        pcm = np.round(np.clip(pcm, -1, 1) * 32768.0).clip(-32768, 32767) / 32768.0  # what the wav holds
    if clip.logmel is None and pcm is None:
        raise UsageError(f"clip {name} has neither audio nor a log-mel to write")
    logmel = clip.logmel if clip.logmel is not None else vggish_examples(pcm, num_examples=clip.num_frames)
    save_logmel_pkl(path(lay.logmel), logmel)
    return [name, "0", category, split] if lay.kind == "s4" else [name, split]


def _write_avss_clip(base: Path, split: str, uid: str, clip: AVClip, palette: np.ndarray) -> list[str]:
    if clip.semantic is None:
        raise UsageError(f"clip {uid} has no semantic masks; AVSS needs a dataset made with kind 'avss'")
    folder = base / AVSS_LABEL / uid
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    (folder / "labels_rgb").mkdir(parents=True, exist_ok=True)
    for i in range(clip.num_frames):
        save_rgb(folder / "frames" / f"{i}.jpg", clip.frames[i])
        if bool(clip.annotated[i]):
            save_label_rgb(folder / "labels_rgb" / f"{i}.png", clip.semantic[i], palette)
    if clip.audio is not None:
        save_wav(folder / "audio.wav", _pcm(clip), clip.audio.shape[1])
    return [uid, AVSS_LABEL, split]


# Per-process state of the writer pool: the dataset is sent once per worker, not once per clip.
_JOB: dict[str, Any] = {}


def _init_job(dataset: Any, kind: str, base: str, split: str, palette: np.ndarray | None) -> None:
    torch.set_num_threads(1)
    _JOB.update(dataset=dataset, kind=kind, base=Path(base), split=split, palette=palette)


def _write_index(index: int) -> list[str]:
    kind, base, split = _JOB["kind"], _JOB["base"], _JOB["split"]
    clip = _JOB["dataset"][index]
    name = clip_name(kind, split, index)
    if kind == "avss":
        return _write_avss_clip(base, split, name, clip, _JOB["palette"])
    lay = LAYOUTS[kind]
    return _write_object_clip(lay, base / lay.data, split, name, clip)


def _merge_csv(path: Path, header: Sequence[str], split_col: int, split: str, new_rows: list[list[str]]) -> None:
    kept: list[list[str]] = []
    if path.exists():
        old_header, rows = read_csv(path)
        if list(old_header) == list(header):
            kept = [r for r in rows if r[split_col] != split]
    write_csv(path, header, kept + new_rows)


def _update_manifest(root: Path, kind: str, split: str, dataset: Any, count: int) -> None:
    path = root / MANIFEST
    manifest = json.loads(path.read_text()) if path.exists() else {"format": "edgeav-avsbench/1", "subsets": {}}
    entry = manifest["subsets"].setdefault(kind, {"splits": {}})
    config = getattr(dataset, "config", None)
    if dataclasses.is_dataclass(config):
        entry["generator"] = f"{type(dataset).__module__}.{type(dataset).__name__}"
        entry["config"] = dataclasses.asdict(config)
    entry["splits"][split] = {"count": count, "seed": getattr(dataset, "seed", None)}
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def write_avsbench(
    dataset: Any,
    root: str | Path,
    kind: str | None = None,
    split: str = "train",
    *,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> Path:
    """Write every clip of ``dataset`` under ``root`` in the AVSBench layout of ``kind`` ("s4", "ms3", "avss").

    ``kind`` defaults to ``dataset.config.kind``. ``workers`` > 1 writes clips in parallel processes (each
    clip is generated where it is written). ``on_progress(n)`` is called as clips finish. Returns the
    subset folder (e.g. ``root/Single-source``).
    """
    kind = kind or getattr(getattr(dataset, "config", None), "kind", None)
    if kind not in ("s4", "ms3", "avss"):
        raise UsageError(f"AVSBench layout '{kind}' is unknown; choose s4, ms3 or avss")
    if split not in SPLITS:
        raise UsageError(f"split '{split}' is unknown; choose one of {', '.join(SPLITS)}")
    root = Path(root)
    base = root / (AVSS_FOLDER if kind == "avss" else LAYOUTS[kind].folder)
    base.mkdir(parents=True, exist_ok=True)
    palette = None
    if kind == "avss":
        names = list(getattr(dataset, "class_names", []))
        palette = avss_palette(max(AVSS_NUM_CLASSES, len(names) + 1))
    indices = range(len(dataset))
    if workers <= 1 or len(dataset) < MIN_PARALLEL:
        _init_job(dataset, kind, str(base), split, palette)
        rows = []
        for i in indices:
            rows.append(_write_index(i))
            if on_progress:
                on_progress(1)
    else:
        ctx = get_context("spawn")  # fork after torch/OpenMP start-up can deadlock the children
        init = (dataset, kind, str(base), split, palette)
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_job, initargs=init) as pool:
            rows = []
            for row in pool.map(_write_index, indices, chunksize=8):
                rows.append(row)
                if on_progress:
                    on_progress(1)
    if kind == "avss":
        _merge_csv(base / AVSS_CSV, ("uid", "label", "split"), 2, split, rows)
        labels = {"background": 0, **{n: i + 1 for i, n in enumerate(names)}}
        (base / AVSS_LABELS).write_text(json.dumps(labels, indent=1) + "\n")
    else:
        lay = LAYOUTS[kind]
        _merge_csv(base / lay.csv, lay.csv_header, len(lay.csv_header) - 1, split, rows)
    _update_manifest(root, kind, split, dataset, len(rows))
    return base
