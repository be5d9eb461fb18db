"""Reading and writing the files of the public dataset layouts: frames, masks, pickled log-mels (wavs:
:mod:`edgeav.data.wav`). A file that cannot be decoded raises a DataError naming it."""
from __future__ import annotations

import csv
import io
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from edgeav.errors import DataError
from edgeav.files import one_line

Size = tuple[int, int]  # (height, width)
# zlib's run-length strategy: on noisy natural-looking frames it is ~2x faster than the default and smaller
PNG_OPTIONS = {"compress_level": 1, "compress_type": 3}


def require(path: Path, what: str) -> Path:
    """``path`` if it exists, else a DataError naming the path the layout expects."""
    if not path.exists():
        raise DataError(f"missing {what}: expected {path}; check the dataset root and layout (docs/data.md)")
    return path


def open_image(path: Path, what: str) -> Image.Image:
    """``path`` decoded (not just its header): a truncated or corrupt file fails here, naming itself."""
    require(path, what)
    try:
        img = Image.open(path)
        img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path}: cannot decode the {what} ({one_line(exc)}); re-extract or replace the file") from None
    return img


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_size(path: Path, what: str) -> Size:
    """(height, width) from an image's header, without decoding it (a PNG's IHDR read directly: opening a
    dataset checks every mask against its frame, and PIL's open costs ~10x more)."""
    require(path, what)
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR":
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
    try:
        with Image.open(path) as img:
            return img.size[1], img.size[0]
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image ({one_line(exc)}); re-extract or replace the file") from None


def check_size(path: Path, what: str, actual: Size, expected: Size | None) -> None:
    """DataError when an annotation's size differs from its frame's (it would be stretched onto it)."""
    if expected is not None and actual != expected:
        raise DataError(
            f"{path}: {what} is {actual[1]}x{actual[0]} but its frame is {expected[1]}x{expected[0]}; "
            f"write the {what} at the frame's size"
        )


def _as_hwc_uint8(frame: Tensor | np.ndarray) -> np.ndarray:
    a = frame.detach().cpu().numpy() if isinstance(frame, Tensor) else np.asarray(frame)
    if a.ndim == 3 and a.shape[0] == 3:
        a = a.transpose(1, 2, 0)
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_rgb(path: Path, frame: Tensor | np.ndarray) -> None:
    """Write a [3, H, W] float frame in [0, 1]; PNG (fast compression) or JPEG (quality 95, 4:4:4) by suffix."""
    img = Image.fromarray(_as_hwc_uint8(frame), "RGB")
    if path.suffix.lower() in (".jpg", ".jpeg"):
        img.save(path, quality=95, subsampling=0)  # no chroma subsampling: object edges stay sharp
    else:
        img.save(path, **PNG_OPTIONS)


def _resized(img: Image.Image, size: Size | None, resample: Image.Resampling) -> Image.Image:
    if size is not None and img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), resample)
    return img


def load_rgb(path: Path, size: Size | None = None) -> Tensor:
    """[3, H, W] float32 in [0, 1]; bilinear resize to ``size`` if given."""
    with open_image(path, "frame") as img:
        arr = np.asarray(_resized(img.convert("RGB"), size, Image.Resampling.BILINEAR), dtype=np.float32)
    return torch.from_numpy(arr.transpose(2, 0, 1) / 255.0)


def save_binary_mask(path: Path, mask: Tensor | np.ndarray, mode: str) -> None:
    """A {0, 1} mask as PIL mode '1' (AVSBench S4) or mode 'P' with a grey palette, foreground 255 (MS3)."""
    m = (np.asarray(mask.cpu() if isinstance(mask, Tensor) else mask).reshape(mask.shape[-2:]) > 0.5)
    if mode == "1":
        Image.fromarray(m).convert("1").save(path)
    elif mode == "P":
        img = Image.fromarray(m.astype(np.uint8) * 255, "L").convert("P")
        img.putpalette([v for i in range(256) for v in (i, i, i)])
        img.save(path)
    else:
        raise ValueError(f"mask mode must be '1' or 'P', got {mode!r}")


def load_binary_mask(path: Path, size: Size | None = None, frame_size: Size | None = None) -> Tensor:
    """[1, H, W] float32 in {0, 1}: any non-zero pixel (palette index for 'P', grey level otherwise) is object.

    ``frame_size``: (H, W) of the frame it annotates; a mask of another size is refused, not stretched."""
    with open_image(path, "mask") as img:
        check_size(path, "mask", (img.size[1], img.size[0]), frame_size)
        img = img if img.mode in ("P", "1", "L") else img.convert("L")
        arr = np.asarray(_resized(img, size, Image.Resampling.NEAREST)) > 0
    return torch.from_numpy(arr.astype(np.float32))[None]


