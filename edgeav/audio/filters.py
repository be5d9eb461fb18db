"""Constant matrices of a log-mel front end, computed once in float64 numpy.

The in-graph front end (``frontend.py``) and the numpy reference (``reference.py``) both take their mel
matrix from here, so the reference checks the STFT, padding and log of the graph, while the tests check
the matrices against their own definitions.
"""

from __future__ import annotations

import librosa
import numpy as np

from edgeav.audio.config import LogMelConfig


def periodic_hann(length: int) -> np.ndarray:
    """The periodic ("DFT-even") Hann window: ``0.5 - 0.5·cos(2πn/length)``, n = 0..length-1.

    Equal to ``scipy.signal.get_window("hann", length)``, which librosa uses, and to torchvggish's
    ``periodic_hann``.
    """
    n = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / length)


def frame_padding(config: LogMelConfig) -> tuple[int, int]:
    """Samples to add (left, right) so that frame ``t`` is ``padded[t·hop : t·hop + win_length]``.

    The graph convolves only over the ``win_length`` non-zero taps of the window. With ``center=True``
    librosa pads ``n_fft // 2`` per side and places the window at offset ``(n_fft - win_length) // 2``
    inside each ``n_fft`` frame, so the padding the graph needs is ``n_fft // 2`` minus that offset on
    the left, and the matching remainder on the right; the frame count is then librosa's
    ``1 + (N + 2·(n_fft//2) - n_fft) // hop``. Where the window sits inside the FFT frame only changes
    the phase, never the magnitude.
    """
    if not config.center:
        return 0, 0
    offset_left = (config.n_fft - config.win_length) // 2
    offset_right = config.n_fft - config.win_length - offset_left
    half = config.n_fft // 2
    return half - offset_left, half - offset_right


def dft_basis(config: LogMelConfig) -> np.ndarray:
    """Conv1d weight ``[2·n_freqs, 1, win_length]`` float32: rows ``w·cos`` then ``-w·sin``.

    Convolving a frame with row k gives Re and Im of its ``n_fft``-point DFT bin k, the frame being
    windowed by the periodic Hann ``w`` and zero-padded to ``n_fft`` (the zero taps are left out).
    """
    n = np.arange(config.win_length, dtype=np.float64)
    k = np.arange(config.n_freqs, dtype=np.float64)
    phase = 2.0 * np.pi * np.outer(k, n) / config.n_fft
    window = periodic_hann(config.win_length)
    basis = np.concatenate([np.cos(phase) * window, -np.sin(phase) * window], axis=0)
    return basis[:, None, :].astype(np.float32)


def mel_matrix(config: LogMelConfig) -> np.ndarray:
    """Mel filterbank ``[n_mels, n_freqs]`` float64 for the config's scale, triangles and norm."""
    if config.mel_triangles == "mel":
        weights = htk_mel_matrix(config)
    else:
        weights = librosa.filters.mel(
            sr=config.sample_rate,
            n_fft=config.n_fft,
            n_mels=config.n_mels,
            fmin=config.fmin,
            fmax=config.fmax,
            htk=config.htk,
            norm=config.mel_norm,
            dtype=np.float64,
        )
    if config.zero_dc_mel:
        weights = weights.copy()
        weights[:, 0] = 0.0
    return weights


def htk_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale as torchvggish writes it: ``1127·ln(1 + f/700)``."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def htk_mel_matrix(config: LogMelConfig) -> np.ndarray:
    """Unnormalised triangles that are linear in HTK mel, edges evenly spaced in mel from fmin to fmax.

    This is torchvggish's ``spectrogram_to_mel_matrix`` (transposed to ``[n_mels, n_freqs]``), except
    that the DC row is left to ``zero_dc_mel``. It differs from ``librosa.filters.mel(htk=True)``, whose
    triangles are linear in Hz between the same edges.
    """
    bins_mel = htk_mel(np.linspace(0.0, config.sample_rate / 2.0, config.n_freqs))
    edges = np.linspace(htk_mel(config.fmin), htk_mel(config.fmax), config.n_mels + 2)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins_mel - lower) / (centre - lower)
    falling = (upper - bins_mel) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))
