"""Released weights LightAVSeg can start from: no LightAVSeg checkpoint exists (no code was released), but
its two trunks are the upstream SeaFormer (``fudan-zvg/SeaFormer``, ImageNet or ADE20K) and the PANNs
MobileNetV2 (AudioSet), whose parameter names the trunks keep."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from edgeav.models.backbones.panns_mobilenetv2 import panns_state_dict_from_upstream
from edgeav.models.backbones.seaformer import seaformer_state_dict_from_upstream
from edgeav.models.upstream import load_fitting


def _load_trunk(model: nn.Module, prefix: str, trunk_state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    return load_fitting(model, {prefix + k: v for k, v in trunk_state.items()})


def load_seaformer_weights(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """A SeaFormer checkpoint (cls or seg) into ``model.visual``; returns (loaded keys, keys that did not fit).
    Its classifier and decode head are dropped by the key map."""
    return _load_trunk(model, "visual.", seaformer_state_dict_from_upstream(state))


def load_panns_weights(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """A PANNs MobileNetV2 checkpoint into ``model.audio``; returns (loaded keys, keys that did not fit).
    Its front-end buffers and AudioSet classifier are dropped by the key map."""
    return _load_trunk(model, "audio.", panns_state_dict_from_upstream(state))
