"""DTFSal's building blocks against their definitions: deformable conv, shifts, rel-pos, eq. 3, resampling."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from edgeav.models.dtfsal.enhance import FeatureEnhancement, axial_shift, upsample
import dataclasses

from edgeav.models.dtfsal.configs import DTFSAL_SMALL
from edgeav.models.dtfsal.fusion import AddAudio, DeformConv2d, GateAudio, linear_resample_matrix
from edgeav.models.dtfsal.mvit import rel_pos_index


def test_deform_conv_with_zero_offsets_is_a_3x3_conv():
    torch.manual_seed(0)
    conv = DeformConv2d(5, 7)
    x = torch.randn(2, 5, 6, 9)
    out = conv(x, torch.zeros(2, 18, 6, 9))
    assert torch.allclose(out, F.conv2d(x, conv.weight, conv.bias, padding=1), atol=1e-5)


def test_deform_conv_integer_offset_samples_the_neighbour():
    torch.manual_seed(0)
    conv = DeformConv2d(3, 4)
    x = torch.randn(1, 3, 8, 8)
    offsets = torch.zeros(1, 9, 2, 8, 8)
    offsets[:, :, 1] = 1.0  # every kernel point one pixel to the right
    out = conv(x, offsets.view(1, 18, 8, 8))
    # out(i, j) = Σ w(ky, kx) · x(i + ky, j + kx + 1), zero outside the image
    padded = F.pad(x, (1, 2, 1, 1))[..., 1:]
    assert torch.allclose(out, F.conv2d(padded, conv.weight, conv.bias), atol=1e-5)


def test_deform_conv_offsets_get_gradients():
    conv = DeformConv2d(2, 2)
    offsets = torch.full((1, 18, 5, 5), 0.3, requires_grad=True)
    conv(torch.randn(1, 2, 5, 5), offsets).sum().backward()
    assert offsets.grad is not None and offsets.grad.abs().sum() > 0


def test_axial_shift_moves_each_group():
    x = torch.arange(3 * 5, dtype=torch.float32).view(1, 3, 1, 1, 5)  # 3 groups (shift 1), W = 5
    out = axial_shift(x, 1, dim=4)[0, :, 0, 0]
    assert out[0].tolist() == [1, 2, 3, 4, 0]  # group 0 moves by −1
    assert out[1].tolist() == x[0, 1, 0, 0].tolist()  # group 1 stays
    assert out[2].tolist() == [0, 10, 11, 12, 13]  # group 2 moves by +1


def test_rel_pos_index_matches_mvit_definition():
    idx = rel_pos_index(4, 2)  # q 4, k 2 (k pooled by 2): k coordinates scaled by 2
    assert idx.tolist() == [[2, 0], [3, 1], [4, 2], [5, 3]]
    assert int(rel_pos_index(7, 7).max()) == 12 and int(rel_pos_index(7, 7).min()) == 0


def test_feature_enhancement_follows_eq3():
    torch.manual_seed(0)
    fe = FeatureEnhancement((2, 3, 4, 5), 6)
    feats = [torch.randn(1, c, 4, 16 // 2**i, 24 // 2**i) for i, c in enumerate((2, 3, 4, 5))]
    out = fe(feats)
    lat = [conv(f) for conv, f in zip(fe.lateral, feats)]
    f4 = lat[3]
    f3 = lat[2] + upsample(f4, 2)
    f2 = lat[1] + upsample(f3, 2) + upsample(f4, 4)
    f1 = lat[0] + upsample(f2, 2) + upsample(f4, 8)
    for got, want in zip(out, [fe.refine[0](f1), fe.refine[1](f2), fe.refine[2](f3), f4]):
        assert torch.allclose(got, want, atol=1e-6)


def test_frame_upsampling_equals_trilinear():
    x = torch.randn(1, 2, 3, 4, 5)
    want = F.interpolate(x, scale_factor=(1, 2, 2), mode="trilinear", align_corners=False)
    assert torch.allclose(upsample(x, 2), want, atol=1e-6)


def test_linear_resample_matrix_is_linear_interpolation():
    m = linear_resample_matrix(9, 8)
    sig = torch.randn(9)
    want = F.interpolate(sig.view(1, 1, 9), size=8, mode="linear", align_corners=False).flatten()
    assert torch.allclose(m @ sig, want, atol=1e-6) and torch.allclose(m.sum(1), torch.ones(8))


def test_gate_starts_as_the_identity_and_then_weighs_each_pixel_by_its_match_with_the_sound():
    torch.manual_seed(0)
    cfg = DTFSAL_SMALL
    gate = GateAudio(cfg)
    visual = torch.randn(2, cfg.dim, 2, 4, 5)
    aligned = torch.randn(2, cfg.dim, 2, 4, 5)
    assert torch.equal(gate(visual, aligned), visual)  # zero query: the identity, nothing injected
    assert torch.equal(AddAudio(cfg)(visual, aligned), visual + aligned)
    with torch.no_grad():
        gate.query.weight.copy_(torch.randn_like(gate.query.weight))
    out = gate(visual, aligned)
    # out = visual * g / mean_hw g,  g = 2σ(⟨q(mean_hw aligned_t), k(visual_t(y, x))⟩ / √d), written out per pixel
    q = gate.query(aligned.mean(dim=(3, 4)).transpose(1, 2))  # [B, T, d]
    k = gate.key(visual)  # [B, d, T, H, W]
    g = 2 * torch.sigmoid(torch.einsum("btd,bdthw->bthw", q, k)[:, None] / cfg.amfb_gate_dim**0.5)
    assert torch.allclose(out, visual * g / g.mean(dim=(3, 4), keepdim=True), atol=1e-5)
    assert torch.allclose((out / visual).mean(dim=(3, 4)), torch.ones(2, 1, 2), atol=1e-4)  # where, not how much
    # one factor per pixel and step (shared by the channels), different from pixel to pixel
    factor = out / visual
    assert torch.allclose(factor, factor[:, :1].expand_as(factor), atol=1e-4)
    assert factor[:, 0].flatten(2).std(dim=-1).min() > 1e-3


def test_audio_injection_is_a_config_field():
    import pytest

    from edgeav.errors import UsageError
    from edgeav.models.dtfsal.fusion import AMFB

    assert isinstance(AMFB(dataclasses.replace(DTFSAL_SMALL, amfb_audio_injection="add")).inject, AddAudio)
    assert isinstance(AMFB(DTFSAL_SMALL).inject, GateAudio)
    with pytest.raises(UsageError, match="'gate', 'film-gate' or 'add'"):
        dataclasses.replace(DTFSAL_SMALL, amfb_audio_injection="concat")


def test_film_gate_starts_as_the_identity_and_scales_channels_by_the_sound():
    from edgeav.models.dtfsal.fusion import AMFB, FilmGateAudio

    torch.manual_seed(0)
    cfg = dataclasses.replace(DTFSAL_SMALL, amfb_audio_injection="film-gate")
    inject = AMFB(cfg).inject
    assert isinstance(inject, FilmGateAudio)
    visual, aligned = torch.randn(2, cfg.dim, 2, 4, 5), torch.randn(2, cfg.dim, 2, 4, 5)
    assert torch.equal(inject(visual, aligned), visual)  # zero FiLM and zero query: nothing injected
    with torch.no_grad():
        inject.film.weight.copy_(torch.randn_like(inject.film.weight))
    out = inject(visual, aligned)
    film = inject.film(aligned.mean(dim=(3, 4)).transpose(1, 2)).transpose(1, 2)[..., None, None]  # [B, 2C, T, 1, 1]
    gamma, beta = film[:, : cfg.dim], film[:, cfg.dim :]
    assert torch.allclose(out, visual * 2 * torch.sigmoid(gamma) + beta, atol=1e-5)  # the gate is still the identity
    assert not torch.allclose(inject(visual, aligned.flip(0)), out)  # another sound, other channel scales
