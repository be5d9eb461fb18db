"""Float64 numpy/librosa log-mel: the yardstick for ``LogMelFrontEnd`` in tests and documentation."""

from __future__ import annotations

import librosa
import numpy as np

from edgeav.audio.config import LogMelConfig
from edgeav.audio.filters import mel_matrix
from edgeav.errors import InputShapeError


def reference_logmel(pcm: np.ndarray, config: LogMelConfig) -> np.ndarray:
    """Log-mel ``[frames, n_mels]`` (float64) of mono ``pcm [N]``, computed with ``librosa.stft``.

    Same framing as the front end (see ``LogMelConfig``): ``center=True`` is librosa's own centring;
    ``center=False`` zero-pads the signal by the window's offset inside the ``n_fft`` frame, so that
    librosa's centred window starts at ``t·hop`` as in torchvggish. The mel matrix is
    ``filters.mel_matrix`` (``librosa.filters.mel`` for ``mel_triangles="hz"``).
    """
    y = np.asarray(pcm, dtype=np.float64)
    if y.ndim != 1:
        raise InputShapeError(f"reference_logmel expects mono PCM shaped [samples], got {y.shape}")
    spectrum = np.abs(_stft(y, config)) ** config.magnitude_power  # [n_freqs, frames]
    logmel = _log(mel_matrix(config) @ spectrum, config).T
    if config.num_frames is not None:
        if logmel.shape[0] < config.num_frames:
            raise InputShapeError(
                f"{len(y)} samples give {logmel.shape[0]} frames, fewer than num_frames={config.num_frames}"
            )
        logmel = logmel[: config.num_frames]
    return logmel


def _stft(y: np.ndarray, config: LogMelConfig) -> np.ndarray:
    if not config.center:
        offset = (config.n_fft - config.win_length) // 2
        y = np.pad(y, (offset, config.n_fft - config.win_length - offset))
    return librosa.stft(
        y,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window="hann",  # scipy periodic Hann, independent of filters.periodic_hann
        center=config.center,
        pad_mode=config.pad_mode,
    )


def _log(mel: np.ndarray, config: LogMelConfig) -> np.ndarray:
    if config.log == "ln_offset":
        return np.log(mel + config.log_offset)
    # librosa.power_to_db with ref=1.0, top_db=None, i.e. torchlibrosa's LogmelFilterBank defaults.
    return librosa.power_to_db(mel, ref=1.0, amin=config.amin, top_db=None)
