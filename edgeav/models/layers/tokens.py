"""Multi-scale token layouts: feature maps of several levels as one token sequence, and back."""
from __future__ import annotations

import torch

LevelShapes = tuple[tuple[int, int], ...]  # (height, width) per level, finest first


def level_shapes_of(maps: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> LevelShapes:
    """The static (height, width) of each ``[B, C, H, W]`` map."""
    return tuple((int(m.shape[-2]), int(m.shape[-1])) for m in maps)


def maps_to_tokens(maps: list[torch.Tensor]) -> torch.Tensor:
    """[B, C, h, w] per level → [B, Σhw, C], levels in order, rows major."""
    tokens = [m.flatten(2).transpose(1, 2) for m in maps]
    # one level: no cat (XNNPACK does not take a one-input cat; it would stay on portable kernels)
    return tokens[0] if len(tokens) == 1 else torch.cat(tokens, dim=1)


def tokens_to_maps(tokens: torch.Tensor, level_shapes: LevelShapes) -> list[torch.Tensor]:
    """The inverse of :func:`maps_to_tokens`: [B, Σhw, C] → [B, C, h, w] per level."""
    maps, start = [], 0
    for h, w in level_shapes:
        chunk = tokens[:, start:start + h * w]
        maps.append(chunk.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], h, w))
        start += h * w
    return maps
