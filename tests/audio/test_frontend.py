"""LogMelFrontEnd against librosa and against VGGish's own definition (eager PyTorch only; fast)."""

from __future__ import annotations

import dataclasses

import librosa
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from audio_cases import CONFIGS, LOG_TOL, SAMPLE_RATE, realistic_pcm

from edgeav.audio import (
    PANNS_LOGMEL_16K,
    VGGISH_LOGMEL,
    LogMelConfig,
    LogMelFrontEnd,
    reference_logmel,
)
from edgeav.audio.filters import mel_matrix
from edgeav.audio.frontend import ReflectPad
from edgeav.errors import InputShapeError, UsageError


def run_frontend(pcm: np.ndarray, config: LogMelConfig) -> np.ndarray:
    """Eager front end on one mono signal → ``[frames, n_mels]``."""
    with torch.no_grad():
        out = LogMelFrontEnd(config)(torch.from_numpy(pcm).unsqueeze(0))
    assert out.shape[:2] == (1, 1)
    return out[0, 0].numpy()


def log_floor(config: LogMelConfig) -> float:
    return float(np.log(config.log_offset) if config.log == "ln_offset" else 10 * np.log10(config.amin))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_matches_librosa_reference(name: str, pcm: np.ndarray) -> None:
    config = CONFIGS[name]
    np.testing.assert_allclose(run_frontend(pcm, config), reference_logmel(pcm, config), rtol=0, atol=LOG_TOL)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_digital_silence_sits_on_the_log_floor(name: str) -> None:
    config = CONFIGS[name]
    out = run_frontend(np.zeros(SAMPLE_RATE, dtype=np.float32), config)
    np.testing.assert_allclose(out, log_floor(config), rtol=0, atol=1e-5)


