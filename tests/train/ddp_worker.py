"""One tiny training run, alone or as one rank under ``torchrun`` (gloo); rank 0 writes the final weights.

The net has no BatchNorm, so the all-reduced gradient of two half batches equals the gradient of the whole
batch: a 2-rank run must end where the 1-process run with the same global batch ends.
Usage: python -m tests.train.ddp_worker OUT_DIR
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from edgeav.registry import Objective
from edgeav.train.trainer import TrainConfig, Trainer, init_distributed


class TinySegNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 1, 1)

    def forward_train(self, frames: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(frames)))


def _loss(net: nn.Module, model: nn.Module, batch: dict) -> dict[str, torch.Tensor]:
    loss = F.binary_cross_entropy_with_logits(net(batch["frames"]), batch["mask"])
    return {"loss": loss}


OBJECTIVE = Objective(loss=_loss, logits=lambda model, batch: model.forward_train(batch["frames"]), task="segmentation")


def samples(n: int = 16) -> list[dict]:
    g = torch.Generator().manual_seed(7)
    frames = torch.rand(n, 3, 8, 8, generator=g)
    masks = (frames.mean(1, keepdim=True) > 0.5).float()
    return [{"frames": frames[i], "mask": masks[i], "annotated": True} for i in range(n)]


def main(out: Path) -> None:
    init_distributed()
    torch.manual_seed(0)
    model = TinySegNet()
    cfg = TrainConfig(steps=5, batch_size=8, lr=1e-2, seed=3, grad_clip=0.0)
    Trainer(model, OBJECTIVE, samples(), cfg, out).fit()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
