"""AVESFormer's registry entries (ResNet-18 and ResNet-50): configs, I/O contract, objective, the modules
int8 keeps float, its export forms, the upstream AVSegFormer weights it loads and the paper's figures."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from edgeav.audio import LogMelFrontEnd
from edgeav.models.avesformer import export_forms
from edgeav.models.avesformer.configs import (
    AVESFORMER_R18,
    AVESFORMER_R50,
    AVESFORMER_SMALL,
    AVESFORMER_SMALL_R50,
    AVESFormerConfig,
)
from edgeav.models.avesformer.model import AVESFormer, PromptQueryGenerator
from edgeav.models.avesformer.objective import AVESFORMER_OBJECTIVE
from edgeav.models.avesformer.weights import (
    load_avsegformer_weights,
    load_imagenet_resnet_weights,
    load_torchvggish_weights,
)
from edgeav.models.layers.deformable import BilinearSamplingMatrix
from edgeav.models.segmentation import frame_audio_io_spec, scene_samples
from edgeav.registry import ModelEntry, PaperFigures, register


def avesformer_samples(cfg: AVESFormerConfig, n: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Realistic inputs: one frame and its second of audio from ``n`` synthetic S4-like scenes."""
    return scene_samples(cfg, n, seed, "s4")


# Kept float in int8. The log-mel power spans ~1e-10 … 6.5e4 before its log. The prompt query generator
# attends over one tensor holding the audio token and the learned queries at very different scales
# (docs/quantize.md has the measurement). The deformable attention's sampling matrix multiplies two
# activations, which XNNPACK runs in float anyway; an int8 one becomes, in LiteRT, an int8 BATCH_MATMUL
# its XNNPACK delegate does not take, so it also carries no observer at all (wholly float).
FLOAT_MODULES = (LogMelFrontEnd, PromptQueryGenerator, BilinearSamplingMatrix)
WHOLLY_FLOAT_MODULES = (BilinearSamplingMatrix,)
# The int8 capture's forms (the fp32 formats name theirs in their TargetInfo). The 7×7 row split is one for
# int8 too: XNNPACK's int8 7×7 depthwise is a grouped IGEMM as well (21.6 ms at 512 ch, 28²; split 1.9 ms).
EXPORT_FORMS = ("deformable_attention_to_matmul", "split_large_depthwise_rows",
                export_forms.UNTIE_LEVEL_DEPTHWISE_CONV.name)


def _entry(name: str, visual: str, configs: Mapping[str, Any], params_m: float, table: str) -> ModelEntry:
    return ModelEntry(
        name=name,
        task="segmentation",
        summary=f"{visual} + VGGish, prompt query generator, early-focus C-T-T deformable decoder (AVESFormer)",
        builder=AVESFormer,
        configs=configs,
        io_spec=frame_audio_io_spec,  # LightAVSeg's contract: one frame + its second of PCM → mask
        samples=avesformer_samples,
        paper=PaperFigures(params_m=params_m, source=f"AVESFormer Table 3 ({table}, VGGish included); no FLOPs reported"),
        objective=AVESFORMER_OBJECTIVE,
        float_modules=FLOAT_MODULES,
        wholly_float_modules=WHOLLY_FLOAT_MODULES,
        export_forms=EXPORT_FORMS,
        upstream={"avsegformer": load_avsegformer_weights, "resnet-imagenet": load_imagenet_resnet_weights,
                  "torchvggish": load_torchvggish_weights},
    )


register(_entry("avesformer-r18", "ResNet-18", {"paper": AVESFORMER_R18, "small": AVESFORMER_SMALL}, 108.0, "ResNet-18 row"))
register(_entry("avesformer-r50", "ResNet-50", {"paper": AVESFORMER_R50, "small": AVESFORMER_SMALL_R50}, 127.0, "ResNet-50 row"))
