"""KL, CC and the KL − CC loss against their definitions."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import UsageError
from edgeav.models.saliency_losses import cc, kl_cc_loss, kl_div


def test_kl_is_zero_for_equal_distributions_and_scale_free():
    g = torch.rand(2, 1, 8, 8)
    assert float(kl_div(3.0 * g, g)) == pytest.approx(0.0, abs=1e-6)
    assert float(kl_div(torch.rand(2, 1, 8, 8), g)) > 0.0


def test_kl_matches_the_formula():
    p, g = torch.rand(1, 5) + 0.1, torch.rand(1, 5) + 0.1
    pn, gn = p / p.sum(), g / g.sum()
    assert float(kl_div(p, g)) == pytest.approx(float((gn * torch.log(gn / pn)).sum()), rel=1e-5)


def test_cc_is_pearson():
    p, g = torch.randn(3, 40), torch.randn(3, 40)
    want = torch.stack([torch.corrcoef(torch.stack([a, b]))[0, 1] for a, b in zip(p, g)]).mean()
    assert float(cc(p, g)) == pytest.approx(float(want), abs=1e-5)
    assert float(cc(2 * g + 1, g)) == pytest.approx(1.0, abs=1e-5)


def test_kl_cc_loss_weights():
    p, g = torch.rand(2, 1, 6, 6), torch.rand(2, 1, 6, 6)
    parts = kl_cc_loss(p, g)
    assert torch.allclose(parts["loss"], parts["kl"] - parts["cc"])
    assert torch.allclose(kl_cc_loss(p, g, 2.0, 0.0)["loss"], 2 * parts["kl"])


def test_mismatched_maps_name_the_fix():
    with pytest.raises(UsageError, match="resize the target"):
        kl_div(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 8, 8))
