"""Pictures of datasets: a grid of samples with masks or saliency overlaid, for ``edgeav data show``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeav.data.clips import AVClip, SaliencyClip, SaliencyImage

OUTLINE = np.array([1.0, 0.95, 0.0])


def _hwc(frame) -> np.ndarray:
    return frame.detach().float().numpy().transpose(1, 2, 0).clip(0.0, 1.0)


def _mask_overlay(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A spotlight: everything outside the mask dimmed, the mask outlined (legible whatever the colours)."""
    out = np.where(mask[..., None], frame, 0.35 * frame)
    grown = mask | np.roll(mask, 1, 0) | np.roll(mask, -1, 0) | np.roll(mask, 1, 1) | np.roll(mask, -1, 1)
    out[grown & ~mask] = OUTLINE
    return out


def _heat_overlay(frame: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    from matplotlib import colormaps

    heat = colormaps["jet"](saliency)[..., :3]
    alpha = 0.6 * saliency[..., None]
    return np.clip((1 - alpha) * frame + alpha * heat, 0.0, 1.0)


def _panels(item: Any, max_frames: int) -> tuple[list[np.ndarray], str]:
    """The images of one row and its caption."""
    if isinstance(item, AVClip):
        t = min(item.num_frames, max_frames)
        panels = []
        for i in range(t):
            frame = _hwc(item.frames[i])
            annotated = bool(item.annotated[i])
            panels.append(_mask_overlay(frame, item.masks[i, 0].numpy() > 0.5) if annotated else frame)
        caption = ", ".join(item.category_names) or item.meta.get("name", "")
        return panels, caption
    if isinstance(item, SaliencyClip):
        step = max(1, item.frames.shape[0] // max_frames)
        idx = list(range(0, item.frames.shape[0], step))[:max_frames]
        panels = [_heat_overlay(_hwc(item.frames[i]), item.saliency[i, 0].numpy()) for i in idx]
        return panels, f"frames {idx[0]}-{idx[-1]} at {item.fps:g} fps"
    if isinstance(item, SaliencyImage):
        image = _hwc(item.image)
        return [image, _heat_overlay(image, item.saliency[0].numpy())], f"{len(item.points)} fixations"
    raise TypeError(f"cannot draw items of type {type(item).__name__}")


def render_grid(dataset: Any, path: str | Path, *, count: int = 4, max_frames: int = 5, title: str = "") -> Path:
    """Draw the first ``count`` items of ``dataset`` (one row each) into a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [_panels(dataset[i], max_frames) for i in range(min(count, len(dataset)))]
    if not rows:
        raise ValueError("the dataset is empty")
    cols = max(len(p) for p, _ in rows)
    h, w = rows[0][0][0].shape[:2]
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 2.2 * w / max(h, w), len(rows) * 2.4 * h / max(h, w)),
                             squeeze=False)
    for r, (panels, caption) in enumerate(rows):
        for c in range(cols):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(panels):
                ax.imshow(panels[c])
        axes[r][0].set_title(caption, fontsize=7, loc="left")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
