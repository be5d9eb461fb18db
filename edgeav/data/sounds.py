"""Sound synthesis for the synthetic world: one characteristic sound per category, noise, and the mix.

Every synthesiser returns float32 PCM with unit RMS over the samples where the source is on, so that
the mixer can set levels and the signal-to-noise ratio explicitly.
"""
from __future__ import annotations

import functools

import numpy as np

from edgeav.data.categories import SoundRecipe

TWO_PI = 2.0 * np.pi
BANK_SECONDS = 8.2  # cached noise banks: long enough that windows of a 5 s clip rarely repeat


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x / rms if rms > 0 else x).astype(np.float32)


def _wrap(x: np.ndarray, period: float) -> np.ndarray:
    return x - np.floor(x * (1.0 / period)) * period  # np.mod is ten times slower


def _sine(cycles: np.ndarray, harmonic: int = 1) -> np.ndarray:
    """sin(2π·harmonic·cycles) for float32 ``cycles`` already wrapped to [0, 1)."""
    return np.sin(np.float32(TWO_PI * harmonic) * cycles)


def _cycles(freq: np.ndarray | float, n: int, sr: int, start: float) -> np.ndarray:
    """Instantaneous phase in cycles, wrapped to [0, 1) in float64 and returned as float32 (fast sines)."""
    if np.isscalar(freq):
        c = start + float(freq) / sr * np.arange(n, dtype=np.float64)
    else:
        c = start + np.cumsum(np.asarray(freq, dtype=np.float64)) / sr
    return (c - np.floor(c)).astype(np.float32)


def _periodic_envelope(t: np.ndarray, rate: float, offset: float, decay: float, floor: float) -> np.ndarray:
    """Notes or bursts at ``rate`` per second: fast attack, exponential decay to ``floor``."""
    since = _wrap(t + np.float32(offset), 1.0 / rate)
    attack = np.minimum(np.float32(1.0), since * np.float32(125.0))
    return np.float32(floor) + np.float32(1.0 - floor) * attack * np.exp(since * np.float32(-1.0 / decay))


@functools.lru_cache(maxsize=160)
def _noise_bank(sr: int, centre: float, octaves: float, slope: float) -> np.ndarray:
    """A fixed stretch of noise: band-passed around ``centre`` (if > 0) or coloured 1/f^slope; unit RMS.

    Computed once per process with its own fixed seed, so scenes stay deterministic by (seed, index).
    """
    n = int(BANK_SECONDS * sr)
    rng = np.random.default_rng([int(centre * 1000), int(octaves * 1000), int(slope * 1000), sr])
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    if centre > 0:
        dist = np.log2(np.maximum(f, 1.0) / centre) / octaves
        spec *= np.exp(-0.5 * dist * dist)
    else:
        spec /= np.maximum(f, 20.0) ** slope
    return _unit_rms(np.fft.irfft(spec, n=n))


