"""Saliency metrics: hand-computed cases and the Tübingen/MIT reference implementation (pysaliency)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from edgeav.errors import InputShapeError
from edgeav.metrics import auc_judd, cc, kld, nss, saliency_scores, sim

# pysaliency 0.2.22 on the analytic case of conftest.py (CC, NSS, SIM, MIT_KLDiv, general_roc(judd=1)).
PYSALIENCY_REFERENCE = {
    "cc": 0.7291839749265425,
    "nss": 2.4572048625263583,
    "sim": 0.5330608615529259,
    "kld": 0.6426856725616967,
    "auc_judd": 0.9224123735447625,
}


def test_cc_of_a_map_with_itself_and_its_negative():
    m = np.arange(12.0).reshape(3, 4) ** 1.5
    assert cc(m, m) == pytest.approx(1.0)
    assert cc(m, -m) == pytest.approx(-1.0)


def test_nss_hand_computed():
    # values 0, 0, 0, 4: mean 1, sample std 2, fixation on the 4 -> (4 - 1) / 2
    pred = np.array([[0.0, 0.0], [0.0, 4.0]])
    fix = np.array([[0, 0], [0, 1]])
    assert nss(pred, fix) == pytest.approx(1.5)


def test_auc_judd_hand_computed():
    pred = np.array([[0.1, 0.4], [0.35, 0.8]])
    # fixations on the two highest values: a perfect ranking
    assert auc_judd(pred, np.array([[0, 1], [0, 1]])) == pytest.approx(1.0)
    # fixations on 0.4 and 0.35: ROC points (0,0), (.5,.5), (.5,1), (1,1) -> area 0.625
    assert auc_judd(pred, np.array([[0, 1], [1, 0]])) == pytest.approx(0.625)


def test_sim_hand_computed():
    a = np.array([[1.0, 0.0], [0.0, 0.0]])
    b = np.array([[0.5, 0.5], [0.0, 0.0]])  # min-max -> [1, 1, 0, 0] -> [.5, .5, 0, 0]
    assert sim(a, b) == pytest.approx(0.5)
    assert sim(b, b) == pytest.approx(1.0)
    assert sim(a, 1 - a) == pytest.approx(0.0)


def test_kld_hand_computed():
    pred = np.array([[0.5, 0.5]])
    gt = np.array([[1.0, 0.0]])
    assert kld(pred, gt) == pytest.approx(math.log(2.0))
    assert kld(gt, gt) == pytest.approx(0.0, abs=1e-9)


def test_matches_pysaliency_values(saliency_case):
    pred, gt, fix = saliency_case
    ours = saliency_scores(pred, gt, fix)
    for name, ref in PYSALIENCY_REFERENCE.items():
        assert ours[name] == pytest.approx(ref, abs=1e-4), name


def test_matches_pysaliency_live(saliency_case):
    import pysaliency.metrics as pysaliency_metrics  # the test extra installs it: this check must run, not skip
    if not hasattr(np, "trapz"):  # pysaliency 0.2.22 predates NumPy 2's rename
        np.trapz = np.trapezoid
    from pysaliency.roc import general_roc

    pred, gt, fix = saliency_case
    ys, xs = np.nonzero(fix)
    assert cc(pred, gt) == pytest.approx(pysaliency_metrics.CC(pred, gt), abs=1e-4)
    assert nss(pred, fix) == pytest.approx(np.mean(pysaliency_metrics.NSS(pred, xs, ys)), abs=1e-4)
    assert sim(pred, gt) == pytest.approx(pysaliency_metrics.SIM(pred - pred.min(), gt - gt.min()), abs=1e-4)
    assert kld(pred, gt) == pytest.approx(pysaliency_metrics.MIT_KLDiv(pred, gt), abs=1e-4)
    assert auc_judd(pred, fix) == pytest.approx(general_roc(pred[fix > 0], pred[fix == 0], judd=1)[0], abs=1e-4)


def test_batched_inputs_average_per_map(saliency_case):
    pred, gt, fix = saliency_case
    batch_pred = torch.from_numpy(np.stack([pred, gt]))[:, None]  # [2, 1, H, W]
    batch_gt = torch.from_numpy(np.stack([gt, gt]))[:, None]
    per_map = cc(batch_pred, batch_gt, reduction="none")
    assert per_map.shape == (2,)
    assert per_map[1] == pytest.approx(1.0)
    assert cc(batch_pred, batch_gt) == pytest.approx(per_map.mean())


def test_shape_mismatch_is_an_input_shape_error():
    with pytest.raises(InputShapeError, match="resize"):
        cc(np.zeros((4, 4)), np.zeros((4, 5)))
