"""Still-image saliency samples with fixation *points*, for set-prediction models (SalTR) and their students.

Any dataset of :class:`SaliencyImage` feeds it: the built-in synthetic images (their observer model gives
``observers × image_fixations`` fixations per image, ``edgeav.data.saliency.synthetic``), the SALICON
reader (:mod:`.salicon`), the MIT1003 reader (:mod:`.mit1003`) or the edgeav still-image layout.

A sample is a dict with fixed shapes, so the default collate batches it:

* ``image`` [3, H, W] RGB in [0, 1] (the model input's name);
* ``saliency`` [1, H, W] ground-truth density map, ``fixations`` [1, H, W] binary fixation map;
* ``points`` [max_fixations, 2] normalised (x, y) in [0, 1], zero-padded; ``num_points`` (int64) rows valid;
* ``annotated`` / ``labelled`` (True: both maps are ground truth);
* ``clip`` (the image index) and ``frame`` (0): the per-sample key distillation caches teacher maps by, as
  for video samples.

Coordinates: a fixation at pixel coordinate (y, x) — pixel index, pixel centres at integers — is the
normalised point ((x + 0.5) / W, (y + 0.5) / H), the convention the in-graph map renders with
(``edgeav.models.saltr.render``). A set larger than ``max_fixations`` keeps an evenly spaced subset of
the list (deterministic; SALICON images have a few hundred fixations, the teacher 100 queries).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from edgeav.data.clips import SaliencyImage
from edgeav.data.saliency.samples import resize_maps
from edgeav.errors import DataError, UsageError


class DataSkipWarning(UserWarning):
    """Images or fixations a reader left out (the count line of :class:`ReadSummary`)."""


@dataclass
class ReadSummary:
    """What a reader left out, for its summary line: images without fixations, fixations off the image."""

    images: int = 0
    skipped: list[str] = field(default_factory=list)  # images with no fixation left
    dropped_points: int = 0  # fixations outside the image, dropped

    def line(self) -> str:
        return (f"{self.images} images, {len(self.skipped)} skipped without fixations, "
                f"{self.dropped_points} fixations outside their image dropped")


def inside_image(points_yx: np.ndarray, height: int, width: int) -> np.ndarray:
    """Mask of the fixations [M, 2] (y, x) that fall on the image (pixel coordinates −0.5 … size − 0.5)."""
    p = np.asarray(points_yx, dtype=np.float64).reshape(-1, 2)
    return (p[:, 0] >= -0.5) & (p[:, 0] < height - 0.5) & (p[:, 1] >= -0.5) & (p[:, 1] < width - 0.5)


def points_to_map(points_yx: Tensor, height: int, width: int) -> Tensor:
    """[1, H, W] binary map with the fixated pixels set."""
    fix = torch.zeros(1, height, width)
    if len(points_yx):
        ys = points_yx[:, 0].round().long().clamp(0, height - 1)
        xs = points_yx[:, 1].round().long().clamp(0, width - 1)
        fix[0, ys, xs] = 1.0
    return fix


def normalised_xy(points_yx: Tensor, height: int, width: int) -> Tensor:
    """Pixel (y, x) [M, 2] → normalised (x, y) in [0, 1] (pixel centres at (i + 0.5) / size)."""
    x = (points_yx[:, 1] + 0.5) / width
    y = (points_yx[:, 0] + 0.5) / height
    return torch.stack([x, y], dim=-1).clamp(0.0, 1.0)


def pad_points(points_xy: Tensor, max_fixations: int) -> tuple[Tensor, int]:
    """[M, 2] → ([max_fixations, 2] zero-padded, valid rows); an evenly spaced subset if M is larger."""
    m = len(points_xy)
    if m > max_fixations:
        points_xy = points_xy[torch.linspace(0, m - 1, max_fixations).round().long()]
        m = max_fixations
    out = torch.zeros(max_fixations, 2)
    out[:m] = points_xy
    return out, m


class FixationSamples(Dataset):
    """Fixed-shape samples (module docstring) from a dataset of :class:`SaliencyImage`, at ``size`` = (H, W)."""

    def __init__(self, images: Dataset, size: tuple[int, int] | None = None, max_fixations: int = 100) -> None:
        if max_fixations < 1:
            raise UsageError("max_fixations must be >= 1")
        if len(images) == 0:
            raise DataError("the dataset has no images; check the --data path or the number of images")
        first = images[0]
        if not isinstance(first, SaliencyImage):
            raise DataError(
                f"{type(images).__name__} does not hold still images with fixations; use synthetic-saliency-images, "
                "salicon:PATH, mit1003:PATH or saliency-images:PATH"
            )
        self.images, self.size, self.max_fixations = images, size, max_fixations
        # A reader's skips are documented, not silent: say them once, when the samples are opened.
        self.summary: ReadSummary | None = getattr(images, "summary", None)
        if self.summary is not None and (self.summary.skipped or self.summary.dropped_points):
            warnings.warn(f"fixation data: {self.summary.line()}", DataSkipWarning, stacklevel=2)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: SaliencyImage = self.images[index]
        h, w = item.image.shape[-2:]
        points = item.points.reshape(-1, 2)
        name = item.meta.get("name", index)
        if len(points) == 0:
            raise DataError(f"image {name} has no fixations; the readers skip such images (see their summary)")
        if not bool(torch.from_numpy(inside_image(points.numpy(), h, w)).all()):
            raise DataError(f"image {name} has fixations outside its {h}×{w} pixels; points are (y, x) pixel coordinates")
        image, saliency, fixations = item.image, item.saliency, item.fixations
        if self.size and (h, w) != tuple(self.size):
            image = F.interpolate(image[None], size=self.size, mode="bilinear", align_corners=False)[0]
            saliency, fixations = (m[0] for m in resize_maps(saliency[None], fixations[None], tuple(self.size)))
        padded, count = pad_points(normalised_xy(points, h, w), self.max_fixations)
        return {"image": image, "saliency": saliency, "fixations": fixations, "points": padded,
                "num_points": torch.tensor(count, dtype=torch.int64), "annotated": True, "labelled": True,
                "clip": index, "frame": 0}


@dataclass(frozen=True)
class PointRecord:
    """One image of a reader: its files and its fixations (y, x) in pixels of the image file."""

    name: str
    image: Any  # Path
    saliency: Any  # Path of the density map
    points_yx: np.ndarray


class PointFolder(Dataset):
    """The shared part of the SALICON and MIT1003 readers: records scanned once, images read on access.

    ``records`` keeps the images that have at least one fixation on the image; ``summary`` counts the
    rest (an image with no fixation is skipped, a fixation outside its image is dropped).
    """

    def __init__(self, records: list[PointRecord], summary: ReadSummary, size: tuple[int, int] | None, where: str) -> None:
        if not records:
            raise DataError(f"no image with fixations under {where} ({summary.line()})")
        self.records, self.summary, self.size = records, summary, size

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> SaliencyImage:
        from edgeav.data.files import load_grey, load_rgb

        rec = self.records[index]
        full = load_rgb(rec.image)
        h0, w0 = full.shape[-2:]
        image = full if self.size is None else load_rgb(rec.image, self.size)
        h, w = image.shape[-2:]
        saliency = load_grey(rec.saliency, (h, w))
        points = torch.from_numpy(rec.points_yx.astype(np.float32)) * torch.tensor([h / h0, w / w0])
        return SaliencyImage(image=image, points=points, fixations=points_to_map(points, h, w), saliency=saliency,
                             meta={"name": rec.name})


def keep_on_image(name: str, points_yx: np.ndarray, height: int, width: int, summary: ReadSummary) -> np.ndarray | None:
    """The fixations of one image that lie on it (the others counted as dropped), or None (counted as skipped)."""
    keep = inside_image(points_yx, height, width)
    summary.images += 1
    summary.dropped_points += int((~keep).sum())
    if not keep.any():
        summary.skipped.append(name)
        return None
    return np.asarray(points_yx, dtype=np.float64).reshape(-1, 2)[keep]
