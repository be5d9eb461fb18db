"""SalTR configs: the paper's (DETR-R50 defaults, shared/design/models.md §6) and small ones for tests.

``image_size`` is (height, width). The paper's maps are SALICON's 480×640 and σ = 19 px is in that frame;
at any other size σ is scaled per axis (``sigma_px``), so the map is the paper's map resampled.
``NAME@SIZE`` (the registry's size suffix) sets a square ``SIZE×SIZE`` input.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from edgeav.errors import UsageError
from edgeav.models.backbones.resnet import RESNET50, ResNetConfig

ATTENTIONS = ("global", "deformable")
MATCHINGS = ("hungarian", "identity")
SALICON_SIZE = (480, 640)  # (height, width) of SALICON images, the frame the paper's σ = 19 px is in


@dataclass(frozen=True)
class SalTRConfig:
    image_size: tuple[int, int] | int = SALICON_SIZE
    backbone: ResNetConfig = RESNET50
    dim: int = 256
    heads: int = 8
    encoder_layers: int = 6
    decoder_layers: int = 6
    ffn_dim: int = 2048
    dropout: float = 0.1
    num_queries: int = 100
    # "global": DETR (C5 only, full attention). "deformable": Deformable-DETR's encoder over C3–C5 plus a
    # stride-64 level, with the project's multi-scale deformable self-attention.
    attention: str = "global"
    points: int = 4  # deformable sampling points per head and level
    norm_groups: int = 32
    sigma: float = 19.0  # Gaussian σ of the rendered map, in pixels of ``sigma_frame``
    sigma_frame: tuple[int, int] = SALICON_SIZE
    # Loss and matching (DETR's: class cost 1, L1 cost/weight 5, no-object weight 0.1; points instead of boxes).
    match_class_cost: float = 1.0
    match_point_cost: float = 5.0  # λ of the matching cost −p(fix) + λ·‖Δxy‖₁
    point_weight: float = 5.0
    no_fixation_weight: float = 0.1
    aux_loss: bool = True
    matching: str = "hungarian"  # "identity" is the paper's ablation: query i ↔ fixation i, no assignment
    # Not in the paper (0 there): weight of KL − CC between the rendered map and the ground-truth map, added
    # to the set loss. It trains every query's weight p and position against the density at once, where the
    # set loss sees one fixation per query; a shortcut for short CPU runs.
    map_weight: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.image_size, int):
            object.__setattr__(self, "image_size", (self.image_size, self.image_size))
        else:
            object.__setattr__(self, "image_size", tuple(self.image_size))
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention {self.attention!r} must be one of {ATTENTIONS}")
        if self.matching not in MATCHINGS:
            raise ValueError(f"matching {self.matching!r} must be one of {MATCHINGS}")
        if self.map_weight < 0:
            raise ValueError(f"map_weight {self.map_weight} must be >= 0")
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} must be divisible by heads {self.heads}")

    def at_size(self, suffix: str) -> SalTRConfig:
        """``NAME@HxW`` (or ``NAME@S`` for S×S): this config at an H×W input (multiples of 32)."""
        h, _, w = suffix.partition("x")
        if not h.isdigit() or not (w or h).isdigit() or int(h) % 32 or int(w or h) % 32 or min(int(h), int(w or h)) < 32:
            raise UsageError(f"SalTR size '@{suffix}' must be H or HxW in multiples of 32 (e.g. paper@240x320)")
        return dataclasses.replace(self, image_size=(int(h), int(w or h)))

    @property
    def height(self) -> int:
        return self.image_size[0]

    @property
    def width(self) -> int:
        return self.image_size[1]

    @property
    def sigma_px(self) -> tuple[float, float]:
        """σ (y, x) in pixels of this config's image: the paper's 19 px scaled from the SALICON frame."""
        return (self.sigma * self.height / self.sigma_frame[0], self.sigma * self.width / self.sigma_frame[1])


SALTR = SalTRConfig()
SALTR_DEFORMABLE = SalTRConfig(attention="deformable", ffn_dim=1024)  # Deformable-DETR's FFN width
_SMALL = {"image_size": (64, 96), "backbone": ResNetConfig("bottleneck", (1, 1, 1, 1), width=8), "dim": 32,
          "heads": 4, "encoder_layers": 1, "decoder_layers": 2, "ffn_dim": 64, "num_queries": 16, "norm_groups": 8,
          "dropout": 0.0}
SALTR_SMALL = SalTRConfig(**_SMALL)
SALTR_SMALL_DEFORMABLE = SalTRConfig(**_SMALL, attention="deformable")
SALTR_SMALL_IDENTITY = SalTRConfig(**_SMALL, matching="identity")
# For reference runs on one CPU core: the same architecture, thinner and shallower, at 96×128 (3:4 like
# SALICON), 50 queries (the synthetic images have 48 fixations each).
_CPU = {"image_size": (96, 128), "backbone": ResNetConfig("bottleneck", (1, 1, 1, 1), width=16), "dim": 64,
        "heads": 4, "encoder_layers": 2, "decoder_layers": 3, "ffn_dim": 128, "num_queries": 50, "norm_groups": 16,
        "dropout": 0.0}
SALTR_CPU = SalTRConfig(**_CPU)
SALTR_CPU_IDENTITY = SalTRConfig(**_CPU, matching="identity")
# At 96×128 the global config's only token level, C5, is a 3×4 grid: too coarse to place a point to a few
# pixels. The deformable config's levels (strides 8–64) give 256 tokens at the same size.
SALTR_CPU_DEFORMABLE = SalTRConfig(**_CPU, attention="deformable")
SALTR_CPU_DEFORMABLE_MAP = SalTRConfig(**_CPU, attention="deformable", map_weight=1.0)

CONFIGS = {
    "paper": SALTR,
    "deformable": SALTR_DEFORMABLE,
    "small": SALTR_SMALL,
    "small-deformable": SALTR_SMALL_DEFORMABLE,
    "small-identity": SALTR_SMALL_IDENTITY,
    "cpu": SALTR_CPU,
    "cpu-identity": SALTR_CPU_IDENTITY,
    "cpu-deformable": SALTR_CPU_DEFORMABLE,
    "cpu-deformable-map": SALTR_CPU_DEFORMABLE_MAP,
}
