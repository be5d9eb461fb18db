"""SalTR-S configs: the phone student at 256×320 (shared/design/students.md A2) and a small one for tests."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from edgeav.errors import UsageError
from edgeav.models.saltr_s.encoder import MOBILENETV3_LARGE

# A five-block trunk for tests (the same block kinds; not an upstream config).
_TINY_SETTING = (
    (3, 16, 8, False, "relu", 1),
    (3, 32, 8, False, "relu", 2),
    (5, 32, 16, True, "relu", 2),
    (3, 48, 16, False, "hardswish", 2),
    (5, 64, 24, True, "hardswish", 2),
)


@dataclass(frozen=True)
class SalTRSConfig:
    # (H, W): students.md proposes 240×320; 240 is no multiple of 32 (the decoder doubles 8 → 16 where the
    # encoder has 15), so the nearest size that is, at +6.7 % pixels.
    image_size: tuple[int, int] | int = (256, 320)
    setting: tuple[tuple[int, int, int, bool, str, int], ...] = MOBILENETV3_LARGE
    stem_channels: int = 16
    decoder_channels: tuple[int, int, int, int] = (48, 64, 96, 128)  # strides 4, 8, 16, 32
    side_weight: float = 0.25  # deep supervision of the side maps when trained on ground truth alone

    def __post_init__(self) -> None:
        size = (self.image_size, self.image_size) if isinstance(self.image_size, int) else tuple(self.image_size)
        object.__setattr__(self, "image_size", size)
        if size[0] % 32 or size[1] % 32 or min(size) < 64:
            raise UsageError(f"SalTR-S image_size {size} must be multiples of 32, at least 64 px")

    def at_size(self, suffix: str) -> SalTRSConfig:
        """``NAME@HxW`` (or ``NAME@S``): this config at an H×W input."""
        h, _, w = suffix.partition("x")
        if not h.isdigit() or not (w or h).isdigit():
            raise UsageError(f"SalTR-S size '@{suffix}' must be H or HxW (e.g. paper@240x320)")
        return dataclasses.replace(self, image_size=(int(h), int(w or h)))


SALTR_S = SalTRSConfig()
SALTR_S_SMALL = SalTRSConfig(image_size=(64, 96), setting=_TINY_SETTING, stem_channels=8, decoder_channels=(8, 8, 16, 16))
CONFIGS = {"paper": SALTR_S, "small": SALTR_S_SMALL}
