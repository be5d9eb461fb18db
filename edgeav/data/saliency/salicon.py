"""SALICON (Jiang et al., CVPR 2015) in its LSUN 2017 release layout, read as still images with fixations.

Layout (``root`` holds; split ``train`` or ``val`` — ``test`` has no public fixations)::

    images/{split}/COCO_{split}2014_000000000009.jpg    640×480 RGB
    maps/{split}/COCO_{split}2014_000000000009.png      fixation density maps
    fixations/{split}/COCO_{split}2014_000000000009.mat

Each ``.mat`` holds a struct array ``gaze`` with one element per observer and the fields ``location``
(mouse samples, [K, 2]), ``timestamp`` ([K, 1]) and ``fixations`` ([M, 2], the fixations detected from
them), both as 1-based MATLAB (x, y) pixel coordinates (pysaliency's reader, ``external_datasets/salicon.py``,
subtracts 1 from column 0 as x and column 1 as y). Fixations of all observers are pooled per image;
``kind="location"`` reads the raw mouse samples instead.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from edgeav.data.files import require
from edgeav.data.saliency.fixations import PointFolder, PointRecord, ReadSummary, keep_on_image
from edgeav.errors import DataError, UsageError

SALICON_SPLITS = ("train", "val")
KINDS = ("fixations", "location")


def read_salicon_fixations(path: Path, kind: str = "fixations") -> np.ndarray:
    """All observers' fixations of one SALICON ``.mat`` as (y, x) 0-based pixel coordinates [M, 2]."""
    from scipy.io import loadmat

    try:
        data = loadmat(path)
    except Exception as exc:  # not a MATLAB file at all
        raise DataError(f"{path} is not a MATLAB .mat file ({type(exc).__name__}); SALICON fixation files are .mat") from None
    gaze = data.get("gaze")
    if gaze is None or gaze.dtype.names is None or kind not in gaze.dtype.names:
        keys = ", ".join(k for k in data if not k.startswith("__"))
        raise DataError(
            f"{path} is not a SALICON fixation file (no 'gaze' struct with '{kind}'; it holds: {keys or 'nothing'}); "
            "MIT1003 data opens with mit1003:PATH, edgeav's json layout with saliency-images:PATH"
        )
    rows = [np.asarray(g[kind], dtype=np.float64).reshape(-1, 2) for g in gaze.flatten() if np.size(g[kind])]
    xy = np.concatenate(rows) if rows else np.zeros((0, 2))
    return xy[:, ::-1] - 1.0  # 1-based (x, y) → 0-based (y, x)


class SaliconImages(PointFolder):
    """SALICON ``split`` as :class:`SaliencyImage` items; ``size`` = (H, W) resizes on read."""

    def __init__(self, root: str | Path, split: str = "train", *, size: tuple[int, int] | None = None,
                 kind: str = "fixations") -> None:
        if split not in SALICON_SPLITS:
            raise UsageError(f"SALICON split '{split}' has no public fixations; use one of {', '.join(SALICON_SPLITS)}")
        if kind not in KINDS:
            raise UsageError(f"SALICON fixation kind '{kind}' unknown; use one of {', '.join(KINDS)}")
        root = Path(root)
        images = sorted(require(root / "images" / split, "SALICON image folder").glob("*.jpg"))
        fix_dir = require(root / "fixations" / split, "SALICON fixation folder")
        if not images:
            raise DataError(f"no images in {root / 'images' / split}: expected COCO_{split}2014_*.jpg")
        if not any(fix_dir.glob("*.mat")) and any(fix_dir.glob("*.json")):
            raise DataError(f"{fix_dir} holds .json files (edgeav's still-image layout), not SALICON .mat; open it with saliency-images:{root}")
        summary, records = ReadSummary(), []
        for image in images:
            name = image.stem
            points = read_salicon_fixations(require(fix_dir / f"{name}.mat", "SALICON fixation file"), kind)
            with Image.open(image) as img:
                width, height = img.size
            kept = keep_on_image(name, points, height, width, summary)
            if kept is not None:
                records.append(PointRecord(name, image, require(root / "maps" / split / f"{name}.png", "SALICON map"), kept))
        super().__init__(records, summary, size, str(root / "images" / split))
