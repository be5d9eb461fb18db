"""The saliency map inside the graph: every query's Gaussian, weighted by its fixation probability.

SalTR renders its map by placing a Gaussian (σ = 19 px at SALICON's 480×640) at each predicted fixation.
The paper mentions NMS in post-processing; that would make the number of points data dependent, so here
all N queries are kept and each Gaussian is weighted by p(fixation): a query the model calls "no
fixation" contributes almost nothing, and the graph has fixed shapes.

The sum of N separable Gaussians is one matmul: with g_y [N, H] (weighted) and g_x [N, W],
``map = g_yᵀ @ g_x`` (batched). The distance of every point to every column is one linear map of the
point, x·W − 0.5 − j = ``F.linear((x, y), [[W, 0]]·W, −0.5 − j)`` (rows alike with [0, H]): no slicing of
the points and no broadcast subtraction, so converters see a FULLY_CONNECTED rather than a BROADCAST_TO
(which LiteRT's XNNPACK delegate does not take) or a strided copy. The map is divided by its maximum
(a max-pool over the whole map, which XNNPACK delegates), so it lies in [0, 1] like the datasets' maps.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MAX_EPS = 1e-6  # keeps an all-"no fixation" map finite (it is then ~0 everywhere)


class GaussianFixationMap(nn.Module):
    """(points [B, N, 2] as normalised (x, y) in [0, 1], probabilities [B, N, 1]) → map [B, 1, H, W] in [0, 1].

    A point x ∈ [0, 1] is the pixel coordinate x·W − 0.5 (pixel centres at 0.5/W …, like grid_sample with
    ``align_corners=False``).
    """

    def __init__(self, height: int, width: int, sigma_y: float, sigma_x: float) -> None:
        super().__init__()
        self.height, self.width = height, width
        self.sigma_y, self.sigma_x = float(sigma_y), float(sigma_x)
        for axis, n, column in (("x", width, 0), ("y", height, 1)):
            weight = torch.zeros(n, 2)
            weight[:, column] = float(n)
            self.register_buffer(f"to_{axis}", weight, persistent=False)
            self.register_buffer(f"offset_{axis}", -0.5 - torch.arange(n, dtype=torch.float32), persistent=False)

    def _profile(self, points: torch.Tensor, axis: str, sigma: float) -> torch.Tensor:
        """[B, N, 2] points → [B, N, size] Gaussian profile along one axis."""
        distance = F.linear(points, getattr(self, f"to_{axis}"), getattr(self, f"offset_{axis}"))
        return torch.exp(distance * distance * (-0.5 / sigma**2))

    def forward(self, points: torch.Tensor, probabilities: torch.Tensor) -> torch.Tensor:
        """``probabilities`` [B, N, 1] (or [B, N])."""
        b = points.shape[0]
        if probabilities.dim() == 2:
            probabilities = probabilities.unsqueeze(-1)
        g_x = self._profile(points, "x", self.sigma_x)  # [B, N, W]
        weighted = self._profile(points, "y", self.sigma_y) * probabilities  # [B, N, H]
        density = torch.bmm(weighted.transpose(1, 2), g_x).reshape(b, 1, self.height, self.width)
        peak = F.max_pool2d(density, kernel_size=(self.height, self.width), stride=(self.height, self.width))
        return density / (peak + MAX_EPS)
