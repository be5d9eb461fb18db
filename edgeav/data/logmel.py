"""VGGish log-mel examples, as AVSBench stores them in its ``audio_log_mel/*.pkl`` files.

The published VGGish front end: 16 kHz mono; 25 ms periodic-Hann frames every 10 ms; a 512-point FFT
magnitude; 64 mel bands between 125 and 7500 Hz, triangular in HTK mel (1127·ln(1 + f/700)) with the DC
bin excluded; log(mel + 0.01); non-overlapping examples of 96 frames (0.96 s). AVSBench pads a clip with
fewer than T examples by repeating the last one. Used here to write the pickled tensors of the official
layout; the models compute their own log-mel in the graph.
"""
from __future__ import annotations

import functools

import numpy as np
import torch

SAMPLE_RATE = 16000
WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
FFT = 512
NUM_BANDS = 64
FMIN, FMAX = 125.0, 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


@functools.lru_cache(maxsize=4)
def mel_matrix(sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """[FFT/2+1, 64] weights mapping a magnitude spectrum to mel bands."""
    bins_mel = hz_to_mel(np.linspace(0.0, sample_rate / 2, FFT // 2 + 1))
    edges = np.linspace(hz_to_mel(FMIN), hz_to_mel(FMAX), NUM_BANDS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel[:, None] - lower) / (centre - lower)
    falling = (upper - bins_mel[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0
    return weights


def log_mel_frames(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """[num_frames, 64] log-mel of a mono waveform at 16 kHz (float in [-1, 1])."""
    x = np.asarray(pcm, dtype=np.float64).reshape(-1)
    if x.size < WINDOW:
        x = np.pad(x, (0, WINDOW - x.size))
    n = 1 + (x.size - WINDOW) // HOP
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(n)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)  # periodic Hann
    spectrum = np.abs(np.fft.rfft(x[idx] * window, n=FFT))
    return np.log(spectrum @ mel_matrix(sample_rate) + LOG_OFFSET)


def vggish_examples(pcm: np.ndarray, num_examples: int | None = None) -> torch.Tensor:
    """[N, 1, 96, 64] float32 examples of a 16 kHz waveform; padded to ``num_examples`` by repeating the last."""
    frames = log_mel_frames(pcm)
    n = 1 + (frames.shape[0] - EXAMPLE_FRAMES) // EXAMPLE_FRAMES if frames.shape[0] >= EXAMPLE_FRAMES else 0
    if n == 0:  # shorter than one example: pad with the quietest value
        frames = np.pad(frames, ((0, EXAMPLE_FRAMES - frames.shape[0]), (0, 0)), constant_values=np.log(LOG_OFFSET))
        n = 1
    examples = frames[: n * EXAMPLE_FRAMES].reshape(n, 1, EXAMPLE_FRAMES, NUM_BANDS)
    if num_examples is not None:
        if n < num_examples:
            examples = np.concatenate([examples, np.repeat(examples[-1:], num_examples - n, axis=0)])
        examples = examples[:num_examples]
    return torch.from_numpy(examples.astype(np.float32))
