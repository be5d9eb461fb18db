"""Which second of audio goes with a frame: the input convention ``audio_window``.

``centred``: frame t of an AV clip is the middle of its audio second, the window is samples
[t·S, (t+1)·S) of the clip's audio (AVSBench's layout, S = samples per frame). A live app has only the past,
so it must delay the video by S/2 to feed such a model.
``trailing``: the window ends at the frame, samples [t·S − S/2, t·S + S/2); before the clip starts it is
silence. A live app feeds the last S samples it has recorded, with no delay.

Any AV dataset spec takes ``audio_window=centred|trailing`` as an option (``synthetic-ms3:audio_window=trailing``,
``avsbench-ms3:PATH,audio_window=trailing``); training, evaluation and calibration then see that window.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from edgeav.errors import DataError, UsageError
from edgeav.specs import AUDIO_WINDOWS

DEFAULT_AUDIO_WINDOW = "centred"
OPTION = "audio_window"
_OPTION_RE = re.compile(r"([,:])audio_window=([^,]*)")


def check_audio_window(window: str) -> str:
    if window not in AUDIO_WINDOWS:
        raise UsageError(f"audio_window '{window}' is unknown; choose one of {', '.join(AUDIO_WINDOWS)}")
    return window


def video_delay_samples(window: str, samples_per_frame: int) -> int:
    """How many samples a live app delays the video so that the model sees its training alignment."""
    return samples_per_frame // 2 if check_audio_window(window) == "centred" else 0


def realign(audio: Tensor, window: str) -> Tensor:
    """Per-frame windows [T, S] (centred, as datasets store them) → the same frames under ``window``."""
    if check_audio_window(window) == "centred":
        return audio
    t, s = audio.shape
    half = s // 2
    flat = torch.cat([audio.new_zeros(half), audio.reshape(-1)])  # silence before the clip starts
    return torch.stack([flat[i * s : i * s + s] for i in range(t)])


def split_option(spec: str) -> tuple[str, str]:
    """``spec`` without its ``audio_window=`` option, and that option's value (default: centred)."""
    found = _OPTION_RE.findall(spec)
    if len(found) > 1:
        raise UsageError(f"'{spec}' names audio_window twice; keep one")
    if not found:
        return spec, DEFAULT_AUDIO_WINDOW
    base = _OPTION_RE.sub(lambda m: m.group(1) if m.group(1) == ":" else "", spec).replace(":,", ":").rstrip(":")
    return base, check_audio_window(found[0][1].strip())


def with_option(spec: str, window: str) -> str:
    """``spec`` with ``audio_window=window`` (replacing any it had)."""
    base, _ = split_option(spec)
    if check_audio_window(window) == DEFAULT_AUDIO_WINDOW:
        return base
    return f"{base}{',' if ':' in base or Path(base).exists() else ':'}{OPTION}={window}"


class WindowedClips:
    """A clip dataset whose per-frame audio follows ``window`` (AV clips with audio [T, S] only)."""

    def __init__(self, clips: Any, window: str) -> None:
        self.clips = clips
        self.window = check_audio_window(window)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> Any:
        clip = self.clips[index]
        audio = getattr(clip, "audio", None)
        if audio is None or audio.dim() != 2:
            raise DataError(f"audio_window={self.window} needs clips with per-frame audio [T, S]; "
                            f"{type(clip).__name__} has none: drop the audio_window option")
        return dataclasses.replace(clip, audio=realign(audio, self.window))

    def __getattr__(self, name: str) -> Any:  # dataset attributes (config, categories, ...) pass through
        return getattr(self.__dict__["clips"], name)
