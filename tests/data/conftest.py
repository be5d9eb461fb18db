"""Shared fixtures of the data tests: small configs and trees written in the official layouts by hand."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgeav.data.synthetic import scene_config

SMALL = 64  # image size that keeps the generator fast in tests


@pytest.fixture
def small_config():
    def make(kind: str = "s4", **overrides):
        overrides.setdefault("image_size", SMALL)
        return scene_config(kind, **overrides)

    return make


def _png(path: Path, array: np.ndarray, mode: str | None = None, palette: list[int] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(array)
    if mode:
        img = img.convert(mode)
    if palette is not None:
        img.putpalette(palette)
    img.save(path)


def official_palette(n: int = 71) -> list[int]:
    """AVSBench-semantic's palette, transcribed from its description: index bits interleaved over R, G, B."""
    pal = [0] * (3 * n)
    for j in range(n):
        lab, i = j, 0
        while lab:
            for c in range(3):
                pal[3 * j + c] |= ((lab >> c) & 1) << (7 - i)
            i += 1
            lab >>= 3
    return pal


@pytest.fixture
def avss_reference_palette() -> list[int]:
    return official_palette(71)


@pytest.fixture
def official_tree(tmp_path: Path) -> Path:
    """A tiny AVSBench tree written with PIL/pickle only (not with edgeav's writer), as the download has it:
    S4 (train: frame 1 annotated, log-mel only), MS3 (palette masks with foreground 255) and AVSS (v1s + v2)."""
    root = tmp_path / "avsbench_data"
    rng = np.random.default_rng(0)
    frame = lambda: (rng.random((224, 224, 3)) * 255).astype(np.uint8)
    mask = np.zeros((224, 224), dtype=bool)
    mask[50:120, 60:150] = True
    logmel = torch.randn(5, 1, 96, 64)

    s4 = root / "Single-source"
    s4.mkdir(parents=True)
    (s4 / "s4_meta_data.csv").write_text("name,start_time,category,split\nabc_1,0,dog_barking,train\nxyz_2,3,lawn_mowing,test\n")
    for name, cat, split, masks in (("abc_1", "dog_barking", "train", 1), ("xyz_2", "lawn_mowing", "test", 5)):
        for i in range(1, 6):
            _png(s4 / f"s4_data/visual_frames/{split}/{cat}/{name}/{name}_{i}.png", frame())
        for i in range(1, masks + 1):
            _png(s4 / f"s4_data/gt_masks/{split}/{cat}/{name}/{name}_{i}.png", mask, "1")
        path = s4 / f"s4_data/audio_log_mel/{split}/{cat}/{name}.pkl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(logmel))

    ms3 = root / "Multi-sources"
    ms3.mkdir(parents=True)
    (ms3 / "ms3_meta_data.csv").write_text("video_id,split\nvid_a,val\n")
    grey = [v for i in range(256) for v in (i, i, i)]
    for i in range(1, 6):
        _png(ms3 / f"ms3_data/visual_frames/vid_a/vid_a.mp4_{i}.png", frame())
        _png(ms3 / f"ms3_data/gt_masks/val/vid_a/vid_a_{i}.png", mask.astype(np.uint8) * 255, "P", grey)
    (ms3 / "ms3_data/audio_log_mel/val").mkdir(parents=True)
    (ms3 / "ms3_data/audio_log_mel/val/vid_a.pkl").write_bytes(pickle.dumps(logmel))

    avss = root / "AVSS"
    avss.mkdir(parents=True)
    (avss / "metadata.csv").write_text("vid,uid,s_min,s_sec,a_obj,split,label\nq,uid_v1s,0,0,dog,train,v1s\nr,uid_v2,0,0,car,test,v2\n")
    labels = {"background": 0, "dog": 1, "car": 2, "man": 3}
    (avss / "label2idx.json").write_text(json.dumps(labels))
    pal = np.array(official_palette(), dtype=np.uint8).reshape(-1, 3)
    sem = np.zeros((240, 360), dtype=np.int64)
    sem[20:100, 30:200] = 2
    sem[150:200, 250:330] = 3
    for uid, label, frames, annotated in (("uid_v1s", "v1s", 5, 1), ("uid_v2", "v2", 10, 10)):
        for i in range(frames):
            _png(avss / f"{label}/{uid}/frames/{i}.jpg", (rng.random((240, 360, 3)) * 255).astype(np.uint8))
        for i in range(annotated):
            _png(avss / f"{label}/{uid}/labels_rgb/{i}.png", pal[sem])
        t = np.arange(16000 * frames) / 16000
        pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
        import wave

        with wave.open(str(avss / f"{label}/{uid}/audio.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(pcm.tobytes())
    return root


# ---------------------------------------------------------------- a made dataset and its corrupted copies
MADE_SPEC = "synthetic-ms3:image_size=64"
MADE_SCENES = 10  # val and test get 2 clips each: a bad file can sit in a clip other than the first


@pytest.fixture(scope="session")
def made_ms3(tmp_path_factory) -> Path:
    """An MS3-layout dataset written once per session by ``edgeav data make``'s writer (10/2/2 clips at 64²)."""
    from edgeav.data.avsbench import write_avsbench
    from edgeav.data.registry import open_dataset

    root = tmp_path_factory.mktemp("made") / "ms3"
    for split in ("train", "val", "test"):
        write_avsbench(open_dataset(f"{MADE_SPEC},scenes={MADE_SCENES}", split), root, split=split)
    return root


def _write_float_wav(path: Path, pcm: np.ndarray, rate: int = 16000) -> None:
    import soundfile

    soundfile.write(str(path), pcm.astype(np.float32), rate, subtype="FLOAT")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _pcm(path: Path) -> np.ndarray:
    from edgeav.data.wav import load_wav

    return load_wav(path, 16000)


# name -> (file it damages, relative to ms3_data, how). One per finding of the sweep.
CORRUPTIONS = {
    "truncated_png": ("visual_frames/ms3_val_000001/ms3_val_000001.mp4_3.png", _truncate),
    "deleted_wav": ("audio_wav/val/ms3_val_000001.wav", Path.unlink),
    "nan_wav": ("audio_wav/val/ms3_val_000001.wav",
                lambda p: _write_float_wav(p, np.where(np.arange(80000) == 7, np.nan, 0.1))),
    "random_bytes_wav": ("audio_wav/val/ms3_val_000001.wav",
                         lambda p: p.write_bytes(np.random.default_rng(0).bytes(20000))),
    "loud_wav": ("audio_wav/val/ms3_val_000001.wav", lambda p: _write_float_wav(p, _pcm(p) * 1000)),
    "short_wav": ("audio_wav/val/ms3_val_000001.wav", lambda p: _write_float_wav(p, _pcm(p)[:4800])),
    "mask_size": ("gt_masks/val/ms3_val_000001/ms3_val_000001_2.png",
                  lambda p: Image.open(p).resize((48, 32)).save(p)),
}


@pytest.fixture
def corrupted(made_ms3: Path, tmp_path: Path):
    """``corrupted(*names)``: a copy of the made dataset with those CORRUPTIONS applied -> (root, damaged files)."""
    import shutil

    def make(*names: str) -> tuple[Path, list[Path]]:
        root = tmp_path / "copy"
        shutil.copytree(made_ms3, root)
        damaged = []
        for name in names:
            rel, damage = CORRUPTIONS[name]
            path = root / "Multi-sources" / "ms3_data" / rel
            damage(path)
            damaged.append(path)
        return root, damaged

    return make