def avss_palette(num_classes: int) -> np.ndarray:
    """[num_classes, 3] uint8 colours of AVSBench-semantic label maps: bits of the class index interleaved
    over R, G, B from the most significant bit down (index 0 = black background)."""
    pal = np.zeros((num_classes, 3), dtype=np.int64)
    for j in range(num_classes):
        lab, bit = j, 7
        while lab > 0:
            for channel in range(3):
                pal[j, channel] |= ((lab >> channel) & 1) << bit
            bit -= 1
            lab >>= 3
    return pal.astype(np.uint8)


def save_label_rgb(path: Path, semantic: Tensor | np.ndarray, palette: np.ndarray) -> None:
    labels = np.asarray(semantic.cpu() if isinstance(semantic, Tensor) else semantic, dtype=np.int64)
    Image.fromarray(palette[labels], "RGB").save(path, **PNG_OPTIONS)


def load_label_rgb(path: Path, palette: np.ndarray, size: Size | None = None, frame_size: Size | None = None) -> Tensor:
    """[H, W] int64 class indices of a colour label map; colours not in the palette read as 0 (background).
    ``frame_size``: as for :func:`load_binary_mask`."""
    with open_image(path, "label map") as img:
        check_size(path, "label map", (img.size[1], img.size[0]), frame_size)
        rgb = np.asarray(_resized(img.convert("RGB"), size, Image.Resampling.NEAREST), dtype=np.int64)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    pal_codes = (palette[:, 0].astype(np.int64) << 16) | (palette[:, 1].astype(np.int64) << 8) | palette[:, 2]
    order = np.argsort(pal_codes)
    pos = np.clip(np.searchsorted(pal_codes[order], codes), 0, len(order) - 1)
    labels = np.where(pal_codes[order][pos] == codes, order[pos], 0)
    return torch.from_numpy(labels.astype(np.int64))


def save_grey(path: Path, image: Tensor | np.ndarray) -> None:
    """A [H, W] (or [1, H, W]) map in [0, 1] as an 8-bit grey image (JPEG quality 95 or PNG, by suffix)."""
    a = np.asarray(image.cpu() if isinstance(image, Tensor) else image, dtype=np.float32)
    img = Image.fromarray((np.clip(a.reshape(a.shape[-2:]), 0, 1) * 255 + 0.5).astype(np.uint8), "L")
    img.save(path, **({"quality": 95} if path.suffix.lower() in (".jpg", ".jpeg") else PNG_OPTIONS))


def load_grey(path: Path, size: Size | None = None, *, nearest: bool = False) -> Tensor:
    """[1, H, W] float32 in [0, 1] from an 8-bit grey (or colour, averaged) image."""
    with open_image(path, "map") as img:
        resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
        arr = np.asarray(_resized(img.convert("L"), size, resample), dtype=np.float32)
    return torch.from_numpy(arr / 255.0)[None]


def fit_frames(pcm: np.ndarray, num_frames: int, samples_per_frame: int) -> Tensor:
    """[T, S] view of a waveform, zero-padded or cut to T·S samples."""
    n = num_frames * samples_per_frame
    x = np.zeros(n, dtype=np.float32)
    x[: min(n, pcm.size)] = pcm[:n]
    return torch.from_numpy(x.reshape(num_frames, samples_per_frame))


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles a torch tensor (or a NumPy array) and nothing else: a pickle can run arbitrary code."""

    def find_class(self, module: str, name: str):
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return lambda b: torch.load(io.BytesIO(b), weights_only=True)
        allowed = {
            ("torch._utils", "_rebuild_tensor_v2"),
            ("torch._utils", "_rebuild_tensor"),
            ("collections", "OrderedDict"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
        if (module, name) in allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a log-mel pickle")


def save_logmel_pkl(path: Path, logmel: Tensor) -> None:
    """Pickle a [T, 1, 96, 64] tensor the way AVSBench's preprocessing does."""
    with open(path, "wb") as f:
        pickle.dump(logmel.detach().cpu().float(), f)


def load_logmel_pkl(path: Path) -> Tensor:
    with open(require(path, "log-mel pickle"), "rb") as f:
        try:
            obj = _TensorUnpickler(f).load()
        except (pickle.UnpicklingError, EOFError, RuntimeError) as exc:
            raise DataError(f"{path} is not a pickled log-mel tensor ({exc}); regenerate it") from exc
    return torch.as_tensor(np.asarray(obj) if not isinstance(obj, Tensor) else obj).detach().float()


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a CSV file."""
    with open(require(path, "metadata CSV"), newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise DataError(f"{path} is empty; expected a header and one row per video")
    return rows[0], rows[1:]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
