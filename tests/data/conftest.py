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
