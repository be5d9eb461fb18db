"""Loading upstream weights into AVESFormer: an AVSegFormer checkpoint fills the parts the two models share;
an ImageNet ResNet or torchvggish checkpoint fills one trunk.

AVSegFormer (``vvvb-github/AVSegFormer``, saved with ``torch.save(model.module.state_dict())``) has the top
level ``backbone.*`` (B2_ResNet), ``vggish.*``, ``audio_proj.*`` and ``head.*``. Shared with AVESFormer:
the backbone's branch 1, VGGish, the audio projection, ``head.in_proj``, ``head.level_embed``, the mask
head (``lateral_conv``, ``out_conv``, ``fc`` and ``mlp`` where shapes agree) and, per ELF stage k, encoder
layer k's MSDeformAttn, its post-mixer LayerNorm and its FFN. The query generator, the query decoder and
the dead ``fpn``/``attn_fc`` have no counterpart and are reported as skipped.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import nn

from edgeav.models.backbones.resnet import resnet_key_from_upstream, resnet_state_dict_from_upstream, with_bn_counters
from edgeav.models.backbones.vggish import vggish_key_from_upstream, vggish_state_dict_from_upstream
from edgeav.models.upstream import load_fitting

_ENCODER_LAYER = re.compile(r"^head\.transformer\.encoder\.layers\.(\d+)\.(\w+)\.(.+)$")
_SHARED_HEAD = ("head.in_proj.", "head.level_embed", "head.lateral_conv.", "head.out_conv.", "head.fc.")


def _encoder_key(match: re.Match, stage_kinds: tuple[str, ...]) -> str | None:
    k, part, rest = int(match.group(1)), match.group(2), match.group(3)
    if k >= len(stage_kinds):
        return None
    kind = stage_kinds[k]
    renamed = {
        "linear1": "ffn.linear1", "linear2": "ffn.linear2", "norm2": "ffn.norm",
        "norm1": "norm1" if kind == "attn" else "norm",
        "self_attn": "self_attn" if kind == "attn" else None,
    }.get(part)
    return None if renamed is None else f"head.stages.{k}.{renamed}.{rest}"


def avesformer_key_from_avsegformer(key: str, stage_kinds: tuple[str, ...]) -> str | None:
    """The AVESFormer name of one AVSegFormer key, or None when AVESFormer has no such part."""
    key = key.removeprefix("module.")
    if key.startswith("backbone."):
        new = resnet_key_from_upstream(key)
        return None if new is None else "backbone." + new
    if key.startswith("vggish."):
        new = vggish_key_from_upstream(key)
        return None if new is None else "vggish." + new
    if key.startswith("audio_proj.") or key.startswith(_SHARED_HEAD):
        return key
    if key.startswith("head.mlp.layers."):
        return "head.mlp." + key.removeprefix("head.mlp.layers.")
    match = _ENCODER_LAYER.match(key)
    return _encoder_key(match, stage_kinds) if match else None


def avesformer_state_dict_from_avsegformer(
    state: Mapping[str, torch.Tensor], stage_kinds: tuple[str, ...]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """AVSegFormer keys renamed to AVESFormer's, and the upstream keys that have no counterpart."""
    out: dict[str, torch.Tensor] = {}
    skipped = []
    for key, value in state.items():
        new = avesformer_key_from_avsegformer(key, stage_kinds)
        if new is None:
            skipped.append(key)
        else:
            out[new] = value
    return with_bn_counters(out), skipped


def load_avsegformer_weights(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Copy the shared AVSegFormer weights into an AVESFormer; returns (loaded keys, skipped upstream keys).

    Keys whose shapes differ (e.g. ``head.mlp.0``: AVSegFormer mixes 300 queries, AVESFormer 16) are skipped.
    """
    mapped, skipped = avesformer_state_dict_from_avsegformer(state, model.cfg.stages)
    loaded, misfits = load_fitting(model, mapped)
    return loaded, skipped + misfits  # misfits: AVESFormer names whose shapes differ


def load_imagenet_resnet_weights(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """A torchvision ImageNet ResNet (``resnet18-f37072fd.pth``) into ``model.backbone``; returns (loaded keys,
    keys that did not fit). Its classifier ``fc`` is dropped by the key map."""
    return load_fitting(model, {"backbone." + k: v for k, v in resnet_state_dict_from_upstream(state).items()})


def load_torchvggish_weights(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """torchvggish's AudioSet VGGish (``vggish-10086976.pth``) into ``model.vggish``; returns (loaded keys, keys
    that did not fit). Its PCA parameters are dropped by the key map."""
    return load_fitting(model, {"vggish." + k: v for k, v in vggish_state_dict_from_upstream(state).items()})
