"""WAV files: 16-bit PCM writing, reading any PCM/float WAV to mono float32, and the checks that keep bad
audio from reaching a model silently.

Readable: 8/16/24/32-bit integer and 32/64-bit float WAVs, any channel count (averaged) and any rate
(resampled). Refused with a one-line DataError naming the file and the fix: bytes that are no audio file,
NaN/inf samples, float samples outside [-1, 1] (audio that was never normalised, or scaled ×1000), and
integer audio mostly at full scale (clipped by a gain that was far too high).
"""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import Tensor

from edgeav.errors import DataError
from edgeav.files import one_line

# Float samples may overshoot [-1, 1] by resampling ringing; more than this is a scale error.
FLOAT_PEAK_LIMIT = 1.01
# A share of full-scale integer samples above this is a clipped recording, not loud sound.
CLIPPED_SHARE_LIMIT = 0.05
_FULL_SCALE = 32767.0 / 32768.0


@dataclass(frozen=True)
class WavHeader:
    """What a WAV's header says, read without decoding its samples."""

    sample_rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def save_wav(path: Path, pcm: Tensor | np.ndarray, sample_rate: int) -> None:
    """16-bit PCM mono wav."""
    x = np.asarray(pcm.cpu() if isinstance(pcm, Tensor) else pcm, dtype=np.float64).reshape(-1)
    data = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(data.tobytes())


def _require(path: Path) -> None:
    if not path.is_file():
        raise DataError(f"missing audio file: expected {path}; restore it (or remove its clip from the metadata CSV)")


def wav_header(path: Path) -> WavHeader:
    """Rate, channels and length of an audio file from its header; DataError naming the file when it is no audio."""
    path = Path(path)
    _require(path)
    try:
        import soundfile

        info = soundfile.info(str(path))
        return WavHeader(int(info.samplerate), int(info.channels), int(info.frames))
    except Exception as exc:  # soundfile.LibsndfileError, RuntimeError: not an audio file
        raise DataError(f"{path}: not a readable audio file ({one_line(exc)}); re-export it as a 16-bit PCM WAV") from None


def _decode(path: Path, start: float, duration: float | None) -> tuple[np.ndarray, int, bool]:
    """(samples [N, C], rate, integer-coded) of a segment; 16-bit files through ``wave`` (fast seek)."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            if width == 2:
                first = min(int(round(start * rate)), w.getnframes())
                count = w.getnframes() - first if duration is None else int(round(duration * rate))
                w.setpos(first)
                raw = w.readframes(count)
                x = np.frombuffer(raw[: len(raw) - len(raw) % (2 * channels)], dtype="<i2")
                return x.reshape(-1, channels).astype(np.float32) / 32768.0, rate, True
    except (wave.Error, EOFError):
        pass  # float, 24-bit or compressed: soundfile reads them
    import soundfile

    with soundfile.SoundFile(str(path)) as f:
        rate, integer = f.samplerate, not f.subtype.startswith(("FLOAT", "DOUBLE"))
        f.seek(min(int(round(start * rate)), f.frames))
        count = -1 if duration is None else int(round(duration * rate))
        x = f.read(count, dtype="float32", always_2d=True)
    return x, rate, integer


def load_wav(path: Path, sample_rate: int, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Mono float32 PCM in [-1, 1] at ``sample_rate`` (channels averaged, resampled if needed).

    ``start`` and ``duration`` (seconds) read a segment without decoding the rest of the file. A file that
    cannot be decoded or whose samples are not finite, out of range or clipped raises a DataError naming it.
    """
    path = Path(path)
    _require(path)
    try:
        x, rate, integer = _decode(path, start, duration)
    except Exception as exc:  # soundfile raises its own error types for bytes that are no audio
        raise DataError(f"{path}: not a readable audio file ({one_line(exc)}); re-export it as a 16-bit PCM WAV") from None
    check_samples(path, x, integer)
    x = x.mean(1) if x.shape[1] > 1 else x[:, 0]
    if rate != sample_rate:
        import librosa

        x = librosa.resample(np.ascontiguousarray(x, dtype=np.float32), orig_sr=rate, target_sr=sample_rate)
    return np.asarray(x, dtype=np.float32)


def check_samples(path: Path, x: np.ndarray, integer: bool) -> None:
    """DataError naming ``path`` when samples are NaN/inf, float samples leave [-1, 1], or integer samples are
    mostly at full scale."""
    if x.size == 0:
        return
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise DataError(f"{path}: {bad} audio samples are NaN or infinite; re-export the audio (finite samples in [-1, 1])")
    peak = float(np.abs(x).max())
    if not integer and peak > FLOAT_PEAK_LIMIT:
        raise DataError(f"{path}: float audio samples reach {peak:.4g}, outside [-1, 1] (not normalised); "
                        "rescale the audio to [-1, 1]")
    clipped = float((np.abs(x) >= _FULL_SCALE).mean())
    if integer and clipped > CLIPPED_SHARE_LIMIT:
        raise DataError(f"{path}: {100 * clipped:.0f}% of the audio samples are at full scale (clipped: amplified too far); "
                        "re-export it at a lower gain")
