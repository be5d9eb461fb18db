"""Audio-tagging pretraining of an audio trunk on built-in data: edgeav's stand-in for AudioSet.

Both mission models take a trunk pretrained on AudioSet and keep it frozen: LightAVSeg the PANNs
MobileNetV2 (tagging), AVESFormer VGGish (trained on YouTube-8M-like tags). Those weights cannot be
downloaded here, so the same trunk is pretrained by multi-label tagging with BCE (a linear classifier on its
embedding) on the seconds of synthetic scenes, whose labels are the categories sounding in each second.
The result is saved in the trunk's upstream checkpoint layout, so it loads through the same code path as the
released file (:func:`load_audio_trunk`):

- PANNs: ``{"model": {"bn0.*", "features.*", "fc1.*", "fc_audioset.*"}}`` as ``MobileNetV2_mAP=0.383.pth``;
- VGGish: a plain ``{"features.*", "embeddings.*"}`` state dict as torchvggish's ``vggish-10086976.pth``
  (plus the tagging head, which the upstream key map drops).

A model whose trunk reads its own audio front end registers its tagger in :data:`MODEL_TAGGERS` (DTFSal:
log-mel slices + log-mel BatchNorm + the fully convolutional VGGish, :mod:`edgeav.models.dtfsal.tagging`), is
loaded by its registry entry's upstream loader (:func:`load_audio_weights`), and on saliency clips is tagged
per training window, the audio it hears, rather than per second (:func:`tagged_windows`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from edgeav.audio import LogMelConfig, LogMelFrontEnd
from edgeav.checkpoints import load_checkpoint, save_atomically
from edgeav.data.clips import SaliencyClip
from edgeav.data.saliency.samples import audio_ending_at
from edgeav.errors import CheckpointError, DataError, UsageError
from edgeav.models.backbones.panns_mobilenetv2 import (
    PannsMobileNetV2,
    PannsMobileNetV2Config,
    panns_state_dict_from_upstream,
)
from edgeav.models.backbones.vggish import VGGish, VGGishConfig, vggish_state_dict_from_upstream
from edgeav.models.dtfsal.configs import DTFSalConfig
from edgeav.models.dtfsal.tagging import DTFSalAudioTagger


@dataclass(frozen=True)
class AudioTrunkFamily:
    """One pretrainable audio trunk: its module, its upstream checkpoint layout both ways."""

    name: str
    trunk: type[nn.Module]
    checkpoint_name: str  # what bench/studies/pretrained_audio_trunk.py writes
    to_upstream: Callable[[dict[str, torch.Tensor]], Any]  # a state dict → the upstream file's object
    from_upstream: Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]


# Keyed by the trunk's config type, which is what a model config carries as ``audio``.
AUDIO_TRUNKS: dict[type, AudioTrunkFamily] = {
    PannsMobileNetV2Config: AudioTrunkFamily("PANNs MobileNetV2", PannsMobileNetV2, "panns_tagging.pt",
                                             lambda state: {"model": state}, panns_state_dict_from_upstream),
    VGGishConfig: AudioTrunkFamily("VGGish", VGGish, "vggish_tagging.pt",
                                   lambda state: state, vggish_state_dict_from_upstream),
}


def trunk_family(trunk_config: Any) -> AudioTrunkFamily:
    family = AUDIO_TRUNKS.get(type(trunk_config))
    if family is None:
        raise UsageError(f"no audio-tagging pretraining for a {type(trunk_config).__name__} trunk "
                         f"(known: {', '.join(f.name for f in AUDIO_TRUNKS.values())})")
    return family


def _family_of_module(module: nn.Module) -> AudioTrunkFamily | None:
    return next((f for f in AUDIO_TRUNKS.values() if isinstance(module, f.trunk)), None)


def audio_trunk(model: nn.Module, model_name: str = "this model") -> nn.Module:
    """The pretrainable audio trunk inside ``model`` (the first module of a known trunk type)."""
    for module in model.modules():
        if _family_of_module(module) is not None:
            return module
    raise UsageError(f"--audio-weights loads an audio trunk ({', '.join(f.name for f in AUDIO_TRUNKS.values())}); "
                     f"{model_name} has none")


class AudioTagger(nn.Module):
    """Log-mel front end + audio trunk + linear tagging head (named after PANNs' ``fc_audioset``)."""

    def __init__(self, trunk: Any, logmel: LogMelConfig, num_tags: int) -> None:
        super().__init__()
        self.family = trunk_family(trunk)
        self.frontend = LogMelFrontEnd(logmel)
        self.trunk = self.family.trunk(trunk)
        self.fc_audioset = nn.Linear(trunk.embedding_dim, num_tags)

    @property
    def trunk_type(self) -> type[nn.Module]:
        return self.family.trunk

    def forward(self, pcm: torch.Tensor) -> torch.Tensor:
        return self.fc_audioset(self.trunk(self.frontend(pcm)))

    def upstream_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights in the upstream key layout (trunk keys at top level, plus ``fc_audioset``)."""
        state = dict(self.trunk.state_dict())
        state.update({f"fc_audioset.{k}": v for k, v in self.fc_audioset.state_dict().items()})
        return state


# Models whose audio trunk sits behind their own front end: model config type → tagger(config, num_tags).
# Any other model's config carries ``audio`` (a trunk config) and ``logmel``, for :class:`AudioTagger`.
MODEL_TAGGERS: dict[type, Callable[[Any, int], nn.Module]] = {DTFSalConfig: DTFSalAudioTagger}

# Registry-entry upstream sources that load an audio trunk (``ModelEntry.upstream``): --audio-weights uses them.
AUDIO_UPSTREAM_SOURCES = ("torchvggish",)


def build_tagger(model_config: Any, num_tags: int) -> nn.Module:
    """The tagger that pretrains ``model_config``'s audio trunk: PCM → ``num_tags`` logits."""
    builder = MODEL_TAGGERS.get(type(model_config))
    if builder is not None:
        return builder(model_config, num_tags)
    if not hasattr(model_config, "audio") or not hasattr(model_config, "logmel"):
        raise UsageError(f"no audio-tagging pretraining for a {type(model_config).__name__} (it has no audio trunk config)")
    return AudioTagger(model_config.audio, model_config.logmel, num_tags)


def tagged_audio(clips, class_names: list[str], model_config: Any, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(pcm, multi-hot tags) for ``model_config``'s tagger: windows of the model's audio length on saliency
    clips (:func:`tagged_windows`), one second per frame on segmentation scenes (:func:`tagged_seconds`)."""
    if len(clips) and isinstance(clips[0], SaliencyClip):
        return tagged_windows(clips, class_names, model_config.audio_samples, stride)
    return tagged_seconds(clips, class_names)


def tagged_windows(clips, class_names: list[str], audio_samples: int, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """The audio a saliency model hears at every ``stride``-th target frame of every clip (the ``audio_samples``
    ending with that frame, as ``SaliencyWindows`` serves them) as (pcm [N, audio_samples], multi-hot [N, C]):
    the categories sounding during any frame that window covers (``meta["sounding"]`` × ``meta["categories"]``)."""
    index = {name: k for k, name in enumerate(class_names)}
    pcm, tags = [], []
    for i in range(len(clips)):
        clip = clips[i]
        sounding, names = clip.meta.get("sounding"), clip.meta.get("categories")
        if clip.audio is None or sounding is None or names is None:
            raise DataError("audio tagging of saliency clips needs raw audio and per-frame sounding objects "
                            "(meta 'sounding' and 'categories': synthetic-saliency)")
        on = torch.as_tensor(sounding, dtype=torch.bool)  # [objects, T]
        per_frame = clip.sample_rate / clip.fps
        first = max(math.ceil(audio_samples / per_frame - 1e-9) - 1, 0)
        for t in range(first, on.shape[1], stride):
            end = int(round((t + 1) * per_frame))
            heard = slice(max(int((end - audio_samples) // per_frame), 0), t + 1)  # frames inside the window
            target = torch.zeros(len(class_names))
            for k, name in enumerate(names):
                if on[k, heard].any():
                    target[index[name]] = 1.0
            pcm.append(audio_ending_at(clip.audio, end, audio_samples))
            tags.append(target)
    if not pcm:
        raise DataError(f"no clip is long enough for {audio_samples} samples of audio; make longer clips")
    return torch.stack(pcm), torch.stack(tags)


def tagged_seconds(clips, class_names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Every second of every clip as (pcm [N, S], multi-hot tags [N, C]): the categories sounding in it."""
    index = {name: k for k, name in enumerate(class_names)}
    pcm, tags = [], []
    for i in range(len(clips)):
        clip = clips[i]
        objects = clip.meta.get("objects")
        if clip.audio is None or objects is None:
            raise DataError("audio tagging needs clips with raw audio and per-object sounding labels (synthetic data)")
        for t in range(clip.audio.shape[0]):
            target = torch.zeros(len(class_names))
            for obj in objects:
                if obj["role"] == "source" and obj["sounding"][t]:
                    target[index[obj["category"]]] = 1.0
            pcm.append(clip.audio[t])
            tags.append(target)
    return torch.stack(pcm), torch.stack(tags)


@dataclass(frozen=True)
class TaggingConfig:
    steps: int = 1500
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0


def train_tagger(model: AudioTagger, pcm: torch.Tensor, tags: torch.Tensor, cfg: TaggingConfig,
                 on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """AdamW with poly decay on BCE; returns the loss per step."""
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    g = torch.Generator().manual_seed(cfg.seed)
    losses = []
    model.train()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * (1 - step / cfg.steps) ** 0.9
        idx = torch.randint(len(pcm), (cfg.batch_size,), generator=g)
        loss = F.binary_cross_entropy_with_logits(model(pcm[idx]), tags[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step:
            on_step(step + 1, losses[-1])
    return losses


@torch.no_grad()
def tagging_scores(model: AudioTagger, pcm: torch.Tensor, tags: torch.Tensor, batch_size: int = 64) -> dict[str, float]:
    """Mean average precision over tags present in ``tags``, and exact-set accuracy at threshold 0.5."""
    model.eval()
    logits = torch.cat([model(pcm[i : i + batch_size]) for i in range(0, len(pcm), batch_size)])
    aps = []
    for c in range(tags.shape[1]):
        if tags[:, c].sum() == 0:
            continue
        order = logits[:, c].argsort(descending=True)
        hits = tags[order, c]
        precision = hits.cumsum(0) / torch.arange(1, len(hits) + 1)
        aps.append(float((precision * hits).sum() / hits.sum()))
    exact = ((logits > 0).float() == tags).all(1).float().mean()
    return {"map": sum(aps) / max(len(aps), 1), "exact_match": float(exact), "seconds": float(len(pcm))}


def tagger_family(model: nn.Module) -> AudioTrunkFamily:
    """The upstream layout a tagger writes (its ``trunk_type``'s family)."""
    return next(f for f in AUDIO_TRUNKS.values() if f.trunk is model.trunk_type)


def save_tagging_checkpoint(model: nn.Module, path: Path) -> Path:
    """The trunk and tagging head in the trunk's upstream checkpoint layout, written atomically."""
    return save_atomically(tagger_family(model).to_upstream(model.upstream_state_dict()), path)


def load_audio_weights(model: nn.Module, entry: Any, path: str | Path) -> None:
    """``--audio-weights``: through the registry entry's upstream loader for an audio layout when it has one
    (DTFSal: torchvggish → ``audio.vggish.*`` + ``audio.norm.*``), else into the model's trunk module."""
    source = next((s for s in AUDIO_UPSTREAM_SOURCES if s in entry.upstream), None)
    if source is None:
        load_audio_trunk(audio_trunk(model, entry.name), path)
        return
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"audio weights '{path}' do not exist; check the --audio-weights path")
    entry.upstream[source](model, torch.load(path, map_location="cpu", weights_only=True))


def load_audio_trunk(trunk: nn.Module, path: str | Path) -> None:
    """Load an upstream-layout checkpoint (the released AudioSet weights, or :func:`save_tagging_checkpoint`'s)
    into ``trunk``, strictly, with the one-line errors of :func:`edgeav.checkpoints.load_checkpoint`."""
    family = _family_of_module(trunk)
    if family is None:
        raise UsageError(f"no upstream audio checkpoint layout for a {type(trunk).__name__}")
    load_checkpoint(trunk, path, transform=family.from_upstream)
