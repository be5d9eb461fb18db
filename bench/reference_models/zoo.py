"""The reference architectures by name: builder, input size, the parameter count their source publishes."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from bench.reference_models.efficientnet_lite import LITE, efficientnet_lite
from bench.reference_models.mobilenet import Classifier, MobileNetV3Config, mobilenet_v1, mobilenet_v2, mobilenet_v3
from edgeav.errors import UsageError
from edgeav.models.backbones.resnet import RESNET50, ResNet


class ResNet50(nn.Module):
    """edgeav's torchvision-layout ResNet-50 trunk + global average pool + the 1000-way fc."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.trunk = ResNet(RESNET50)
        self.fc = nn.Linear(RESNET50.pyramid_channels[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.trunk(x)[-1].mean((2, 3)))


@dataclass(frozen=True)
class ReferenceModel:
    name: str
    build: Callable[[], nn.Module]
    image_size: int
    published_params_m: float  # what the source's table says (rounded as published)
    source: str

    def example_input(self, batch: int = 1) -> torch.Tensor:
        return torch.zeros(batch, 3, self.image_size, self.image_size)


_SLIM = "tensorflow/models:research/slim/nets/mobilenet/README.md"
_LITE = "tensorflow/tpu:models/official/efficientnet/lite/README.md"


def _v3(size: str, width: float = 1.0, minimalistic: bool = False) -> Callable[[], Classifier]:
    return lambda: mobilenet_v3(MobileNetV3Config(size, width, minimalistic))


def _lite(key: str) -> Callable[[], Classifier]:
    return lambda: efficientnet_lite(LITE[key])


REFERENCE_MODELS: dict[str, ReferenceModel] = {m.name: m for m in (
    ReferenceModel("mobilenet_v1", mobilenet_v1, 224, 4.2, "Howard et al. 2017, Table 8 (4.2 M)"),
    ReferenceModel("mobilenet_v2", mobilenet_v2, 224, 3.47, _SLIM + " (mobilenet_v2_1.0_224)"),
    ReferenceModel("mobilenet_v3_large", _v3("large"), 224, 5.4, _SLIM),
    ReferenceModel("mobilenet_v3_large_min", _v3("large", minimalistic=True), 224, 3.9, _SLIM + " (minimalistic)"),
    ReferenceModel("mobilenet_v3_small", _v3("small"), 224, 2.5, "Howard et al. 2019, Table 3 (2.5 M, 56 M MACs)"),
    *(ReferenceModel(f"efficientnet_{k}", _lite(k), LITE[k].image_size, p, _LITE)
      for k, p in zip(LITE, (4.7, 5.4, 6.1, 8.2, 13.0))),
    ReferenceModel("resnet50", ResNet50, 224, 25.6, "He et al. 2016 / torchvision resnet50 (25.6 M)"),
)}


def get_reference(name: str) -> ReferenceModel:
    if name not in REFERENCE_MODELS:
        raise UsageError(f"unknown reference model '{name}'; choose one of: {', '.join(REFERENCE_MODELS)}")
    return REFERENCE_MODELS[name]


def build_reference(name: str, seed: int = 0) -> nn.Module:
    """The architecture in eval mode with seeded random weights (latency needs no trained weights)."""
    torch.manual_seed(seed)
    return get_reference(name).build().eval()
