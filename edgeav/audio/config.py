"""Log-mel conventions as data: one frozen config per convention, no branches in model code.

Two conventions matter to edgeav (see shared/design/models.md §1.1, §1.2):

* VGGish (torchvggish ``mel_features``): periodic Hann 400 zero-padded to a 512-point FFT, hop 160, no
  centring, magnitude spectrum, HTK mel (1127·ln(1 + f/700)) with triangles that are linear *in mel*,
  unnormalised, DC bin excluded, ``ln(mel + 0.01)``, 96 frames per 0.96 s example.
* PANNs (torchlibrosa ``Spectrogram`` + ``LogmelFilterBank``): librosa-style centred STFT with reflect
  padding, power spectrum, ``librosa.filters.mel`` (Slaney scale and area normalisation), ``10·log10``.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeav.errors import UsageError

PAD_MODES = ("constant", "reflect")
LOG_KINDS = ("ln_offset", "db")
# "hz": triangles linear in Hz between mel-spaced edges (librosa.filters.mel);
# "mel": triangles linear in mel (HTK and torchvggish). For VGGish's 64 bands the weights differ by up
# to 4.4e-3, i.e. ~1e-2 in ln(mel + 0.01): VGGish needs "mel" to see the features it was trained on.
MEL_TRIANGLES = ("hz", "mel")


@dataclass(frozen=True, kw_only=True)
class LogMelConfig:
    """Every number that defines a log-mel front end.

    Framing: with ``center=False`` frame ``t`` covers samples ``[t·hop, t·hop + win_length)`` and the
    windowed frame is zero-padded at the end to ``n_fft`` (torchvggish / ``tf.signal.stft``). With
    ``center=True`` the signal is padded by ``n_fft // 2`` on both sides and the window sits in the
    middle of each ``n_fft`` frame (librosa). The two agree when ``win_length == n_fft``.
    """

    sample_rate: int = 16000
    n_fft: int
    win_length: int
    hop_length: int
    n_mels: int = 64
    fmin: float
    fmax: float
    htk: bool  # HTK mel scale (VGGish) vs Slaney (librosa default, PANNs)
    magnitude_power: float  # 1.0 magnitude (VGGish), 2.0 power (PANNs)
    center: bool
    pad_mode: str  # "constant" | "reflect"; used only when center=True
    log: str  # "ln_offset": ln(x + log_offset) | "db": 10·log10(max(x, amin)), ref 1, no top_db
    log_offset: float = 0.01
    amin: float = 1e-10
    num_frames: int | None  # keep exactly this many frames (the first ones); None keeps all
    zero_dc_mel: bool  # zero the mel weights of the DC bin (HTK / torchvggish)
    mel_triangles: str = "hz"  # see MEL_TRIANGLES
    mel_norm: str | None = "slaney"  # librosa.filters.mel ``norm``; "mel" triangles require None

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise UsageError(f"LogMelConfig: {problem}")

    @property
    def n_freqs(self) -> int:
        """Number of one-sided DFT bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1


def _problems(c: LogMelConfig) -> list[str]:
    """Every inconsistency in ``c``, each phrased with its fix."""
    problems = []
    if not 0 < c.win_length <= c.n_fft:
        problems.append(f"win_length {c.win_length} must be in (0, n_fft={c.n_fft}]")
    if c.hop_length <= 0:
        problems.append(f"hop_length {c.hop_length} must be positive")
    if not 0 <= c.fmin < c.fmax <= c.sample_rate / 2:
        problems.append(f"need 0 <= fmin < fmax <= sample_rate/2, got fmin={c.fmin} fmax={c.fmax}")
    if c.magnitude_power <= 0:
        problems.append(f"magnitude_power {c.magnitude_power} must be positive (1 magnitude, 2 power)")
    if c.pad_mode not in PAD_MODES:
        problems.append(f"pad_mode {c.pad_mode!r} must be one of {PAD_MODES}")
    if c.log not in LOG_KINDS:
        problems.append(f"log {c.log!r} must be one of {LOG_KINDS}")
    if c.log == "ln_offset" and c.log_offset <= 0:
        problems.append(f"log_offset {c.log_offset} must be positive for log='ln_offset'")
    if c.log == "db" and c.amin <= 0:
        problems.append(f"amin {c.amin} must be positive for log='db'")
    if c.num_frames is not None and c.num_frames <= 0:
        problems.append(f"num_frames {c.num_frames} must be positive or None")
    if c.mel_triangles not in MEL_TRIANGLES:
        problems.append(f"mel_triangles {c.mel_triangles!r} must be one of {MEL_TRIANGLES}")
    if c.mel_triangles == "mel" and (not c.htk or c.mel_norm is not None):
        problems.append("mel_triangles='mel' is the HTK/torchvggish filterbank: set htk=True, mel_norm=None")
    return problems


VGGISH_LOGMEL = LogMelConfig(
    n_fft=512,
    win_length=400,
    hop_length=160,
    fmin=125.0,
    fmax=7500.0,
    htk=True,
    magnitude_power=1.0,
    center=False,
    pad_mode="constant",
    log="ln_offset",
    log_offset=0.01,
    num_frames=96,
    zero_dc_mel=True,
    mel_triangles="mel",
    mel_norm=None,
)
"""torchvggish ``vggish_input``: the first 0.96 s example (96×64); it needs at least 15 600 samples."""

PANNS_LOGMEL_16K = LogMelConfig(
    n_fft=512,
    win_length=512,
    hop_length=160,
    fmin=50.0,
    fmax=8000.0,
    htk=False,
    magnitude_power=2.0,
    center=True,
    pad_mode="reflect",
    log="db",
    amin=1e-10,
    num_frames=None,
    zero_dc_mel=False,
    mel_triangles="hz",
    mel_norm="slaney",
)
"""PANNs' torchlibrosa front end re-parameterised for 16 kHz audio (the released MobileNetV2 is 32 kHz)."""
