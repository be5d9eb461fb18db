"""VGGish (Hershey et al. 2017) in torchvggish's module layout (``harritaylor/torchvggish``).

The conv trunk ``features`` is ``[64, M, 128, M, 256, 256, M, 512, 512, M]`` (3×3 convs with bias and
ReLU, 2×2 max pools), and the head ``embeddings`` is Linear 12288→4096→4096→128, each followed by ReLU (the
last ReLU included). Before the head the feature map is flattened in NHWC order, as TF VGGish did, which is
why the released weights only work with that order. Sequential indices match torchvggish, so
``vggish-10086976.pth`` (``features.{0,3,6,8,11,13}``, ``embeddings.{0,2,4}``) loads unchanged. The PCA
post-processor is not part of the model: AVSBench, AVSegFormer and AVESFormer leave it off.

Input: log-mel examples ``[B, 1, 96, 64]`` (``edgeav.audio.VGGISH_LOGMEL``) → embedding ``[B, 128]``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

Layer = int | str  # a conv width, or "M" for a 2×2 max pool


@dataclass(frozen=True)
class VGGishConfig:
    features: tuple[Layer, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M")
    hidden: int = 4096
    embedding_dim: int = 128
    frames: int = 96
    mels: int = 64

    @property
    def flat_dim(self) -> int:
        """Length of the flattened trunk output the head reads."""
        pools = sum(1 for v in self.features if v == "M")
        last = [v for v in self.features if v != "M"][-1]
        return int(last) * (self.frames >> pools) * (self.mels >> pools)


VGGISH = VGGishConfig()
VGGISH_SMALL = VGGishConfig(features=(8, "M", 16, "M", 32, 32, "M", 32, 32, "M"), hidden=64, embedding_dim=32)
"""A tiny config for fast tests (not an upstream config)."""


def vggish_trunk(cfg: VGGishConfig = VGGISH, init: bool = True) -> nn.Sequential:
    """The conv trunk ``features`` alone (torchvggish indices): DTFSal uses VGGish fully convolutionally.
    ``init=False`` leaves PyTorch's init for a caller that He-initialises the whole model afterwards."""
    layers: list[nn.Module] = []
    in_ch = 1
    for v in cfg.features:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_ch, int(v), 3, padding=1), nn.ReLU()]
            in_ch = int(v)
    trunk = nn.Sequential(*layers)
    if init:
        _he_init(trunk)
    return trunk


def _he_init(module: nn.Module) -> None:
    # He (fan-in) init: the released weights replace it, but a VGGish trained from scratch under
    # PyTorch's default init collapses every clip to nearly the same embedding after 9 ReLU layers.
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)


class VGGish(nn.Module):
    """Log-mel ``[B, 1, frames, mels]`` → embedding ``[B, embedding_dim]`` (non-negative, after ReLU)."""

    def __init__(self, cfg: VGGishConfig = VGGISH) -> None:
        super().__init__()
        self.cfg = cfg
        self.features = vggish_trunk(cfg, init=False)
        self.embeddings = nn.Sequential(
            nn.Linear(cfg.flat_dim, cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.embedding_dim), nn.ReLU(),
        )
        _he_init(self)  # after every layer exists: the seeded initialisation draws in the original order

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.features(logmel)  # [B, C, frames/16, mels/16]
        # NHWC flatten (TF order): the released head weights expect it.
        return self.embeddings(x.permute(0, 2, 3, 1).reshape(x.shape[0], -1))


def vggish_key_from_upstream(key: str) -> str | None:
    """The :class:`VGGish` name of a torchvggish / AVSegFormer key, or None for the PCA parameters."""
    key = key.removeprefix("module.").removeprefix("vggish.")
    return key if key.startswith(("features.", "embeddings.")) else None


def vggish_state_dict_from_upstream(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map a torchvggish (``vggish-10086976.pth``) or AVSegFormer (``vggish.*``) state dict onto :class:`VGGish`.

    Keeps ``features.*`` and ``embeddings.*``, strips a ``vggish.`` / ``module.`` prefix and drops the PCA
    parameters (``pproc.*``, ``pca_*``), which edgeav does not apply.
    """
    return {new: v for k, v in state.items() if (new := vggish_key_from_upstream(k)) is not None}
