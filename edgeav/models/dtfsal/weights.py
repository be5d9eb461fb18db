"""Loading released weights into DTFSal: mmaction2's MViTv2-S (Kinetics-400) and torchvggish.

* ``mvit-small-p244_16x4x1_kinetics400-rgb.pth`` (mmaction2): ``{"state_dict": {...}}`` with the recogniser's
  ``backbone.*`` (the MViT; our ``visual.*`` uses the same module names) and ``cls_head.*`` (dropped). Its
  relative-position tables were built for 16×224² (e.g. ``rel_pos_h`` of 111 rows in block 0); mmaction2
  interpolates them linearly to the q/k sizes in every forward, so loading does that interpolation once,
  to our tables' lengths. The checkpoint only has ``norm3`` (trained with ``out_scales=-1``); ``norm0-2``
  keep their initialisation.
* ``vggish-10086976.pth`` (torchvggish): ``features.*`` fill the audio trunk ``audio.vggish.*``; the
  embedding head (``embeddings.*``, unused by a fully convolutional VGGish) and the PCA parameters are skipped.
  A checkpoint of :mod:`edgeav.models.dtfsal.tagging` (this layout, written by
  ``bench/studies/pretrained_audio_trunk.py --model dtfsal``) also carries ``logmel_norm.*``, the log-mel
  BatchNorm its trunk was trained behind (``audio_norm``): it fills ``audio.norm.*``; the tagging head
  ``fc_audioset.*`` is skipped.

Both loaders have the registry's ``UpstreamLoader`` signature: ``(model, state) → (loaded, skipped)``.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.errors import CheckpointError
from edgeav.models.backbones.vggish import vggish_key_from_upstream

MVIT_PREFIX = "visual."
VGGISH_PREFIX = "audio.vggish."
LOGMEL_NORM_KEY = "logmel_norm."  # the tagging checkpoint's log-mel BatchNorm (tagging.py) → audio.norm.*
_REL_POS = ("rel_pos_t", "rel_pos_h", "rel_pos_w")


def _unwrap(state: Mapping[str, object]) -> Mapping[str, torch.Tensor]:
    for wrapper in ("state_dict", "model"):
        inner = state.get(wrapper)
        if isinstance(inner, Mapping):
            return inner
    return state  # type: ignore[return-value]


def resize_rel_pos(table: torch.Tensor, length: int) -> torch.Tensor:
    """A ``[L, C]`` relative-position table linearly interpolated to ``[length, C]`` (mmaction2's runtime resize)."""
    if table.shape[0] == length:
        return table
    return F.interpolate(table.T[None].float(), size=length, mode="linear")[0].T.to(table.dtype)


def mvit_key_from_mmaction2(key: str) -> str | None:
    """Our name of an mmaction2 recogniser key, or None for anything outside the backbone (``cls_head.*``)."""
    key = key.removeprefix("module.")
    return MVIT_PREFIX + key.removeprefix("backbone.") if key.startswith("backbone.") else None


def _copy_in(model: nn.Module, mapped: dict[str, torch.Tensor], source: str) -> list[str]:
    own = model.state_dict()
    unknown = sorted(k for k in mapped if k not in own)
    if unknown:
        raise CheckpointError(
            f"{source}: {len(unknown)} keys have no place in this DTFSal (first: {unknown[0]}); "
            "the checkpoint is another architecture — use MViTv2-S / VGGish weights or a matching config"
        )
    for key, value in mapped.items():
        if tuple(own[key].shape) != tuple(value.shape):
            raise CheckpointError(
                f"{source}: '{key}' is {tuple(value.shape)} in the checkpoint but {tuple(own[key].shape)} here; "
                "load it into the 'paper' config (or a paper@TxHxW one)"
            )
    model.load_state_dict(mapped, strict=False)
    return sorted(mapped)


def load_mmaction2_mvit(model: nn.Module, state: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """Copy an mmaction2 MViTv2 checkpoint into ``model.visual``; returns (loaded keys, skipped upstream keys)."""
    own = model.state_dict()
    mapped, skipped = {}, []
    for key, value in _unwrap(state).items():
        new = mvit_key_from_mmaction2(key)
        if new is None or not isinstance(value, torch.Tensor):
            skipped.append(key)
            continue
        if new.rsplit(".", 1)[-1] in _REL_POS and new in own:
            value = resize_rel_pos(value, own[new].shape[0])
        mapped[new] = value
    if not mapped:
        raise CheckpointError("no 'backbone.*' keys: this is not an mmaction2 recogniser checkpoint (mvit-small-p244_16x4x1_kinetics400-rgb.pth)")
    return _copy_in(model, mapped, "mmaction2 MViT"), skipped


def load_torchvggish(model: nn.Module, state: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """Copy torchvggish's conv trunk into ``model.audio.vggish``; returns (loaded keys, skipped upstream keys)."""
    mapped, skipped = {}, []
    for key, value in _unwrap(state).items():
        if key.startswith(LOGMEL_NORM_KEY):
            mapped["audio.norm." + key.removeprefix(LOGMEL_NORM_KEY)] = value
            continue
        new = vggish_key_from_upstream(key)
        if new is None or not new.startswith("features."):
            skipped.append(key)
            continue
        mapped[VGGISH_PREFIX + new.removeprefix("features.")] = value
    if not any(k.startswith(VGGISH_PREFIX) for k in mapped):
        raise CheckpointError("no 'features.*' keys: this is not a torchvggish checkpoint (vggish-10086976.pth)")
    return _copy_in(model, mapped, "torchvggish"), skipped


UPSTREAM = {"mmaction2-mvit": load_mmaction2_mvit, "torchvggish": load_torchvggish}
