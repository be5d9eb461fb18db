"""Audio-tagging stand-in for DTFSal's AudioSet-pretrained VGGish: the teacher's own audio trunk, taught to
name the sounding category.

Why: trained from scratch inside the saliency objective, the teacher's VGGish never learned to tell sounds
apart (README "Saliency results": four teachers, true-vs-shuffled audio gap 0.000; its features coded
loudness and collapsed). DTFSal, like DiffSal, starts from torchvggish's AudioSet weights, which cannot be
downloaded here; so the same trunk — DTFSal's in-graph log-mel slices, the ``audio_norm`` log-mel BatchNorm
and the VGGish convolutions, exactly :class:`~edgeav.models.dtfsal.audio.VGGishSlices` — is trained by
multi-label tagging (BCE) of each training window's audio with the categories sounding in it
(:func:`edgeav.train.audio_tagging.tagged_windows`). Pooling: the trunk's grid average over slices ×
frequency × time, the same average AMFB's gate takes of the aligned audio map (``fusion.GateAudio``).

The checkpoint is torchvggish's layout (``features.*``), so ``edgeav train --model dtfsal --audio-weights
vggish_tagging.pt`` loads it through the same key map as the released ``vggish-10086976.pth``
(``weights.load_torchvggish``), plus ``logmel_norm.*`` (the BatchNorm's weights and running statistics, which
the trunk's features depend on) and the tagging head ``fc_audioset.*`` (dropped on load).
"""
from __future__ import annotations

import torch
from torch import nn

from edgeav.models.backbones.vggish import VGGish
from edgeav.models.dtfsal.audio import VGGishSlices
from edgeav.models.dtfsal.configs import DTFSalConfig
from edgeav.models.dtfsal.weights import LOGMEL_NORM_KEY


class DTFSalAudioTagger(nn.Module):
    """PCM ``[B, audio_samples]`` → tag logits ``[B, num_tags]`` through DTFSal's audio trunk."""

    trunk_type = VGGish  # the upstream layout this writes (audio_tagging.AUDIO_TRUNKS' VGGish family)

    def __init__(self, cfg: DTFSalConfig, num_tags: int) -> None:
        super().__init__()
        self.trunk = VGGishSlices(cfg)
        self.fc_audioset = nn.Linear(cfg.audio_dim, num_tags)

    def forward(self, pcm: torch.Tensor) -> torch.Tensor:
        return self.fc_audioset(self.trunk(pcm).mean(dim=(2, 3, 4)))

    def upstream_state_dict(self) -> dict[str, torch.Tensor]:
        """torchvggish keys for the trunk, ``logmel_norm.*`` for the log-mel BatchNorm, ``fc_audioset.*``."""
        state = {f"features.{k}": v for k, v in self.trunk.vggish.state_dict().items()}
        state.update({LOGMEL_NORM_KEY + k: v for k, v in self.trunk.norm.state_dict().items()})
        state.update({f"fc_audioset.{k}": v for k, v in self.fc_audioset.state_dict().items()})
        return state
