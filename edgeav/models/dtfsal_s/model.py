"""DTFSal-S: a streaming audio-visual saliency student distilled from DTFSal, export-clean by construction.

One call = one frame. The graph is ``(frames [1,3,H,W], audio [1,S], context [1,(K−1)·C,H/32,W/32]) →
(saliency [1,1,H,W], next_context)``: no Conv3d, no deformable conv, no 5-D tensor, no shape computed at
run time (every size comes from the config).

* **Encoder**: a 2-D MobileNetV2 per frame with taps at strides 4/8/16/32 (:mod:`.encoder`).
* **Temporal context** without Conv3d: the stride-32 features, reduced to C channels by a 1×1 conv, of the
  previous K − 1 frames are the explicit ``context`` input (oldest first); this frame's are appended, a 1×1 conv
  fuses the K-frame stack, and ``next_context`` is the stack without its oldest frame (a static slice). An
  app starts from zeros and feeds ``next_context`` back. DTFSal's clip-length ablation rewards long context;
  K frames at stride 32 cost almost nothing.
* **Audio**: in-graph VGGish log-mel of the last S samples → 4-block CNN → vector → FiLM and per-pixel
  audio-visual correspondence gates on the
  stride-16 and stride-32 features (:mod:`.audio`).
* **Decoder**: 2-D top-down with separable convs, four side maps fused by a 1×1 conv; the deployed output is
  the sigmoid of the fused map (:mod:`edgeav.models.layers.saliency_decoder`).

Training (``forward_train``) takes K consecutive frames [B, K, 3, H, W] and runs the encoder on all of them;
the last frame's map is then exactly what the streaming graph gives after K calls from a zero state.
With history 1 the state is an empty [1, 0, h, w] tensor the graph passes through.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeav.errors import InputShapeError
from edgeav.models.dtfsal_s.audio import AudioBranch, AudioGate
from edgeav.models.dtfsal_s.configs import DTFSalSConfig
from edgeav.models.layers.saliency_decoder import SaliencyDecoder
from edgeav.models.dtfsal_s.encoder import MobileNetV2Taps
from edgeav.models.layers.conv import ConvBN
from edgeav.models.layers.io import ImageNetNormalize


@dataclass
class SaliencyOutput:
    """``logits`` [B,1,H,W] (the map before its sigmoid), ``side_logits`` 4 × [B,1,H,W] (strides 4..32),
    ``features`` the decoder inputs at strides 4..32 (for feature hints), ``next_context`` the context stack
    without its oldest frame."""

    logits: torch.Tensor
    side_logits: list[torch.Tensor]
    features: list[torch.Tensor]
    next_context: torch.Tensor


class DTFSalS(nn.Module):
    def __init__(self, cfg: DTFSalSConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.normalize = ImageNetNormalize()
        self.encoder = MobileNetV2Taps(cfg.stem_channels, cfg.setting)
        chans = list(self.encoder.channels)
        self.reduce = nn.Sequential(ConvBN(chans[3], cfg.context_channels, 1), nn.ReLU(inplace=True))
        self.temporal = nn.Sequential(ConvBN(cfg.history * cfg.context_channels, cfg.context_channels, 1), nn.ReLU(inplace=True))
        chans[3] = cfg.context_channels
        self.audio = AudioBranch(cfg.audio_channels, cfg.audio_dim)
        self.gates = nn.ModuleDict({str(l): AudioGate(cfg.audio_dim, chans[l]) for l in cfg.gated_levels})
        self.decoder = SaliencyDecoder(tuple(chans), cfg.decoder_channels, cfg.frame_size)
        self._context = cfg.context_channels

    def _decode(self, feats: list[torch.Tensor], stack: torch.Tensor, audio: torch.Tensor) -> SaliencyOutput:
        feats = [*feats[:3], self.temporal(stack)]
        vec = self.audio(audio)
        feats = [self.gates[str(l)](f, vec) if str(l) in self.gates else f for l, f in enumerate(feats)]
        logits, sides = self.decoder(feats)
        return SaliencyOutput(logits=logits, side_logits=sides, features=feats, next_context=stack[:, self._context :])

    def forward(self, frames: torch.Tensor, audio: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The deployable step: (saliency map in [0, 1], next state)."""
        out = self.forward_train(frames, audio, state)
        return torch.sigmoid(out.logits), out.next_context

    def forward_train(self, frames: torch.Tensor, audio: torch.Tensor, state: torch.Tensor | None = None) -> SaliencyOutput:
        """One streaming step (``frames`` [B, 3, H, W] with ``state``), or a training window: ``frames``
        [B, K, 3, H, W] (K = history, oldest first) without state, whose last frame's output equals the
        step after K − 1 earlier steps from a zero state. ``forward`` goes through here, so int8 capture
        records these training outputs too."""
        if state is not None:
            feats = self.encoder(self.normalize(frames))
            current = self.reduce(feats[3])
            stack = torch.cat([state, current], 1) if self.cfg.history > 1 else current
            return self._decode(feats, stack, audio)
        self._check(frames, audio)
        b, k = frames.shape[:2]
        feats = self.encoder(self.normalize(frames.flatten(0, 1)))
        current = self.reduce(feats[3])  # [B·K, C, h, w]
        stack = current.reshape(b, k * current.shape[1], *current.shape[-2:])  # frames oldest first on channels
        last = [f.reshape(b, k, *f.shape[1:])[:, -1] for f in feats[:3]]
        return self._decode(last + [feats[3]], stack, audio)

    def _check(self, frames: torch.Tensor, audio: torch.Tensor) -> None:
        cfg = self.cfg
        if frames.dim() != 5 or frames.shape[1] != cfg.history:
            raise InputShapeError(f"DTFSal-S trains on {cfg.history} consecutive frames [B, {cfg.history}, 3, H, W], got {tuple(frames.shape)}; build the samples with frames={cfg.history}")
        if tuple(frames.shape[-2:]) != cfg.frame_size:
            h, w = frames.shape[-2:]
            raise InputShapeError(f"frames are {h}x{w} but this DTFSal-S config takes {cfg.frame_size[0]}x{cfg.frame_size[1]}; resize them (SaliencyWindows size=) or use config paper@{h}x{w}")
        if audio.shape[-1] != cfg.audio_samples:
            raise InputShapeError(f"audio has {audio.shape[-1]} samples but DTFSal-S listens to {cfg.audio_samples} ({cfg.audio_samples / cfg.sample_rate:g} s at {cfg.sample_rate} Hz); pass the window that ends at the frame")

    def state_from_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """The state after streaming ``frames`` [B, K − 1, 3, H, W] (oldest first): what ``forward`` expects next."""
        b, k = frames.shape[:2]
        current = self.reduce(self.encoder(self.normalize(frames.flatten(0, 1)))[3])
        return current.reshape(b, k * current.shape[1], *current.shape[-2:])

    def initial_state(self, batch: int = 1) -> torch.Tensor:
        """The zero state an app starts a stream with."""
        shape = self.cfg.state_shape
        return torch.zeros(batch, *shape[1:])
