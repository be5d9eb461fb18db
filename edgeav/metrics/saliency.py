"""Saliency metrics as the MIT/Tübingen saliency benchmark defines them (Bylinskii et al., TPAMI 2019).

Each follows the benchmark's MATLAB reference (``CC.m``, ``NSS.m``, ``AUC_Judd.m``, ``similarity.m``,
``KLdiv.m``), computed in float64:

* ``cc``: both maps standardised (mean 0, sample std), Pearson correlation.
* ``nss``: prediction standardised (mean 0, sample std), mean value at fixated pixels.
* ``auc_judd``: thresholds are the prediction's values at fixated pixels; TPR at the i-th highest
  threshold is i / #fixations, FPR is (#pixels ≥ threshold − i) / (#pixels − #fixations); trapezoidal
  area with (0, 0) and (1, 1) appended. The reference's optional random jitter is not applied, so
  scores are deterministic; maps with many exactly tied values can differ from a jittered run.
* ``sim``: each map min-max normalised then divided by its sum; sum of the pixelwise minimum.
* ``kld``: each map divided by its sum; Σ G · log(ε + G / (P + ε)) with ε = 2.22e-16 (MATLAB ``eps``).

``pred`` is the predicted saliency map; ``gt`` is the ground-truth saliency (density) map for CC, SIM and
KLD, and the binary fixation map for NSS and AUC-Judd. Maps are ``[H, W]`` or batched ``[..., H, W]``;
batched inputs return the mean over maps (``reduction="none"`` returns one score per map). Maps must
already have the same size (the reference resizes the prediction; do that before calling).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from edgeav.errors import InputShapeError

MATLAB_EPS = float(np.finfo(np.float64).eps)
Reduction = Literal["mean", "none"]


def _maps(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 2:
        raise InputShapeError(f"{name} must have at least 2 dims [..., H, W], got shape {a.shape}")
    return a.reshape(-1, a.shape[-2], a.shape[-1])


def _batched(fn: Callable[[np.ndarray, np.ndarray], float]):
    @functools.wraps(fn)
    def wrapper(pred, gt, *, reduction: Reduction = "mean"):
        p, g = _maps(pred, "pred"), _maps(gt, "gt")
        if p.shape != g.shape:
            raise InputShapeError(
                f"pred maps {p.shape} and gt maps {g.shape} differ; resize the prediction to the ground truth first"
            )
        scores = np.array([fn(pi, gi) for pi, gi in zip(p, g)])
        return scores if reduction == "none" else float(scores.mean())

    return wrapper


def _standardise(m: np.ndarray) -> np.ndarray:
    std = m.std(ddof=1)
    centred = m - m.mean()
    return centred / std if std > 0 else centred


def _to_distribution(m: np.ndarray) -> np.ndarray:
    total = m.sum()
    return m / total if total != 0 else m


@_batched
def cc(pred: np.ndarray, gt: np.ndarray) -> float:
    """Pearson linear correlation coefficient between the predicted and ground-truth saliency maps."""
    a, b = _standardise(pred), _standardise(gt)
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


@_batched
def nss(pred: np.ndarray, fixations: np.ndarray) -> float:
    """Normalised scanpath saliency: mean standardised prediction at fixated pixels."""
    fixated = fixations > 0
    if not fixated.any():
        return float("nan")
    return float(_standardise(pred)[fixated].mean())


@_batched
def auc_judd(pred: np.ndarray, fixations: np.ndarray) -> float:
    """Area under the ROC curve with fixated pixels as positives and all other pixels as negatives."""
    s = pred.reshape(-1)
    fixated = fixations.reshape(-1) > 0
    n_fix = int(fixated.sum())
    n_pix = s.size
    if n_fix == 0 or n_fix == n_pix:
        return float("nan")
    thresholds = np.sort(s[fixated])[::-1]
    sorted_all = np.sort(s)
    above = n_pix - np.searchsorted(sorted_all, thresholds, side="left")  # count of s >= threshold
    i = np.arange(1, n_fix + 1)
    tp = np.concatenate([[0.0], i / n_fix, [1.0]])
    fp = np.concatenate([[0.0], (above - i) / (n_pix - n_fix), [1.0]])
    return float(np.sum((fp[1:] - fp[:-1]) * (tp[1:] + tp[:-1]) / 2))


@_batched
def sim(pred: np.ndarray, gt: np.ndarray) -> float:
    """Histogram intersection of the two maps as distributions (min-max normalised, then sum to 1)."""

    def as_dist(m: np.ndarray) -> np.ndarray:
        span = m.max() - m.min()
        m = (m - m.min()) / span if span > 0 else np.ones_like(m)
        return m / m.sum()

    return float(np.minimum(as_dist(pred), as_dist(gt)).sum())


@_batched
def kld(pred: np.ndarray, gt: np.ndarray) -> float:
    """KL divergence of the prediction from the ground-truth map, both as distributions (lower is better)."""
    p, q = _to_distribution(pred), _to_distribution(gt)
    return float((q * np.log(MATLAB_EPS + q / (p + MATLAB_EPS))).sum())

SALIENCY_METRICS: dict[str, Callable] = {"cc": cc, "nss": nss, "auc_judd": auc_judd, "sim": sim, "kld": kld}
# Which ground truth each metric compares against.
NEEDS_FIXATIONS = frozenset({"nss", "auc_judd"})


def saliency_scores(pred, saliency_gt, fixations) -> dict[str, float]:
    """All five metrics for one prediction, ``{"cc", "nss", "auc_judd", "sim", "kld"}``."""
    return {
        name: fn(pred, fixations if name in NEEDS_FIXATIONS else saliency_gt) for name, fn in SALIENCY_METRICS.items()
    }


class SaliencyMeter:
    """Accumulates the five metrics over a split: each is the mean over maps, as the benchmark averages.

    A map without fixations has no NSS or AUC-Judd (NaN) and is left out of those two means; with no
    fixation maps at all (``fixations=None``) the result has no ``nss``/``auc_judd`` keys.
    """

    def __init__(self) -> None:
        self._sums = dict.fromkeys(SALIENCY_METRICS, 0.0)
        self._counts = dict.fromkeys(SALIENCY_METRICS, 0)
        self._frames = 0

    def update(self, pred, saliency_gt, fixations=None) -> None:
        """``pred``, ``saliency_gt`` and ``fixations`` (binary, or None): maps ``[..., H, W]`` of equal shape."""
        for name, fn in SALIENCY_METRICS.items():
            gt = fixations if name in NEEDS_FIXATIONS else saliency_gt
            if gt is None:
                continue
            scores = fn(pred, gt, reduction="none")
            valid = ~np.isnan(scores)
            self._sums[name] += float(scores[valid].sum())
            self._counts[name] += int(valid.sum())
        self._frames += _maps(pred, "pred").shape[0]

    def compute(self) -> dict[str, float]:
        """``{"cc", "nss", "auc_judd", "sim", "kld", "frames"}``; NSS/AUC-Judd only when fixations were given,
        NaN for a metric with no map (an empty split has no score, and NaN fails any comparison)."""
        out = {n: self._sums[n] / self._counts[n] if self._counts[n] else float("nan") for n in SALIENCY_METRICS
               if self._counts[n] or n not in NEEDS_FIXATIONS}
        return {**out, "frames": float(self._frames)}
