"""LightAVSeg's configurations: the paper's, a small one for tests, and their semantic-AVS (71-class) heads."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from edgeav.audio import PANNS_LOGMEL_16K, LogMelConfig
from edgeav.data.avsbench.layout import AVSS_NUM_CLASSES
from edgeav.models.backbones.panns_mobilenetv2 import PANNS_MV2_SMALL, PannsMobileNetV2Config
from edgeav.models.backbones.seaformer import SEAFORMER_L, SEAFORMER_T, SeaFormerConfig

@dataclass(frozen=True)
class LightAVSegConfig:
    image_size: int = 224
    sample_rate: int = 16000
    samples_per_frame: int = 16000
    num_classes: int = 1
    visual: SeaFormerConfig = SEAFORMER_L
    audio: PannsMobileNetV2Config = field(default_factory=PannsMobileNetV2Config)
    logmel: LogMelConfig = PANNS_LOGMEL_16K
    decoder_dim: int = 224
    # One flag per decoder stage (strides 64, 32, 16, 8): dense 3×3 fusion conv, else depthwise-separable.
    dense_fusion: tuple[bool, ...] = (True, True, False, False)
    align_temperature: float = 0.1
    align_weight: float = 1.0
    freeze_audio: bool = True


LIGHTAVSEG_PAPER = LightAVSegConfig()
LIGHTAVSEG_SMALL = LightAVSegConfig(
    image_size=64,
    visual=SEAFORMER_T,
    audio=PANNS_MV2_SMALL,
    decoder_dim=32,
)
# Semantic AVS (AVSBench-semantic and synthetic-avss): background + 70 categories, softmax output.
LIGHTAVSEG_AVSS = replace(LIGHTAVSEG_PAPER, num_classes=AVSS_NUM_CLASSES)
LIGHTAVSEG_SMALL_AVSS = replace(LIGHTAVSEG_SMALL, num_classes=AVSS_NUM_CLASSES)
