"""DTFSal-S's samples: saliency windows of ``history`` frames, keyed for both of its forwards.

``history`` [K, 3, H, W] feeds ``forward_train`` (the objective reads it); ``frames`` [3, H, W] (the
newest frame), ``audio`` and ``context`` (the state) are the deployable graph's inputs by their IOSpec names, so
calibration, the int8 gate and parity run the graph on them. The state of the previous K − 1 frames
depends on the weights: with ``model`` it is that model's (the fp32 model's state for its int8 copy:
teacher-forced, one step of streaming error is what the gate then measures); without one it is zeros,
the state of a stream's first frame.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from edgeav.data import open_dataset
from edgeav.data.saliency import SaliencyWindows
from edgeav.models.dtfsal_s.configs import DTFSalSConfig


class StreamingSamples(Dataset):
    """``windows[i]`` with ``history``/``frames``/``context`` keys (see the module docstring)."""

    def __init__(self, windows: Dataset, cfg: DTFSalSConfig, model: nn.Module | None = None) -> None:
        self.windows, self.cfg, self.model = windows, cfg, model

    def __len__(self) -> int:
        return len(self.windows)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.windows[index])
        history = item.pop("frames")
        item["history"], item["frames"] = history, history[-1]
        item["context"] = self._state(history[:-1])
        return item

    @torch.no_grad()
    def _state(self, previous: torch.Tensor) -> torch.Tensor:
        if self.model is None or self.cfg.history == 1:
            return torch.zeros(self.cfg.state_shape[1:])
        was_training = self.model.training
        self.model.eval()
        try:
            return self.model.state_from_frames(previous[None])[0]
        finally:
            self.model.train(was_training)


def dtfsal_s_dataset(cfg: DTFSalSConfig, spec: str, split: str, audio_shuffle_seed: int | None = None,
                     model: nn.Module | None = None) -> StreamingSamples:
    """The samples of ``split`` of dataset ``spec`` at the model's frame size, context and audio window."""
    windows = SaliencyWindows(open_dataset(spec, split), frames=cfg.history, audio_samples=cfg.audio_samples,
                              size=cfg.frame_size, audio_shuffle_seed=audio_shuffle_seed)
    return StreamingSamples(windows, cfg, model)
