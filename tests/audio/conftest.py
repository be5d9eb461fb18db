"""Shared fixtures for the audio front-end tests."""

from __future__ import annotations

import numpy as np
import pytest
from audio_cases import SIGNALS


@pytest.fixture(params=sorted(SIGNALS))
def pcm(request: pytest.FixtureRequest) -> np.ndarray:
    """One second of each test signal."""
    return SIGNALS[request.param]()
