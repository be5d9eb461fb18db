"""MIT1003 (Judd et al., ICCV 2009) in its release layout, read as still images with fixations.

Layout (``root`` holds)::

    ALLSTIMULI/{name}.jpeg                    1003 images, longest side 1024
    ALLFIXATIONMAPS/{name}_fixMap.jpg         fixation density map (all 15 observers)
    ALLFIXATIONMAPS/{name}_fixPts.jpg         binary fixation points (all observers; white = fixated)
    DATA/{observer}/{name}.mat                raw 240 Hz eye samples

The fixations are read from ``_fixPts.jpg``: pixels brighter than half scale (the JPEG blurs each white
point a little). The raw samples in ``DATA/`` need the release's MATLAB ``checkFixations`` to become
fixations, which edgeav does not re-implement; a tree with ``DATA/`` but no ``_fixPts.jpg`` is refused
with that message. MIT1003 has no official split: every 10th image (sorted by name) is the held-out part,
returned for ``val`` and ``test``; ``train`` is the rest.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from edgeav.data.files import require
from edgeav.data.saliency.fixations import PointFolder, PointRecord, ReadSummary, keep_on_image
from edgeav.errors import DataError, UsageError

HELD_OUT_EVERY = 10
POINT_THRESHOLD = 0.5  # of full scale
# A points image has a few hundred white pixels at most; more than this share is a density map given by mistake.
MAX_POINT_SHARE = 0.02


def read_fixation_points(path: Path) -> np.ndarray:
    """The fixated pixels of a ``_fixPts`` image as (y, x) [M, 2]."""
    with Image.open(require(path, "MIT1003 fixation points")) as img:
        grey = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    on = grey > POINT_THRESHOLD
    if on.mean() > MAX_POINT_SHARE:
        raise DataError(
            f"{path} marks {100 * on.mean():.0f}% of its pixels: it is a fixation density map, not fixation points; "
            "MIT1003's points are ALLFIXATIONMAPS/NAME_fixPts.jpg"
        )
    ys, xs = np.nonzero(on)
    return np.stack([ys, xs], axis=1).astype(np.float64)


def _split_names(names: list[str], split: str) -> list[str]:
    if split == "train":
        return [n for i, n in enumerate(names) if i % HELD_OUT_EVERY]
    if split in ("val", "test"):
        return [n for i, n in enumerate(names) if not i % HELD_OUT_EVERY]
    raise UsageError(f"MIT1003 split '{split}' unknown; use train, val or test (val and test are the same held-out tenth)")


class MIT1003Images(PointFolder):
    """MIT1003 ``split`` as :class:`SaliencyImage` items; ``size`` = (H, W) resizes on read."""

    def __init__(self, root: str | Path, split: str = "train", *, size: tuple[int, int] | None = None) -> None:
        root = Path(root)
        stimuli = require(root / "ALLSTIMULI", "MIT1003 stimulus folder")
        maps = root / "ALLFIXATIONMAPS"
        files = {p.stem: p for p in sorted(stimuli.iterdir()) if p.suffix.lower() in (".jpeg", ".jpg")}
        if not files:
            raise DataError(f"no images in {stimuli}: expected NAME.jpeg")
        if not maps.is_dir() or not any(maps.glob("*_fixPts.jpg")):
            hint = (" (DATA/ holds raw eye samples: run the release's MATLAB checkFixations, or use the ALLFIXATIONMAPS download)"
                    if (root / "DATA").is_dir() else "")
            raise DataError(f"missing MIT1003 fixation points: expected {maps}/NAME_fixPts.jpg{hint}")
        summary, records = ReadSummary(), []
        for name in _split_names(sorted(files), split):
            points = read_fixation_points(maps / f"{name}_fixPts.jpg")
            with Image.open(files[name]) as img:
                width, height = img.size
            kept = keep_on_image(name, points, height, width, summary)
            if kept is not None:
                records.append(PointRecord(name, files[name], require(maps / f"{name}_fixMap.jpg", "MIT1003 fixation map"), kept))
        super().__init__(records, summary, size, str(stimuli))
