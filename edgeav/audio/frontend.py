"""In-graph log-mel: raw 16 kHz mono PCM → ``[B, 1, frames, n_mels]``, exportable to phones.

Only ops every target lowers are used (shared/design/backends.md §1b): slices/``flip``/``cat`` for the
reflect padding, ``constant_pad_nd``, ``conv1d`` with a fixed ``[w·cos; -w·sin]`` DFT basis, mul/add
(and ``sqrt`` for magnitude), ``linear`` for the mel matrix, ``clamp``/``log``. No ``torch.stft`` and no
complex tensors: LiteRT and Core ML reject complex dtypes.

Measured max |x − reference_logmel| in the log domain (1 s, tones + noise + chirp, seed 0; "db" is in
dB, so 4.3× the natural-log scale; ``/tmp`` probe, not committed):

| config           | eager   | ExecuTorch XNNPACK | LiteRT  | Core ML (convert only) |
|------------------|---------|--------------------|---------|------------------------|
| VGGISH_LOGMEL    | FILLME  | FILLME             | FILLME  | FILLME                 |
| PANNS_LOGMEL_16K | FILLME  | FILLME             | FILLME  | FILLME                 |
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgeav.audio.config import LogMelConfig
from edgeav.audio.filters import dft_basis, frame_padding, mel_matrix
from edgeav.errors import InputShapeError

_DB_PER_NEPER = 10.0 / math.log(10.0)  # 10·log10(x) = ln(x)·10/ln(10); aten.log10 is less portable


class LogMelFrontEnd(nn.Module):
    """Log-mel spectrogram as a frozen, exportable module.

    The DFT basis and mel matrix are non-persistent buffers: they are rebuilt from the config, so
    checkpoints never carry (or disagree about) them.
    """

    def __init__(self, config: LogMelConfig) -> None:
        super().__init__()
        self.config = config
        self.pad_left, self.pad_right = frame_padding(config)
        self.register_buffer("dft_basis", torch.from_numpy(dft_basis(config)), persistent=False)
        mel = torch.from_numpy(mel_matrix(config)).to(torch.float32)
        self.register_buffer("mel_basis", mel, persistent=False)

    def num_frames(self, num_samples: int) -> int:
        """Frames ``forward`` returns for ``num_samples`` samples; raises InputShapeError if too few."""
        padded = num_samples + self.pad_left + self.pad_right
        available = 1 + (padded - self.config.win_length) // self.config.hop_length
        wanted = self.config.num_frames
        if padded < self.config.win_length or (wanted is not None and available < wanted):
            need = self._min_samples()
            raise InputShapeError(
                f"log-mel needs at least {need} samples ({need / self.config.sample_rate:.3f} s) "
                f"for {wanted or 1} frame(s), got {num_samples}: pad or lengthen the audio"
            )
        return available if wanted is None else wanted

    def forward(self, pcm: Tensor) -> Tensor:
        """``pcm [B, N]`` float32 in [-1, 1] → log-mel ``[B, 1, num_frames(N), n_mels]``."""
        if pcm.dim() != 2:
            raise InputShapeError(f"log-mel expects PCM shaped [batch, samples], got {tuple(pcm.shape)}")
        frames = self.num_frames(pcm.shape[-1])
        signal = self._pad(pcm)
        # Cut the signal to exactly `frames` windows so no DFT work is spent on frames that are dropped.
        signal = signal[:, : (frames - 1) * self.config.hop_length + self.config.win_length]
        return self._log(F.linear(self._spectrum(signal), self.mel_basis)).unsqueeze(1)

    def _min_samples(self) -> int:
        frames = self.config.num_frames or 1
        span = (frames - 1) * self.config.hop_length + self.config.win_length
        need = span - self.pad_left - self.pad_right
        if self.config.center and self.config.pad_mode == "reflect":
            need = max(need, self.pad_left + 1, self.pad_right + 1)  # reflection cannot exceed the signal
        return need

    def _pad(self, pcm: Tensor) -> Tensor:
        if self.pad_left == 0 and self.pad_right == 0:
            return pcm
        if self.config.pad_mode == "reflect":
            return reflect_pad(pcm, self.pad_left, self.pad_right)
        return F.pad(pcm, (self.pad_left, self.pad_right))

    def _spectrum(self, signal: Tensor) -> Tensor:
        """``[B, T']`` → ``|DFT|^magnitude_power`` as ``[B, frames, n_freqs]``."""
        parts = F.conv1d(signal.unsqueeze(1), self.dft_basis, stride=self.config.hop_length)
        parts = parts.transpose(1, 2)
        n = self.config.n_freqs
        real, imag = parts[..., :n], parts[..., n:]
        power = real * real + imag * imag
        if self.config.magnitude_power == 2.0:
            return power
        if self.config.magnitude_power == 1.0:
            return torch.sqrt(power)
        return torch.pow(power, self.config.magnitude_power / 2.0)

    def _log(self, mel: Tensor) -> Tensor:
        if self.config.log == "ln_offset":
            return torch.log(mel + self.config.log_offset)
        return torch.log(torch.clamp(mel, min=self.config.amin)) * _DB_PER_NEPER


def reflect_pad(x: Tensor, left: int, right: int) -> Tensor:
    """``F.pad(x, (left, right), mode="reflect")`` on the last axis, edge sample not repeated.

    Written as slices + ``flip`` + ``cat`` because these lower everywhere (see the module docstring),
    whereas ``reflection_pad1d`` has no XNNPACK or LiteRT builtin mapping.
    """
    n = x.shape[-1]
    if n <= max(left, right):
        raise InputShapeError(f"reflect padding by {max(left, right)} needs more than that many samples, got {n}")
    pieces = []
    if left:
        pieces.append(torch.flip(x[..., 1 : left + 1], dims=(-1,)))
    pieces.append(x)
    if right:
        pieces.append(torch.flip(x[..., n - 1 - right : n - 1], dims=(-1,)))
    return torch.cat(pieces, dim=-1)
