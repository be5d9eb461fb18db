"""Dataset validation: a fast check when a dataset folder is opened, and a full one (`edgeav data check`).

A reader lists the files of each clip as :class:`DataFile` (what it is, the frame an annotation must match,
the audio length the clip needs). The fast check reads no pixels or samples: every file exists, every audio
header has a rate and enough length. The full check decodes every file: images not truncated, masks of their
frame's size, audio finite, in range and long enough. Each problem is one line naming the file and the fix.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edgeav.data.files import image_size, load_logmel_pkl, open_image
from edgeav.data.wav import load_wav, wav_header
from edgeav.errors import DataError

# Audio may be this much shorter than its clip (encoder padding, rounding) before it is an error.
AUDIO_LENGTH_TOLERANCE = 0.9


@dataclass(frozen=True)
class DataFile:
    """One file a clip needs. ``frame``: the frame an annotation must match in size; ``seconds``: the audio
    length the clip needs."""

    path: Path
    what: str  # "frame" | "mask" | "label map" | "audio" | "log-mel"
    frame: Path | None = None
    seconds: float | None = None


class CheckedDataset(Protocol):
    """What the checks need of a reader: its clips' files."""

    def __len__(self) -> int: ...

    def files(self, index: int) -> list[DataFile]: ...


def _missing(f: DataFile) -> str | None:
    if f.path.is_file():
        return None
    return f"missing {f.what}: expected {f.path}; restore it, or remove its clip from the metadata CSV"


def _audio_length(f: DataFile, seconds: float) -> str | None:
    if f.seconds is not None and seconds < AUDIO_LENGTH_TOLERANCE * f.seconds:
        return (f"{f.path}: {seconds:.2f} s of audio, but its clip needs {f.seconds:g} s (the rest would be silence); "
                "re-export the full-length audio")
    return None


def _quick_audio(f: DataFile) -> str | None:
    return _audio_length(f, wav_header(f.path).seconds)


def _full_image(f: DataFile) -> str | None:
    with open_image(f.path, f.what):  # decodes every pixel: a truncated file fails here
        pass
    return _size_against_frame(f)


def _full_audio(f: DataFile) -> str | None:
    header = wav_header(f.path)
    load_wav(f.path, header.sample_rate)  # decodes and checks the samples (finite, in range, not clipped)
    return _audio_length(f, header.seconds)


def _full_logmel(f: DataFile) -> str | None:
    logmel = load_logmel_pkl(f.path)
    if logmel.dim() != 4 or tuple(logmel.shape[1:]) != (1, 96, 64):
        return f"{f.path}: holds a tensor of shape {tuple(logmel.shape)}, expected [T, 1, 96, 64]; regenerate it"
    return None


def _size_against_frame(f: DataFile) -> str | None:
    if f.frame is None or not f.frame.is_file():
        return None
    size, frame = image_size(f.path, f.what), image_size(f.frame, "frame")
    if size != frame:
        return (f"{f.path}: {f.what} is {size[1]}x{size[0]} but its frame is {frame[1]}x{frame[0]}; "
                f"write the {f.what} at the frame's size")
    return None


Check = Callable[[DataFile], "str | None"]
# what a file is -> the checks each mode runs on it, after the existence check (header-only in QUICK)
QUICK: dict[str, tuple[Check, ...]] = {"audio": (_quick_audio,), "mask": (_size_against_frame,),
                                       "label map": (_size_against_frame,)}
FULL: dict[str, tuple[Check, ...]] = {"frame": (_full_image,), "mask": (_full_image,), "label map": (_full_image,),
                                      "audio": (_full_audio,), "log-mel": (_full_logmel,)}


def _problems_of(f: DataFile, checks: dict[str, tuple[Check, ...]]) -> Iterable[str]:
    missing = _missing(f)
    if missing:
        yield missing
        return
    for check in checks.get(f.what, ()):
        try:
            problem = check(f)
        except DataError as exc:  # the reader's own one-line message, naming the file
            problem = str(exc)
        if problem:
            yield problem
            return


def dataset_problems(dataset: CheckedDataset, full: bool = True, limit: int | None = None,
                     on_clip: Callable[[int], None] | None = None) -> list[str]:
    """Every problem of ``dataset``'s files, one line each (``full``: decode everything; else headers only).
    ``limit``: stop after that many problems."""
    checks = FULL if full else QUICK
    out: list[str] = []
    for index in range(len(dataset)):
        for f in dataset.files(index):
            out.extend(_problems_of(f, checks))
            if limit is not None and len(out) >= limit:
                return out[:limit]
        if on_clip is not None:
            on_clip(index)
    return out


def quick_check(dataset: CheckedDataset, root: Any) -> None:
    """The check a reader runs when it opens a folder: one DataError naming the first problem and the count."""
    problems = dataset_problems(dataset, full=False)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DataError(f"{problems[0]}{more}; list every problem with: edgeav data check {root}")
