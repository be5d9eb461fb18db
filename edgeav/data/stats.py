"""Summary statistics of a dataset, for ``edgeav data stats``."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from edgeav.data.clips import AVClip, SaliencyClip, SaliencyImage


def _level_dbfs(audio) -> float:
    rms = float(audio.double().pow(2).mean().sqrt())
    return 20 * np.log10(max(rms, 1e-10))


def _av_stats(items: list[AVClip]) -> dict[str, Any]:
    coverage, empty, levels, snrs = [], 0, [], []
    categories: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    twins = 0
    annotated = 0
    for clip in items:
        for i in range(clip.num_frames):
            if bool(clip.annotated[i]):
                annotated += 1
                c = float(clip.masks[i].mean())
                coverage.append(c)
                empty += c == 0
        categories.update(clip.category_names)
        if clip.audio is not None:
            levels.append(_level_dbfs(clip.audio))
        if "snr_db" in clip.meta:
            snrs.append(clip.meta["snr_db"])
        objs = clip.meta.get("objects", [])
        roles.update(o["role"] for o in objs)
        twins += any(o["role"] == "twin" for o in objs)
    first = items[0]
    out: dict[str, Any] = {
        "frames per clip": first.num_frames,
        "frame size": f"{first.frames.shape[-2]}x{first.frames.shape[-1]}",
        "annotated frames": annotated,
        "mask coverage (mean % of pixels)": 100 * float(np.mean(coverage)) if coverage else float("nan"),
        "frames with an empty mask (%)": 100 * empty / max(annotated, 1),
    }
    if categories:  # MS3 lists no categories
        out["distinct sounding categories"] = len(categories)
        out["most common categories"] = ", ".join(f"{n} ({c})" for n, c in categories.most_common(3))
    if first.audio is not None:
        out["audio"] = f"{first.audio.shape[0]} x {first.audio.shape[1]} samples"
        out["audio level (mean dBFS)"] = float(np.mean(levels))
    if first.logmel is not None:
        out["log-mel"] = "x".join(str(s) for s in first.logmel.shape)
    if snrs:
        out["SNR (mean dB)"] = float(np.mean(snrs))
    if roles:
        out["objects per clip"] = sum(roles.values()) / len(items)
        out["sounding objects per clip"] = roles["source"] / len(items)
        out["clips with a silent same-category twin (%)"] = 100 * twins / len(items)
    return out


def _saliency_stats(items: list[SaliencyClip]) -> dict[str, Any]:
    first = items[0]
    fixes = [float(c.fixations.sum()) / c.fixations.shape[0] for c in items if c.fixations is not None]
    return {
        "frames per clip": first.frames.shape[0],
        "frame size": f"{first.frames.shape[-2]}x{first.frames.shape[-1]}",
        "fps": first.fps,
        "audio per clip (s)": None if first.audio is None else first.audio.numel() / first.sample_rate,
        "fixated pixels per frame": float(np.mean(fixes)) if fixes else float("nan"),
        "saliency map mean": float(np.mean([float(c.saliency.mean()) for c in items])),
    }


def _image_stats(items: list[SaliencyImage]) -> dict[str, Any]:
    return {
        "image size": f"{items[0].image.shape[-2]}x{items[0].image.shape[-1]}",
        "fixations per image": float(np.mean([len(i.points) for i in items])),
        "saliency map mean": float(np.mean([float(i.saliency.mean()) for i in items])),
    }


SUMMARISERS: dict[type, Callable[[list], dict[str, Any]]] = {
    AVClip: _av_stats,
    SaliencyClip: _saliency_stats,
    SaliencyImage: _image_stats,
}


def dataset_stats(dataset: Any, limit: int | None = None) -> dict[str, Any]:
    """Counts and distributions over the first ``limit`` items (all by default)."""
    n = len(dataset)
    if n == 0:
        return {"items": 0}
    items = [dataset[i] for i in range(min(n, limit or n))]
    summarise = SUMMARISERS.get(type(items[0]))
    if summarise is None:
        raise TypeError(f"no statistics for items of type {type(items[0]).__name__}")
    return {"items": n, "items summarised": len(items), **summarise(items)}
