"""Position and level embeddings of multi-scale tokens."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from edgeav.models.layers.tokens import LevelShapes


def sine_position_embedding(level_shapes: LevelShapes, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """DETR's sine embedding (unnormalised, y then x halves) of every token, levels concatenated: [N, dim]."""
    half = dim // 2
    freqs = temperature ** (2 * (torch.arange(half) // 2) / half)
    out = []
    for h, w in level_shapes:
        y = torch.arange(1, h + 1, dtype=torch.float32)[:, None].expand(h, w).reshape(-1, 1) / freqs
        x = torch.arange(1, w + 1, dtype=torch.float32)[None, :].expand(h, w).reshape(-1, 1) / freqs

        def interleave(t: torch.Tensor) -> torch.Tensor:
            return torch.stack((t[:, 0::2].sin(), t[:, 1::2].cos()), dim=2).reshape(t.shape[0], -1)

        out.append(torch.cat((interleave(y), interleave(x)), dim=1))
    return torch.cat(out, dim=0)


def level_onehot(level_shapes: LevelShapes) -> torch.Tensor:
    """[N, levels]: which level each token belongs to, so a level embedding is a matmul (no gather)."""
    ids = torch.cat([torch.full((h * w,), i) for i, (h, w) in enumerate(level_shapes)])
    return F.one_hot(ids, len(level_shapes)).float()
