"""The two ends of a deployable graph: ImageNet normalisation of plain pixels in, mask probabilities out."""
from __future__ import annotations

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageNetNormalize(nn.Module):
    """RGB in [0, 1] → ImageNet-normalised, inside the graph so apps feed plain pixels.

    Buffers are not persistent: checkpoints in upstream layouts carry no such tensors.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return (frames - self.mean) / self.std


def mask_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """The deployable output of a mask head: sigmoid for one channel (binary), softmax over classes otherwise."""
    return torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)