def torchvggish_logmel(pcm: np.ndarray) -> np.ndarray:
    """VGGish's first 96×64 example, written from torchvggish's definition (mel_features.py, vggish_input.py).

    Deliberately independent of edgeav.audio.filters: frames without padding, periodic Hann 400, 512-pt
    rfft magnitude, HTK mel triangles linear in mel (1127·ln(1 + f/700)) 125–7500 Hz with the DC row
    zeroed, ln(x + 0.01).
    """
    window_length, hop, fft_length, n_mels = 400, 160, 512, 64
    num_frames = 1 + (len(pcm) - window_length) // hop
    frames = pcm[np.arange(window_length)[None, :] + hop * np.arange(num_frames)[:, None]].astype(np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi / window_length * np.arange(window_length))
    spectrogram = np.abs(np.fft.rfft(frames * window, fft_length))

    def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)

    bins_mel = hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, fft_length // 2 + 1))
    edges = np.linspace(hz_to_mel(125.0), hz_to_mel(7500.0), n_mels + 2)
    weights = np.empty((fft_length // 2 + 1, n_mels))
    for i in range(n_mels):
        lo, mid, hi = edges[i : i + 3]
        weights[:, i] = np.maximum(0.0, np.minimum((bins_mel - lo) / (mid - lo), (hi - bins_mel) / (hi - mid)))
    weights[0, :] = 0.0
    return np.log(spectrogram @ weights + 0.01)[:96]


def test_vggish_matches_its_own_definition(pcm: np.ndarray) -> None:
    np.testing.assert_allclose(run_frontend(pcm, VGGISH_LOGMEL), torchvggish_logmel(pcm), rtol=0, atol=LOG_TOL)


def test_librosa_htk_filterbank_is_not_vggish_filterbank() -> None:
    # Why VGGISH_LOGMEL uses mel_triangles="mel": librosa's htk=True triangles are linear in Hz, and the
    # resulting log-mel misses torchvggish's by far more than the tolerance.
    librosa_htk = dataclasses.replace(VGGISH_LOGMEL, mel_triangles="hz")
    pcm = realistic_pcm()
    gap = np.abs(reference_logmel(pcm, librosa_htk) - torchvggish_logmel(pcm)).max()
    assert gap > 10 * LOG_TOL


def test_panns_filterbank_is_librosa_default() -> None:
    expected = librosa.filters.mel(sr=16000, n_fft=512, n_mels=64, fmin=50.0, fmax=8000.0)
    np.testing.assert_allclose(mel_matrix(PANNS_LOGMEL_16K), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    ("name", "num_samples", "frames"),
    [("vggish", 16000, 96), ("panns16k", 16000, 101), ("panns16k", 16159, 101), ("panns16k", 16160, 102)],
)
def test_frame_count(name: str, num_samples: int, frames: int) -> None:
    frontend = LogMelFrontEnd(CONFIGS[name])
    out = frontend(torch.zeros(2, num_samples))
    assert frontend.num_frames(num_samples) == frames
    assert tuple(out.shape) == (2, 1, frames, 64)


def test_vggish_without_crop_keeps_every_full_window() -> None:
    frontend = LogMelFrontEnd(dataclasses.replace(VGGISH_LOGMEL, num_frames=None))
    assert frontend.num_frames(16000) == 1 + (16000 - 400) // 160  # 98, as torchvggish frames it


def test_batch_items_are_independent() -> None:
    a, b = realistic_pcm(seed=0), realistic_pcm(seed=1)
    with torch.no_grad():
        batched = LogMelFrontEnd(PANNS_LOGMEL_16K)(torch.from_numpy(np.stack([a, b])))
    # Not bit-exact: the batched conv takes another summation order (measured 5e-4 dB on weak bins).
    np.testing.assert_allclose(batched[1, 0].numpy(), run_frontend(b, PANNS_LOGMEL_16K), rtol=0, atol=LOG_TOL)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_too_short_input_raises(name: str) -> None:
    frontend = LogMelFrontEnd(CONFIGS[name])
    too_short = 15000 if name == "vggish" else 200  # VGGish needs 15 600 samples; reflect needs > 256
    with pytest.raises(InputShapeError):
        frontend(torch.zeros(1, too_short))


def test_rejects_pcm_that_is_not_batch_by_samples() -> None:
    with pytest.raises(InputShapeError):
        LogMelFrontEnd(PANNS_LOGMEL_16K)(torch.zeros(1, 1, 16000))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_constant_buffers_stay_out_of_the_state_dict(name: str) -> None:
    frontend = LogMelFrontEnd(CONFIGS[name])
    assert {"dft_basis", "mel_basis"} <= {n for n, _ in frontend.named_buffers()}
    assert frontend.state_dict() == {}
    frontend.load_state_dict({}, strict=True)


@pytest.mark.parametrize(("left", "right"), [(256, 256), (200, 200), (3, 0), (0, 5)])
def test_reflect_pad_equals_torch_reflect_pad(left: int, right: int) -> None:
    x = torch.randn(2, 1000)
    expected = F.pad(x.unsqueeze(1), (left, right), mode="reflect").squeeze(1)
    torch.testing.assert_close(ReflectPad(left, right)(x), expected, rtol=0, atol=0)


def test_centred_window_shorter_than_fft_matches_librosa() -> None:
    # Exercises the padding arithmetic when the window sits inside a larger FFT frame under centring.
    config = dataclasses.replace(PANNS_LOGMEL_16K, win_length=400)
    pcm = realistic_pcm()
    np.testing.assert_allclose(run_frontend(pcm, config), reference_logmel(pcm, config), rtol=0, atol=LOG_TOL)


@pytest.mark.parametrize(
    "change",
    [{"pad_mode": "symmetric"}, {"log": "log10"}, {"win_length": 1024}, {"fmax": 9000.0}, {"mel_triangles": "mel"}],
)
def test_inconsistent_config_is_rejected(change: dict) -> None:
    with pytest.raises(UsageError):
        dataclasses.replace(PANNS_LOGMEL_16K, **change)
