"""VGGish-style log-mel examples as written into AVSBench's pickles."""
from __future__ import annotations

import numpy as np

from edgeav.data.logmel import FMAX, FMIN, hz_to_mel, mel_matrix, vggish_examples


def test_five_seconds_give_five_examples_and_short_clips_are_padded():
    rng = np.random.default_rng(0)
    assert vggish_examples(rng.standard_normal(80000) * 0.1).shape == (5, 1, 96, 64)
    padded = vggish_examples(rng.standard_normal(3 * 16000) * 0.1, num_examples=5)
    assert padded.shape == (5, 1, 96, 64)
    assert np.array_equal(padded[3].numpy(), padded[2].numpy()) and np.array_equal(padded[4].numpy(), padded[2].numpy())


def test_mel_bands_are_ordered_triangles_without_dc():
    m = mel_matrix()
    assert m.shape == (257, 64) and (m[0] == 0).all() and (m >= 0).all()
    peaks = m.argmax(0)
    assert (np.diff(peaks) >= 0).all()
    assert m[:, 0].nonzero()[0].min() * 16000 / 512 >= FMIN - 16000 / 512
    assert m[:, -1].nonzero()[0].max() * 16000 / 512 <= FMAX + 16000 / 512


def test_a_tone_lands_in_its_mel_band():
    t = np.arange(16000) / 16000
    frames = vggish_examples(0.5 * np.sin(2 * np.pi * 1000 * t))[0, 0].numpy()
    edges = np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), 66)
    expected = int(np.argmin(np.abs(edges[1:-1] - hz_to_mel(1000))))
    assert abs(int(frames.mean(0).argmax()) - expected) <= 1
