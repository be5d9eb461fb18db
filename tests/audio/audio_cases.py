"""Test cases shared by the audio front-end tests: configs, tolerance and deterministic signals."""

from __future__ import annotations

import numpy as np

from edgeav.audio import PANNS_LOGMEL_16K, VGGISH_LOGMEL

SAMPLE_RATE = 16000
CONFIGS = {"vggish": VGGISH_LOGMEL, "panns16k": PANNS_LOGMEL_16K}
LOG_TOL = 1e-3  # max abs error in the log domain (nepers for VGGish, dB for PANNs)


def realistic_pcm(num_samples: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """Harmonic tone (220 Hz, 5 partials) + linear chirp 100→4000 Hz + white noise, float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_samples) / SAMPLE_RATE
    tone = sum(0.2 / h * np.sin(2 * np.pi * 220 * h * t + h) for h in range(1, 6))
    chirp = 0.1 * np.sin(2 * np.pi * (100 * t + (4000 - 100) / 2 * t**2))
    noise = 0.02 * rng.standard_normal(num_samples)
    return (tone + chirp + noise).astype(np.float32)


def near_silence_pcm(num_samples: int = SAMPLE_RATE, seed: int = 1) -> np.ndarray:
    """Noise at 1e-5 RMS: puts both log floors (amin 1e-10, offset 0.01) in play without reaching 0."""
    rng = np.random.default_rng(seed)
    return (1e-5 * rng.standard_normal(num_samples)).astype(np.float32)


SIGNALS = {"realistic": realistic_pcm, "near_silence": near_silence_pcm}
