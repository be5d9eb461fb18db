"""Set-prediction training for fixation queries: Hungarian matching and its loss (SalTR, after DETR).

Layer 1 (beside ``edgeav.models.losses``): a model folder's Objective names its loss, and model folders
import nothing from ``edgeav.train``. Outside the exported graph: matching runs ``scipy.optimize.linear_sum_assignment`` on CPU costs and is
not differentiable; only the loss given the assignment carries gradients.

Matching cost of query i and fixation j (both as normalised (x, y) in [0, 1]):
    C[i, j] = −w_class · p_i(fixation) + λ · ‖xy_i − xy_j‖₁,   λ = 5 (``SalTRConfig.match_point_cost``)
λ = 5 with class weight 1 is DETR's box-L1 / class balance (models.md §6) and fits points: a query that
is 0.2 of the image away costs as much as certainty of a fixation gains.

Loss of one decoder layer, given the assignment:
    CE over {fixation, no fixation} for every query (matched → fixation, the rest → no fixation; the
    no-fixation class weighted 0.1, DETR's eos_coef), plus point_weight · L1 of the matched points divided
    by the number of fixations in the batch. With aux losses every decoder layer is matched and scored
    the same way and the layers' losses are summed (DETR).

``matching="identity"`` is the paper's ablation (§4.2: "without any assignments"): query i is paired with
fixation i of the list, so each query learns the mean of whatever fixations land in its slot — the centre
bias. A set with more fixations than queries keeps the N best-matched (Hungarian) or the first N (identity).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from edgeav.errors import DataError, UsageError

Assignment = tuple[torch.Tensor, torch.Tensor]  # (query indices, fixation indices), both int64 [K]


@dataclass(frozen=True)
class SetLossWeights:
    class_cost: float = 1.0
    point_cost: float = 5.0
    point_weight: float = 5.0
    no_fixation_weight: float = 0.1


def hungarian_assignment(prob: torch.Tensor, points: torch.Tensor, targets: torch.Tensor, w: SetLossWeights) -> Assignment:
    """One image: prob [N] p(fixation), points [N, 2], targets [M, 2] → the min-cost one-to-one pairs."""
    with torch.no_grad():
        cost = -w.class_cost * prob[:, None] + w.point_cost * torch.cdist(points, targets, p=1)
    rows, cols = linear_sum_assignment(cost.detach().cpu().double().numpy())
    return torch.as_tensor(rows, dtype=torch.int64), torch.as_tensor(cols, dtype=torch.int64)


def identity_assignment(prob: torch.Tensor, points: torch.Tensor, targets: torch.Tensor, w: SetLossWeights) -> Assignment:
    """The ablation: query i ↔ fixation i, for i < min(N, M)."""
    k = min(len(prob), len(targets))
    index = torch.arange(k, dtype=torch.int64)
    return index, index


MATCHERS: dict[str, Callable[..., Assignment]] = {"hungarian": hungarian_assignment, "identity": identity_assignment}


def check_fixation_targets(targets: torch.Tensor, counts: torch.Tensor) -> None:
    """Refuse targets the loss cannot use, with the fix in the message."""
    if targets.dim() != 3 or targets.shape[-1] != 2:
        raise DataError(f"fixation targets must be [B, M, 2] normalised (x, y), got {tuple(targets.shape)}")
    if bool((counts <= 0).any()):
        raise DataError("an image in the batch has no fixations; drop it (edgeav.data.saliency.fixations skips such images)")
    valid = torch.arange(targets.shape[1], device=counts.device)[None] < counts[:, None]
    inside = ((targets >= 0) & (targets <= 1)).all(-1)
    if bool((valid & ~inside).any()):
        raise DataError("fixation targets lie outside [0, 1]; normalise points by the image width/height and clip them")


def match_layer(logits: torch.Tensor, points: torch.Tensor, targets: torch.Tensor, counts: torch.Tensor,
                w: SetLossWeights, matching: str) -> list[Assignment]:
    """Assignments of one decoder layer: logits [B, N, 2], points [B, N, 2], targets [B, M, 2], counts [B]."""
    if matching not in MATCHERS:
        raise UsageError(f"matching '{matching}' unknown; use one of {', '.join(MATCHERS)}")
    prob = logits.detach().softmax(-1)[..., 0]
    return [MATCHERS[matching](prob[b], points[b].detach(), targets[b, : int(counts[b])], w) for b in range(len(counts))]


def layer_loss(logits: torch.Tensor, points: torch.Tensor, targets: torch.Tensor, counts: torch.Tensor,
               assignments: list[Assignment], w: SetLossWeights) -> tuple[torch.Tensor, torch.Tensor]:
    """(classification CE, L1 of matched points) of one decoder layer given its assignments."""
    b, n, _ = logits.shape
    labels = torch.ones(b, n, dtype=torch.int64, device=logits.device)  # 1 = no fixation
    batch_idx = torch.cat([torch.full_like(q, i) for i, (q, _) in enumerate(assignments)]).to(logits.device)
    query_idx = torch.cat([q for q, _ in assignments]).to(logits.device)
    target_idx = torch.cat([t for _, t in assignments]).to(logits.device)
    labels[batch_idx, query_idx] = 0
    class_weight = torch.tensor([1.0, w.no_fixation_weight], device=logits.device, dtype=logits.dtype)
    ce = F.cross_entropy(logits.reshape(b * n, 2), labels.reshape(-1), weight=class_weight)
    matched = points[batch_idx, query_idx]
    l1 = (matched - targets[batch_idx, target_idx]).abs().sum() / max(int(counts.sum()), 1)
    return ce, l1


def set_prediction_loss(layer_logits: torch.Tensor, layer_points: torch.Tensor, targets: torch.Tensor,
                        counts: torch.Tensor, w: SetLossWeights, matching: str = "hungarian") -> dict[str, torch.Tensor]:
    """Sum over decoder layers (last = final output) of CE + point_weight · L1; logits [L, B, N, 2]."""
    check_fixation_targets(targets, counts)
    total_ce = total_l1 = layer_logits.new_zeros(())
    for logits, points in zip(layer_logits, layer_points):
        assignments = match_layer(logits, points, targets, counts, w, matching)
        ce, l1 = layer_loss(logits, points, targets, counts, assignments, w)
        total_ce, total_l1 = total_ce + ce, total_l1 + l1
    return {"loss": total_ce + w.point_weight * total_l1, "class": total_ce, "point_l1": total_l1}


def mean_pairwise_distance(points: np.ndarray | torch.Tensor, weights: np.ndarray | torch.Tensor | None = None) -> float:
    """Mean distance between predicted points [N, 2] (normalised units), pairs weighted by w_i·w_j.

    The spread the paper's ablation reads: it collapses toward 0 when queries fall onto the centre bias.
    """
    p = torch.as_tensor(points, dtype=torch.float64)
    w = torch.ones(len(p), dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    pair = w[:, None] * w[None, :] * (1 - torch.eye(len(p), dtype=torch.float64))
    total = float(pair.sum())
    return float((torch.cdist(p, p) * pair).sum() / total) if total > 0 else 0.0
