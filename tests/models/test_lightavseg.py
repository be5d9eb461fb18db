"""LightAVSeg: shapes, paper-size budget, audio wiring, upstream checkpoint layouts, losses."""
from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from edgeav.modelcard import example_inputs, measure_cost
from edgeav.models.backbones.panns_mobilenetv2 import (
    PannsMobileNetV2,
    PannsMobileNetV2Config,
    panns_state_dict_from_upstream,
)
from edgeav.models.backbones.seaformer import (
    SEAFORMER_L,
    SeaFormer,
    _linear_resize_weight,
    seaformer_state_dict_from_upstream,
)
from edgeav.models.lightavseg.configs import LIGHTAVSEG_SMALL
from edgeav.models.lightavseg.model import LightAVSeg
from edgeav.models.lightavseg.objective import alignment_loss, lightavseg_loss
from edgeav.models.losses import dice_loss
from edgeav.registry import get_model_entry


@pytest.fixture(scope="module")
def small_model() -> LightAVSeg:
    torch.manual_seed(0)
    return LightAVSeg(LIGHTAVSEG_SMALL).eval()


def _inputs(cfg, batch: int = 1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(batch, 3, cfg.image_size, cfg.image_size, generator=g)
    t = torch.arange(cfg.samples_per_frame) / cfg.sample_rate
    pcm = 0.3 * torch.sin(2 * torch.pi * (200 + 300 * seed) * t) + 0.05 * torch.randn(batch, cfg.samples_per_frame, generator=g)
    return frames, pcm


def test_forward_gives_probabilities_at_input_size(small_model):
    frames, pcm = _inputs(LIGHTAVSEG_SMALL, batch=2)
    with torch.no_grad():
        out = small_model(frames, pcm)
    assert out.shape == (2, 1, 64, 64)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_training_outputs_cover_four_decoder_scales(small_model):
    frames, pcm = _inputs(LIGHTAVSEG_SMALL, batch=2)
    out = small_model.forward_train(frames, pcm)
    sizes = [f.shape[-1] for f in out.decoder_features]
    assert sizes == [1, 2, 4, 8]  # strides 64, 32, 16, 8 of a 64-pixel input (ceil at stride 64)
    assert all(a.shape == (2, LIGHTAVSEG_SMALL.decoder_dim, 1, 1) for a in out.decoder_audio)


def test_audio_reaches_the_visual_backbone(small_model):
    """RAVE injects audio inside the backbone: the stride-16 features must change with the sound."""
    frames, pcm_a = _inputs(LIGHTAVSEG_SMALL, seed=1)
    _, pcm_b = _inputs(LIGHTAVSEG_SMALL, seed=2)
    feats = {}
    hook = small_model.visual.trans1.register_forward_hook(lambda m, i, o: feats.setdefault(len(feats), o))
    with torch.no_grad():
        small_model(frames, pcm_a)
        small_model(frames, pcm_b)
    hook.remove()
    assert (feats[0] - feats[1]).abs().max() > 1e-4


def test_frozen_audio_trunk_keeps_eval_mode_and_no_grad():
    model = LightAVSeg(LIGHTAVSEG_SMALL).train()
    assert not model.audio.training
    assert not any(p.requires_grad for p in model.audio.parameters())
    assert all(p.requires_grad for p in model.visual.parameters())


def test_paper_size_matches_published_budget():
    entry = get_model_entry("lightavseg")
    cfg = entry.config("paper")
    model = entry.build("paper")
    cost = measure_cost(model, example_inputs(entry.io_spec(cfg)))
    flops_model = cost.flops - cost.flops_by_part["frontend"]
    assert abs(cost.params / 1e6 / 20.5 - 1) <= 0.05, cost.params
    assert abs(flops_model / 1e9 / 2.70 - 1) <= 0.10, flops_model
    assert cost.params_by_part["visual"] == pytest.approx(13.73e6, rel=0.005)  # SeaFormer-L without head


def test_seaformer_l_pyramid_strides():
    feats = SeaFormer(SEAFORMER_L).eval()(torch.zeros(1, 3, 224, 224))
    assert [tuple(f.shape[1:]) for f in feats] == [(128, 28, 28), (192, 14, 14), (256, 7, 7), (320, 4, 4)]


@pytest.mark.parametrize("src,dst", [(16, 7), (16, 28), (16, 4), (16, 56)])
def test_positional_resize_weight_equals_linear_interpolation(src, dst):
    v = torch.randn(2, 5, src)
    expected = F.interpolate(v, size=dst, mode="linear", align_corners=False)
    torch.testing.assert_close(F.linear(v, _linear_resize_weight(src, dst)), expected, atol=1e-6, rtol=0)


def test_seaformer_upstream_layouts_load_strictly():
    reference = SeaFormer(dataclasses.replace(SEAFORMER_L))
    own = reference.state_dict()
    cls_ckpt = {"state_dict_ema": {**own, "linear.weight": torch.zeros(1000, 320), "linear.bias": torch.zeros(1000)}}
    seg_ckpt = {"state_dict": {**{f"backbone.{k}": v for k, v in own.items()}, "decode_head.conv_seg.weight": torch.zeros(150, 192, 1, 1)}}
    for ckpt in (cls_ckpt, seg_ckpt):
        target = SeaFormer(SEAFORMER_L)
        target.load_state_dict(seaformer_state_dict_from_upstream(ckpt), strict=True)
        key = "trans3.transformer_blocks.2.attn.pos_emb_rowq.pos_embed"
        assert torch.equal(target.state_dict()[key], own[key])


def test_panns_upstream_layout_loads_strictly():
    src = PannsMobileNetV2(PannsMobileNetV2Config())
    ckpt = {
        "model": {
            **src.state_dict(),
            "fc_audioset.weight": torch.zeros(527, 1024),
            "fc_audioset.bias": torch.zeros(527),
            "spectrogram_extractor.stft.conv_real.weight": torch.zeros(513, 1, 1024),
            "logmel_extractor.melW": torch.zeros(513, 64),
        },
        "iteration": 10,
    }
    dst = PannsMobileNetV2(PannsMobileNetV2Config())
    dst.load_state_dict(panns_state_dict_from_upstream(ckpt), strict=True)
    assert torch.equal(dst.features[0][0].weight, src.features[0][0].weight)


def test_dice_loss_is_zero_for_a_confident_perfect_prediction():
    target = torch.zeros(2, 1, 8, 8)
    target[:, :, 2:6, 2:6] = 1
    assert float(dice_loss((target * 2 - 1) * 50, target)) < 1e-3
    assert float(dice_loss(-(target * 2 - 1) * 50, target)) > 0.99


def test_alignment_loss_prefers_features_aligned_with_audio():
    target = torch.zeros(1, 1, 16, 16)
    target[..., 4:12, 4:12] = 1
    audio = torch.randn(1, 8, 1, 1)
    small = F.interpolate(target, size=(4, 4))
    aligned = audio * (2 * small - 1)  # +audio on the object, -audio elsewhere
    good = alignment_loss([aligned] * 3, [audio] * 3, target, temperature=0.1)
    bad = alignment_loss([-aligned] * 3, [audio] * 3, target, temperature=0.1)
    assert float(good) < 0.5 < float(bad)


def test_total_loss_backpropagates_into_visual_and_fusion(small_model):
    model = LightAVSeg(LIGHTAVSEG_SMALL).train()
    frames, pcm = _inputs(LIGHTAVSEG_SMALL, batch=2)
    target = (torch.rand(2, 1, 64, 64) > 0.7).float()
    parts = lightavseg_loss(model.forward_train(frames, pcm), target, temperature=0.1, weight=1.0)
    parts["loss"].backward()
    assert model.visual.smb1.stem_block[0].c.weight.grad.abs().sum() > 0
    assert model.encoder[0].audio_proj.weight.grad.abs().sum() > 0
