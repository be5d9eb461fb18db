"""Shared inputs of the metric tests: analytic maps, so reference values do not depend on any RNG."""
from __future__ import annotations

import numpy as np
import pytest


def analytic_saliency_case(h: int = 224, w: int = 384) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prediction, ground-truth saliency, binary fixation map), all [h, w] float64."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)

    def blob(cy: float, cx: float, sigma: float) -> np.ndarray:
        return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))

    pred = blob(0.40 * h, 0.30 * w, 0.10 * h) + 0.6 * blob(0.60 * h, 0.70 * w, 0.15 * h)
    pred += 0.05 * (1 + np.sin(xx / 7.0) * np.cos(yy / 11.0))
    gt = blob(0.45 * h, 0.35 * w, 0.08 * h) + 0.8 * blob(0.55 * h, 0.75 * w, 0.12 * h)
    fix = np.zeros((h, w))
    for k in range(20):
        fix[int(0.45 * h + 10 * np.sin(k)), int(0.35 * w + 12 * np.cos(1.7 * k))] = 1
    for k in range(15):
        fix[int(0.55 * h + 14 * np.cos(k)), int(0.75 * w + 9 * np.sin(2.3 * k))] = 1
    fix[10, 10] = fix[h - 20, w - 14] = fix[h // 2, w // 2] = 1
    return pred, gt, fix


@pytest.fixture
def saliency_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return analytic_saliency_case()

