"""Where AVSBench keeps its files: the layouts as data (see the package docstring for the trees)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeav.errors import DataError

SPLITS = ("train", "val", "test")
AVSS_NUM_CLASSES = 71  # AVSBench-semantic: 70 categories + background
AVSS_FOLDER, AVSS_CSV, AVSS_LABELS = "AVSS", "metadata.csv", "label2idx.json"


@dataclass(frozen=True)
class BinaryLayout:
    """Where one AVSBench-object subset keeps its files (paths relative to ``{folder}/{data}``)."""

    kind: str
    folder: str
    csv: str
    data: str
    frame: str
    mask: str
    logmel: str
    wav: str
    mask_mode: str
    csv_header: tuple[str, ...]
    train_masks: int  # frames annotated in the train split
    frames: int = 5


S4_LAYOUT = BinaryLayout(
    kind="s4",
    folder="Single-source",
    csv="s4_meta_data.csv",
    data="s4_data",
    frame="visual_frames/{split}/{category}/{name}/{name}_{i}.png",
    mask="gt_masks/{split}/{category}/{name}/{name}_{i}.png",
    logmel="audio_log_mel/{split}/{category}/{name}.pkl",
    wav="audio_wav/{split}/{category}/{name}.wav",
    mask_mode="1",
    csv_header=("name", "start_time", "category", "split"),
    train_masks=1,
)
MS3_LAYOUT = BinaryLayout(
    kind="ms3",
    folder="Multi-sources",
    csv="ms3_meta_data.csv",
    data="ms3_data",
    frame="visual_frames/{name}/{name}.mp4_{i}.png",
    mask="gt_masks/{split}/{name}/{name}_{i}.png",
    logmel="audio_log_mel/{split}/{name}.pkl",
    wav="audio_wav/{split}/{name}.wav",
    mask_mode="P",
    csv_header=("video_id", "split"),
    train_masks=5,
)
LAYOUTS = {"s4": S4_LAYOUT, "ms3": MS3_LAYOUT}


def subset_root(root: str | Path, folder: str, marker: str) -> Path:
    """``root/folder`` or ``root`` itself, whichever holds ``marker``; a DataError naming the expected path otherwise."""
    root = Path(root)
    for candidate in (root / folder, root):
        if (candidate / marker).exists():
            return candidate
    raise DataError(
        f"no AVSBench {folder} data under {root}: expected {root / folder / marker} "
        f"(pass the folder that contains '{folder}/')"
    )


def detect_kinds(root: str | Path) -> list[str]:
    """Which AVSBench subsets a folder holds, by their metadata files."""
    found = []
    root = Path(root)
    markers = {"s4": (S4_LAYOUT.folder, S4_LAYOUT.csv), "ms3": (MS3_LAYOUT.folder, MS3_LAYOUT.csv), "avss": (AVSS_FOLDER, AVSS_CSV)}
    for kind, (folder, marker) in markers.items():
        if (root / folder / marker).exists() or (root / marker).exists():
            found.append(kind)
    return found
