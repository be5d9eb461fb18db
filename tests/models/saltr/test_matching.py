"""Hungarian matching and the set-prediction loss of SalTR (edgeav/models/matching.py)."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import DataError
from edgeav.models.matching import (
    SetLossWeights,
    hungarian_assignment,
    mean_pairwise_distance,
    set_prediction_loss,
)

W = SetLossWeights()


def test_hungarian_recovers_a_permutation():
    g = torch.Generator().manual_seed(0)
    targets = torch.rand(7, 2, generator=g)
    perm = torch.randperm(7, generator=g)
    points = targets[perm] + 0.001
    queries, fixations = hungarian_assignment(torch.full((7,), 0.5), points, targets, W)
    assert torch.equal(fixations[torch.argsort(queries)], perm)


def test_matching_prefers_the_confident_query_at_equal_distance():
    points = torch.tensor([[0.4, 0.5], [0.6, 0.5]])
    target = torch.tensor([[0.5, 0.5]])
    queries, _ = hungarian_assignment(torch.tensor([0.2, 0.9]), points, target, W)
    assert queries.tolist() == [1]


def _logits(prob_fix: torch.Tensor) -> torch.Tensor:
    return torch.stack([prob_fix.log(), (1 - prob_fix).log()], -1)


def test_unmatched_queries_are_trained_toward_no_fixation():
    targets = torch.tensor([[[0.2, 0.2], [0.8, 0.8], [0, 0]]])  # 2 fixations, padded to 3
    counts = torch.tensor([2])
    points = torch.tensor([[[0.2, 0.2], [0.8, 0.8], [0.5, 0.5], [0.1, 0.9]]])
    right = _logits(torch.tensor([[0.99, 0.99, 0.01, 0.01]]))
    wrong = _logits(torch.tensor([[0.99, 0.99, 0.99, 0.99]]))  # calls the two spare queries fixations
    good = set_prediction_loss(right[None], points[None], targets, counts, W)
    bad = set_prediction_loss(wrong[None], points[None], targets, counts, W)
    assert float(good["point_l1"]) < 1e-6
    assert float(bad["class"]) > 5 * float(good["class"])


def test_aux_losses_sum_over_decoder_layers():
    targets, counts = torch.rand(2, 4, 2), torch.tensor([4, 3])
    logits, points = torch.randn(1, 2, 6, 2), torch.rand(1, 2, 6, 2)
    one = set_prediction_loss(logits, points, targets, counts, W)["loss"]
    three = set_prediction_loss(logits.repeat(3, 1, 1, 1), points.repeat(3, 1, 1, 1), targets, counts, W)["loss"]
    assert float(three) == pytest.approx(3 * float(one), rel=1e-5)


@pytest.mark.parametrize("counts, targets, fix", [
    (torch.tensor([0]), torch.rand(1, 3, 2), "no fixations"),
    (torch.tensor([2]), torch.tensor([[[0.5, 1.5], [0.1, 0.1]]]), "outside"),
])
def test_bad_targets_are_refused_in_one_line(counts, targets, fix):
    with pytest.raises(DataError, match=fix) as info:
        set_prediction_loss(torch.zeros(1, 1, 4, 2), torch.rand(1, 1, 4, 2), targets, counts, W)
    assert "\n" not in str(info.value)


def _fit(matching: str) -> torch.Tensor:
    """Free points fitted to sets of 5 fixations around 5 fixed sites, listed in a new random order each step
    (5 sites so that the L1 optimum without matching, the per-axis median, is one point: the centre)."""
    g = torch.Generator().manual_seed(1)
    sites = torch.tensor([[0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.5, 0.5]])
    points = torch.nn.Parameter(torch.full((1, 1, 5, 2), 0.5) + 0.01 * torch.randn(1, 1, 5, 2, generator=g))
    logits = torch.zeros(1, 1, 5, 2)
    opt = torch.optim.Adam([points], lr=0.02)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / 300)
    for _ in range(300):
        targets = (sites[torch.randperm(5, generator=g)] + 0.01 * torch.randn(5, 2, generator=g)).clamp(0, 1)
        loss = set_prediction_loss(logits, points, targets[None], torch.tensor([5]), W, matching)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return points.detach()[0, 0]


def test_without_matching_points_collapse_toward_the_centre_and_with_it_they_spread():
    spread = mean_pairwise_distance(_fit("hungarian"))
    collapsed = mean_pairwise_distance(_fit("identity"))
    assert collapsed < 0.15 < 0.6 < spread
