"""In-graph log-mel: raw 16 kHz mono PCM → ``[B, 1, frames, n_mels]``, exportable to phones.

Only ops every target lowers are used (shared/design/backends.md §1b): slices, ``linear`` and ``cat``
for the reflect padding, ``constant_pad_nd``, a unit-height ``conv2d`` with a fixed ``[w·cos; -w·sin]``
DFT basis, mul/add (and ``sqrt`` for magnitude), ``linear`` for the mel matrix, ``clamp``/``log``. No
``torch.stft`` and no complex tensors: LiteRT and Core ML reject complex dtypes.

Measured max |x − reference_logmel| in the log domain, 1 s of tones + chirp + noise (seed 0), batch 1,
torch 2.13 / executorch 1.5.1 / litert-torch 0.10.0 + ai-edge-litert 2.3.0 / coremltools 9.0; scratch
probe in /tmp, not committed. PANNs numbers are in dB (4.34× the natural-log scale):

| config           | eager   | ExecuTorch XNNPACK (.pte)   | LiteRT (.tflite)        | Core ML                    |
|------------------|---------|-----------------------------|-------------------------|----------------------------|
| VGGISH_LOGMEL    | 1.1e-05 | 5.4e-06, 1 delegate, 0 left | 5.4e-06, 1 XNNPACK part | converts (not run on Linux) |
| PANNS_LOGMEL_16K | 1.3e-04 | 1.1e-04, 1 delegate, 0 left | 1.1e-04, 1 XNNPACK part | converts (not run on Linux) |

Reflect padding, four ways probed on PANNs (same numbers for all; they differ in delegation):
``torch.flip`` leaves 2 portable ``flip`` ops (2 XNNPACK subgraphs; LiteRT ``REVERSE_V2``);
``index_select`` with a constant index leaves 1 portable op (LiteRT ``GATHER_ND``); ``F.pad(reflect)``
decomposes to ``arange``/``abs``/``sub``/``index`` on portable kernels (LiteRT ``GATHER_ND``/``SELECT``);
slice × constant exchange matrix via ``F.linear`` (``ReflectPad``) is fully delegated on both.
All four convert to Core ML.

Core ML: convert with ``compute_precision=ct.precision.FLOAT32``. In FP16 ``amin = 1e-10`` rounds to 0,
so near-silence gives ``-inf`` dB (measured in eager fp16), and a loud PANNs power spectrum can pass
FP16's 65504; eager fp16 is off by 0.065 dB (PANNs) and 0.014 (VGGish) even on ordinary audio.
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
        basis = torch.from_numpy(dft_basis(config)).unsqueeze(2)  # [2·n_freqs, 1, 1, win_length]
        self.register_buffer("dft_basis", basis, persistent=False)
        mel = torch.from_numpy(mel_matrix(config)).to(torch.float32)
        self.register_buffer("mel_basis", mel, persistent=False)
        self.reflect = ReflectPad(self.pad_left, self.pad_right) if self._reflects() else None

    def num_frames(self, num_samples: int) -> int:
        """Frames ``forward`` returns for ``num_samples`` samples; raises InputShapeError if too few."""
        need = self._min_samples()
        if num_samples < need:
            raise InputShapeError(
                f"log-mel needs at least {need} samples ({need / self.config.sample_rate:.3f} s) "
                f"for {self.config.num_frames or 1} frame(s), got {num_samples}: pad or lengthen the audio"
            )
        padded = num_samples + self.pad_left + self.pad_right
        available = 1 + (padded - self.config.win_length) // self.config.hop_length
        return available if self.config.num_frames is None else self.config.num_frames

    def forward(self, pcm: Tensor) -> Tensor:
        """``pcm [B, N]`` float32 in [-1, 1] → log-mel ``[B, 1, num_frames(N), n_mels]``."""
        if pcm.dim() != 2:
            raise InputShapeError(f"log-mel expects PCM shaped [batch, samples], got {tuple(pcm.shape)}")
        frames = self.num_frames(pcm.shape[-1])
        signal = self._pad(pcm)
        span = (frames - 1) * self.config.hop_length + self.config.win_length
        if signal.shape[-1] > span:
            # Cut to exactly `frames` windows: no DFT work on frames that would be dropped. Skipped when
            # it is a no-op, because a no-op slice exports as a portable alias_copy that splits the
            # XNNPACK partition.
            signal = signal[:, :span]
        logmel = self._log(F.linear(self._spectrum(signal), self.mel_basis))
        # reshape, not unsqueeze: ExecuTorch's XNNPACK partitioner delegates view_copy but not unsqueeze_copy.
        return logmel.reshape(logmel.shape[0], 1, frames, self.config.n_mels)

    def _min_samples(self) -> int:
        frames = self.config.num_frames or 1
        span = (frames - 1) * self.config.hop_length + self.config.win_length
        need = max(span - self.pad_left - self.pad_right, 1)
        if self._reflects():
            need = max(need, self.pad_left + 1, self.pad_right + 1)  # a reflection cannot exceed the signal
        return need

    def _pad(self, pcm: Tensor) -> Tensor:
        if self.reflect is not None:
            return self.reflect(pcm)
        if self.pad_left == 0 and self.pad_right == 0:
            return pcm
        return F.pad(pcm, (self.pad_left, self.pad_right))

    def _reflects(self) -> bool:
        return self.config.pad_mode == "reflect" and (self.pad_left > 0 or self.pad_right > 0)

    def _spectrum(self, signal: Tensor) -> Tensor:
        """``[B, T']`` → ``|DFT|^magnitude_power`` as ``[B, frames, n_freqs]``."""
        # A unit-height conv2d rather than conv1d: ExecuTorch 1.5.1's XNNPACK Conv1dUnsqueezePass writes a
        # non-persistent-buffer weight into the state_dict and to_executorch() then fails verification
        # ("Non-persistent buffer dft_basis is in the state dict"); upstream fixed it in pytorch/executorch#21896.
        batch, length = signal.shape
        parts = F.conv2d(signal.reshape(batch, 1, 1, length), self.dft_basis, stride=(1, self.config.hop_length))
        parts = parts.reshape(batch, parts.shape[1], parts.shape[3]).transpose(1, 2)
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


class ReflectPad(nn.Module):
    """``F.pad(x, (left, right), mode="reflect")`` on the last axis of ``[B, N]``; the edge sample is not repeated.

    Each side is a slice times a constant exchange (anti-identity) matrix via ``F.linear``: the only
    variant the probe found fully delegated on both ExecuTorch XNNPACK and LiteRT (see the module
    docstring). It is exact, since every output is one input times 1 plus zeros.
    """

    def __init__(self, left: int, right: int) -> None:
        super().__init__()
        self.left, self.right = left, right
        size = max(left, right)
        exchange = torch.flip(torch.eye(size, dtype=torch.float32), dims=(0,))
        self.register_buffer("exchange", exchange, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """``[B, N]`` → ``[B, left + N + right]``; raises InputShapeError unless N > max(left, right)."""
        n = x.shape[-1]
        if n <= max(self.left, self.right):
            raise InputShapeError(
                f"reflect padding by {max(self.left, self.right)} needs more samples than that, got {n}"
            )
        pieces = [x]
        if self.left:
            pieces.insert(0, F.linear(x[..., 1 : self.left + 1], self._exchange(self.left)))
        if self.right:
            pieces.append(F.linear(x[..., n - 1 - self.right : n - 1], self._exchange(self.right)))
        return torch.cat(pieces, dim=-1)

    def _exchange(self, size: int) -> Tensor:
        # The top-right size×size block of a larger exchange matrix is again an exchange matrix.
        full = self.exchange.shape[0]
        return self.exchange if size == full else self.exchange[:size, full - size :]
