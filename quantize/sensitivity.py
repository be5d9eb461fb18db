"""Per-block sensitivity: quantize one block at a time (PTQ), measure the task metric drop against fp32.

The blocks with the largest drop are the candidates for ``--keep-fp32``. Each block costs one capture +
calibration + held-out evaluation in PyTorch (no lowering), so the report runs on the quantized graph's
own arithmetic, not on a device.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from quantize.api import ModelRewrite, calibrate, prepare
from quantize.recipes import FloatModules

Score = Callable[[nn.Module], float]  # model -> the task's headline metric (e.g. mIoU in points)


@dataclass(frozen=True)
class BlockSensitivity:
    block: str
    score: float
    drop: float  # how much worse than fp32 (in the score's direction)


def default_blocks(model: nn.Module, depth: int = 2) -> list[str]:
    """Module names at ``depth`` dots (``visual.smb1``, ``decoder.0``) with parameters, else their parents."""
    names = []
    for name, module in model.named_modules():
        if name and name.count(".") == depth - 1 and any(True for _ in module.parameters()):
            names.append(name)
    return names


def sensitivity_report(
    model: nn.Module,
    example_inputs: Sequence[torch.Tensor],
    calibration: Callable[[], Iterable[Sequence[torch.Tensor]]],
    score: Score,
    blocks: Sequence[str] | None = None,
    rewrite: ModelRewrite | None = None,
    *,
    floats: FloatModules,
    higher_is_better: bool = True,
) -> tuple[float, list[BlockSensitivity]]:
    """fp32 score and, per block, the score with only that block int8 (largest drop first).

    ``higher_is_better``: the score's direction (a drop is a loss either way, e.g. a KLD that rises)."""
    base = score(model.eval())
    rows = []
    for block in blocks or default_blocks(model):
        sim = prepare(model, example_inputs, "ptq", rewrite=rewrite, only=[block], floats=floats)
        calibrate(sim, calibration())
        value = score(sim.convert())
        rows.append(BlockSensitivity(block, value, base - value if higher_is_better else value - base))
    return base, sorted(rows, key=lambda r: -r.drop)
