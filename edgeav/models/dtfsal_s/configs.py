"""DTFSal-S configs: the phone student at the teacher's input size, a reduced size for CPU runs, a tiny one
for tests.

Channel tables are data so that ``paper`` and ``small`` share one architecture.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from edgeav.errors import UsageError

# MobileNetV2 (Sandler et al. 2018), rows (expansion t, channels c, repeats n, stride s); the taps are the
# last block of each stride 4/8/16/32 (24, 32, 96, 320 channels at width 1.0).
MOBILENETV2_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


@dataclass(frozen=True)
class DTFSalSConfig:
    """Every number that shapes DTFSal-S.

    ``history`` frames of context: the stride-32 features of the previous ``history − 1`` frames are the
    graph's ``context`` input (and the shifted stack its ``next_context`` output; not "state", a name Core
    ML's converter renames), so one call costs one frame.
    """

    frame_size: tuple[int, int] = (224, 384)  # (H, W), the teacher's frame size
    stem_channels: int = 32
    setting: tuple[tuple[int, int, int, int], ...] = MOBILENETV2_SETTING
    history: int = 4  # frames the stride-32 context stack spans (this frame included)
    context_channels: int = 128  # stride-32 features after the 1×1 reduction, per cached frame
    decoder_channels: tuple[int, int, int, int] = (32, 48, 64, 128)  # strides 4, 8, 16, 32
    audio_channels: tuple[int, int, int, int] = (32, 64, 128, 128)  # the 4-block log-mel CNN
    audio_dim: int = 128
    gated_levels: tuple[int, ...] = (2, 3)  # audio gates the stride-16 and stride-32 features (FiLM)
    sample_rate: int = 16000
    audio_samples: int = 16000  # 1 s ending at the frame: 96 VGGish log-mel frames
    fps: float = 10.0  # the frame rate the context was trained at (a live app should feed frames at it)

    def __post_init__(self) -> None:
        h, w = self.frame_size
        if h % 32 or w % 32 or min(h, w) < 64:
            raise UsageError(f"DTFSal-S frame_size {self.frame_size} must be multiples of 32, at least 64 px")
        if self.history < 1:
            raise UsageError("history must be >= 1 (1 = no temporal context)")
        if self.audio_samples < 15600:
            raise UsageError("audio_samples must be >= 15600 (96 log-mel frames of 10 ms with a 25 ms window)")
        if any(level not in (0, 1, 2, 3) for level in self.gated_levels):
            raise UsageError("gated_levels are feature levels 0..3 (strides 4, 8, 16, 32)")

    def at_size(self, suffix: str) -> DTFSalSConfig:
        """``paper@HxW``: this config at frames of H×W (multiples of 32), e.g. ``paper@96x160``."""
        h, x, w = suffix.partition("x")
        if not (x and h.isdigit() and w.isdigit()):
            raise UsageError(f"DTFSal-S config size '@{suffix}' must be HxW, e.g. paper@96x160")
        return dataclasses.replace(self, frame_size=(int(h), int(w)))

    @property
    def state_shape(self) -> tuple[int, int, int, int]:
        h, w = self.frame_size
        return (1, (self.history - 1) * self.context_channels, h // 32, w // 32)


PAPER = DTFSalSConfig()
CPU = DTFSalSConfig(frame_size=(96, 160), history=3)
"""The paper architecture at 96×160 with 3 frames of context (= ``paper@96x160`` with history 3): the
reference runs on one CPU core."""
SMALL = DTFSalSConfig(
    frame_size=(64, 96),
    stem_channels=8,
    setting=((1, 8, 1, 1), (2, 12, 1, 2), (2, 16, 1, 2), (2, 24, 1, 2), (2, 32, 1, 1), (2, 40, 1, 2)),
    history=2,
    context_channels=16,
    decoder_channels=(8, 8, 16, 16),
    audio_channels=(8, 8, 16, 16),
    audio_dim=16,
)
"""A tiny config for fast tests (not a trained config)."""

CONFIGS: dict[str, DTFSalSConfig] = {"paper": PAPER, "cpu": CPU, "small": SMALL}
