"""Transformer pieces written for export: attention with explicit linears and ``bmm``, a post-norm FFN.

``nn.MultiheadAttention`` exports with masking ops that XNNPACK leaves on portable kernels
(shared/design/backends.md §1c); explicit linears, ``bmm`` and a last-axis softmax delegate everywhere.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention with separate q/k/v/out projections (no masks)."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, -1)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        b, n, c = query.shape
        q, k, v = self._split(self.q_proj(query) * self.scale), self._split(self.k_proj(key)), self._split(self.v_proj(value))
        attn = self.dropout(torch.bmm(q, k.transpose(1, 2)).softmax(-1))
        out = torch.bmm(attn, v).reshape(b, self.heads, n, -1).permute(0, 2, 1, 3).reshape(b, n, c)
        return self.out_proj(out)


class FeedForward(nn.Module):
    """x = LN(x + W2·drop(GELU(W1·x)))."""

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dropout(self.linear2(self.dropout(F.gelu(self.linear1(x))))))