def _window(bank: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    start = int(rng.integers(bank.size))
    sign = np.float32(rng.choice([-1.0, 1.0]))
    if start + n <= bank.size:
        return bank[start : start + n] * sign
    return np.resize(np.roll(bank, -start), n) * sign


def _harmonic(r: SoundRecipe, f0: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    vibrato = 1.0 + 0.006 * np.sin(TWO_PI * 5.5 * t + rng.uniform(0, TWO_PI))
    cycles = _cycles(f0 * vibrato, t.size, sr, rng.uniform())
    tilt = 0.6 + 1.2 * r.timbre
    top = max(1, min(8, int(7000.0 / f0)))
    x = sum(np.float32(h ** (-tilt)) * _sine(cycles, h) for h in range(1, top + 1))
    env = _periodic_envelope(t, r.rate, rng.uniform(0, 1), decay=0.12 + 0.4 * r.timbre, floor=0.12)
    return x * env


def _noise_band(r: SoundRecipe, fc: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    x = _window(_noise_bank(sr, r.frequency, 0.15 + 0.35 * r.timbre, 0.0), t.size, rng)
    return x * (1.0 + 0.35 * np.sin(TWO_PI * r.rate * t + np.float32(rng.uniform(0, TWO_PI))))


def _am_tone(r: SoundRecipe, fc: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    cycles = _cycles(fc, t.size, sr, rng.uniform())
    carrier = _sine(cycles) + 0.5 * r.timbre * _sine(cycles, 2) + 0.25 * _sine(cycles, 3)
    return carrier * (0.5 + 0.5 * np.sin(TWO_PI * r.rate * t + np.float32(rng.uniform(0, TWO_PI)))) ** 2


def _fm_siren(r: SoundRecipe, fc: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    depth = 0.08 + 0.22 * r.timbre
    freq = fc * (1.0 + depth * np.sin(TWO_PI * r.rate * t + np.float32(rng.uniform(0, TWO_PI))))
    cycles = _cycles(freq, t.size, sr, rng.uniform())
    return _sine(cycles) + 0.35 * _sine(cycles, 2)


def _chirp(r: SoundRecipe, fc: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    period = 1.0 / r.rate
    pos = _wrap(t + np.float32(rng.uniform(0, period)), period) * np.float32(r.rate)  # position in a sweep period
    duty = 0.55 + 0.3 * r.timbre
    within = np.minimum(pos / np.float32(duty), np.float32(1.0))
    span = 1.4 + 0.8 * r.timbre
    exponent = within - 0.5 if r.timbre > 0.5 else 0.5 - within  # up- or down-sweeps
    cycles = _cycles(fc * np.float32(span) ** exponent, t.size, sr, 0.0)
    window = np.where(pos < duty, np.sin(np.float32(np.pi) * within) ** 2, np.float32(0.0))
    return window * (_sine(cycles) + 0.2 * _sine(cycles, 2))


# (F1, F2, F3) of a few vowels, Hz; the category's timbre picks one.
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410), (660, 1720, 2410))


def _voice(r: SoundRecipe, f0: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A glottal source through three formants, by additive synthesis (harmonics weighted by the formants)."""
    intonation = 1.0 + 0.06 * np.sin(TWO_PI * 0.4 * t + np.float32(rng.uniform(0, TWO_PI)))
    cycles = _cycles(f0 * intonation, t.size, sr, rng.uniform())
    formants = VOWELS[int(r.timbre * len(VOWELS)) % len(VOWELS)]
    x = np.zeros(t.size, dtype=np.float32)
    for h in range(1, min(40, int(4000.0 / f0)) + 1):
        fh = h * f0
        gain = sum(1.0 / (1.0 + ((fh - fc) / bw) ** 2) for fc, bw in zip(formants, (90.0, 130.0, 200.0))) / h
        x += np.float32(gain) * _sine(cycles, h)
    syllables = 0.2 + 0.8 * np.maximum(0.0, np.sin(TWO_PI * r.rate * t + np.float32(rng.uniform(0, TWO_PI))))
    return x * syllables


def _impulses(r: SoundRecipe, fc: float, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    env = _periodic_envelope(t, r.rate, rng.uniform(0, 1), decay=0.01 + 0.05 * r.timbre, floor=0.0)
    return _window(_noise_bank(sr, r.frequency, 0.5, 0.0), t.size, rng) * env


SYNTHESISERS = {
    "harmonic": _harmonic,
    "noise_band": _noise_band,
    "am_tone": _am_tone,
    "fm_siren": _fm_siren,
    "chirp": _chirp,
    "voice": _voice,
    "impulses": _impulses,
}


def synthesize(recipe: SoundRecipe, num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One instance of a category's sound, unit RMS; tonal families get their frequency jittered by ~±2 %."""
    t = np.arange(num_samples, dtype=np.float32) / np.float32(sample_rate)
    freq = recipe.frequency * float(np.exp(rng.normal(0.0, 0.02)))
    return _unit_rms(SYNTHESISERS[recipe.family](recipe, freq, t, sample_rate, rng))


def ambient_noise(num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Background noise: pink-to-brown coloured noise plus, sometimes, a mains-like hum; unit RMS."""
    slope = float(rng.choice([0.5, 0.75, 1.0]))  # amplitude ~ 1/f^slope: pink to brown
    x = _window(_noise_bank(sample_rate, 0.0, 1.0, slope), num_samples, rng)
    if rng.random() < 0.3:
        t = np.arange(num_samples, dtype=np.float32) / np.float32(sample_rate)
        hum = float(rng.choice([50.0, 60.0]))
        x = x + 0.3 * (np.sin(np.float32(TWO_PI * hum) * t) + 0.5 * np.sin(np.float32(TWO_PI * 3 * hum) * t))
    return _unit_rms(x)


def frame_gate(on: np.ndarray, samples_per_frame: int, ramp: int) -> np.ndarray:
    """Per-frame on/off flags → a sample envelope; a source fades out over ``ramp`` samples into off-frames."""
    flags = np.repeat(on.astype(bool), samples_per_frame)
    gate = flags.astype(np.float32)
    if ramp > 1 and 0 < on.sum() < on.size:
        kernel = np.hanning(ramp)
        gate = np.maximum(np.convolve(gate, kernel / kernel.sum(), mode="same"), flags)
    return gate


def mix(
    sources: list[np.ndarray],
    gates: list[np.ndarray],
    noise: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sum gated sources (±4 dB each), add noise at ``snr_db`` over the sounding part, set a random level."""
    signal = np.zeros_like(noise)
    for src, gate in zip(sources, gates):
        signal += src * gate * np.float32(10 ** (rng.uniform(-4, 4) / 20))
    active = np.zeros(noise.size, dtype=bool)
    for gate in gates:
        active |= gate > 0.5
    sig_rms = float(np.sqrt(np.mean(signal[active] ** 2))) if active.any() else 1.0
    out = signal + noise * np.float32(sig_rms / 10 ** (snr_db / 20))
    rms = float(np.sqrt(np.mean(out * out)))
    level = 10 ** (rng.uniform(-26.0, -14.0) / 20)  # overall loudness, dBFS RMS
    out *= np.float32(level / max(rms, 1e-9))
    peak = float(np.abs(out).max())
    if peak > 0.98:
        out *= 0.98 / peak
    return out.astype(np.float32)
