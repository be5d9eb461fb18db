"""DTFSal (Hooshanfar et al., "DTFSal: Audio-Visual Dynamic Token Fusion for Video Saliency Prediction").

No code was released; this follows the paper (shared/papers/000) and its ancestors (shared/design/models.md
§1.1, §1.6, §5): MViTv2-S (mmaction2 layout), TMFI-Net's feature enhancement and decoder, DiffSal's audio path.

Data flow for one clip::

    frames [B,32,3,224,384] in [0,1] ─ K400 normalisation ─ MViTv2-S ─► F^E_1..4  96..768 ch, T/2, strides 4..32
    F^E ─ feature enhancement (eq. 3) ─► F^R_1..4  192 ch, T/4
    F^R_1..3 ─ LTEB (eq. 4-8);  F^R_4 ─ DLTFB (eq. 9-11)
    PCM [B,24560] ─ log-mel ─ 9 slices ─ VGGish trunk ─ temporal Transformer ─► audio [B,256,9,7,12]
    scales 2, 3 ─ AMFB(visual, audio) (eq. 12-14)
    4 decoder branches ─► s1..s4 [B,1,224,384];  S = sigmoid(Conv3d([s1..s4])) (eq. 15)

Output: ``S`` is a sigmoid map in (0, 1) for the clip's last frame (TMFI-Net's target frame), as in TMFI-Net.
The KL − CC loss normalises it to a distribution itself (``edgeav.models.saliency_losses``); apps that need a
density divide by its sum. Choices where the paper is silent are documented in ``enhance.py`` (tokens, shift),
``fusion.py`` (AMFB scales, audio injection) and ``audio.py`` (temporal enhancement).

Export (the teacher's is optional; dtfsal-s is the deployable model), probed on the ``small`` config:
ONNX (dynamo, opset 18) converts; ExecuTorch writes a .pte; LiteRT and Core ML cannot take MViT's decomposed
relative-position bias (``mvit.MultiScaleAttention._rel_pos_bias``): LiteRT fails to legalize its rank-8
broadcast ``tfl.add``, Core ML refuses its rank-6 reshape (Core ML tensors are rank ≤ 5).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeav.errors import InputShapeError
from edgeav.models.dtfsal.audio import AudioEncoder
from edgeav.models.dtfsal.configs import DTFSalConfig
from edgeav.models.dtfsal.decoder import MultiDecoder
from edgeav.models.dtfsal.enhance import DLTFB, LTEB, FeatureEnhancement
from edgeav.models.dtfsal.fusion import AMFB
from edgeav.models.dtfsal.mvit import MViT


@dataclass
class DTFSalOutput:
    """What ``forward_train`` returns: the final map, the side maps s1..s4 (all ``[B, 1, H, W]`` in (0, 1))
    and the four decoder inputs ``[B, 192, T/4, H/s, W/s]`` (for feature distillation)."""

    saliency: torch.Tensor
    side_maps: list[torch.Tensor]
    features: list[torch.Tensor]


class ClipNormalize(nn.Module):
    """``[B, T, 3, H, W]`` RGB in [0, 1] → ``[B, 3, T, H, W]`` normalised for the K400-pretrained encoder."""

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return ((frames - self.mean) / self.std).transpose(1, 2)


class DTFSal(nn.Module):
    def __init__(self, cfg: DTFSalConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.normalize = ClipNormalize(cfg.pixel_mean, cfg.pixel_std)
        self.visual = MViT(cfg.visual, (cfg.frames, cfg.height, cfg.width))
        self.audio = AudioEncoder(cfg)
        self.enhance = FeatureEnhancement(cfg.visual.stage_dims, cfg.dim)
        self.tokens = nn.ModuleList([LTEB(cfg), LTEB(cfg), LTEB(cfg), DLTFB(cfg)])
        self.fusion = nn.ModuleDict({str(s): AMFB(cfg) for s in cfg.amfb_scales})
        self.decoder = MultiDecoder(cfg)

    def _check(self, frames: torch.Tensor, pcm: torch.Tensor) -> None:
        c = self.cfg
        want = (c.frames, 3, c.height, c.width)
        if frames.dim() != 5 or tuple(frames.shape[1:]) != want:
            raise InputShapeError(
                f"DTFSal frames must be [batch, {', '.join(map(str, want))}] (T, RGB, H, W), got {tuple(frames.shape)}: "
                f"take {c.frames} frames resized to {c.height}×{c.width}, or pick the config for your clip (e.g. paper@8x128x224)"
            )
        if pcm.shape[0] != frames.shape[0]:
            raise InputShapeError(f"DTFSal got {frames.shape[0]} clips but {pcm.shape[0]} audio tracks: pass one per clip")

    def forward_train(self, frames: torch.Tensor, pcm: torch.Tensor) -> DTFSalOutput:
        self._check(frames, pcm)
        feats = self.enhance(self.visual(self.normalize(frames)))
        feats = [block(f) for block, f in zip(self.tokens, feats)]
        audio = self.audio(pcm)
        for scale, fuse in self.fusion.items():
            i = int(scale) - 1
            feats[i] = fuse(feats[i], audio)
        saliency, sides = self.decoder(feats)
        return DTFSalOutput(saliency, sides, feats)

    def forward(self, frames: torch.Tensor, pcm: torch.Tensor) -> torch.Tensor:
        """The deployable graph: the saliency map ``[B, 1, H, W]`` in (0, 1)."""
        return self.forward_train(frames, pcm).saliency
