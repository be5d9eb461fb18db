"""AVESFormer's configurations: the paper's ResNet-18 and ResNet-50 models and small ones for tests."""
from __future__ import annotations

from dataclasses import dataclass

from edgeav.audio import VGGISH_LOGMEL, LogMelConfig
from edgeav.models.backbones.resnet import RESNET18, RESNET50, ResNetConfig
from edgeav.models.backbones.vggish import VGGISH, VGGISH_SMALL, VGGishConfig

STAGE_KINDS = ("conv", "attn")


@dataclass(frozen=True)
class AVESFormerConfig:
    image_size: int = 224
    sample_rate: int = 16000
    samples_per_frame: int = 16000
    num_classes: int = 1
    visual: ResNetConfig = RESNET18
    audio: VGGishConfig = VGGISH
    logmel: LogMelConfig = VGGISH_LOGMEL
    dim: int = 256
    heads: int = 8
    points: int = 4  # deformable sampling points per head and level
    num_queries: int = 16
    pqg_layers: int = 3
    pqg_ffn_dim: int = 1024
    stages: tuple[str, ...] = ("conv", "attn", "attn")  # C-T-T, the paper's best (Table 7)
    ffn_dim: int = 2048
    conv_kernel: int = 7
    conv_expansion: int = 2
    mask_hidden: int = 2048
    norm_groups: int = 32
    dropout: float = 0.1
    iou_weight: float = 1.8  # λ_IoU (BCE) for S4/MS3
    dice_weight: float = 1.0
    aux_weight: float = 0.1
    freeze_audio: bool = True

    def __post_init__(self) -> None:
        bad = [s for s in self.stages if s not in STAGE_KINDS]
        if bad:
            raise ValueError(f"decoder stages {bad} unknown; use {STAGE_KINDS}")


AVESFORMER_R18 = AVESFormerConfig()
AVESFORMER_R50 = AVESFormerConfig(visual=RESNET50)
_SMALL = {"image_size": 64, "audio": VGGISH_SMALL, "dim": 32, "heads": 4, "num_queries": 4, "pqg_ffn_dim": 64,
          "ffn_dim": 64, "mask_hidden": 64, "norm_groups": 8, "dropout": 0.0}
AVESFORMER_SMALL = AVESFormerConfig(visual=ResNetConfig("basic", (1, 1, 1, 1), width=16), **_SMALL)
AVESFORMER_SMALL_R50 = AVESFormerConfig(visual=ResNetConfig("bottleneck", (1, 1, 1, 1), width=8), **_SMALL)
