"""The matmul form of multi-scale deformable attention equals the grid_sample reference, and both follow
grid_sample's conventions (bilinear, zero padding, align_corners=False)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeav.errors import InputShapeError
from edgeav.models.layers.deformable import (
    MSDeformSelfAttention,
    MSDeformSelfAttentionMatmul,
    encoder_reference_points,
)

SHAPES = ((8, 6), (4, 3), (2, 2))  # non-square levels catch x/y mix-ups
N = sum(h * w for h, w in SHAPES)


def _module(offset_std: float, seed: int = 0, shapes=SHAPES) -> MSDeformSelfAttention:
    torch.manual_seed(seed)
    m = MSDeformSelfAttention(dim=32, levels=len(shapes), heads=4, points=3, level_shapes=shapes).eval()
    with torch.no_grad():  # random offsets (far beyond the maps for large std) and non-uniform attention
        m.sampling_offsets.weight.normal_(0.0, offset_std)
        m.sampling_offsets.bias.normal_(0.0, offset_std)
        m.attention_weights.weight.normal_(0.0, 1.0)
    return m


def _identity_projections(m: MSDeformSelfAttention) -> None:
    for proj in (m.value_proj, m.output_proj):
        nn.init.eye_(proj.weight)
        nn.init.zeros_(proj.bias)


@pytest.mark.parametrize("offset_std", [0.05, 0.5, 20.0])
def test_matmul_form_equals_grid_sample_reference(offset_std) -> None:
    ref = _module(offset_std)
    fast = MSDeformSelfAttentionMatmul(ref)
    g = torch.Generator().manual_seed(1)
    query, value = torch.randn(2, N, 32, generator=g), torch.randn(2, N, 32, generator=g)
    with torch.no_grad():
        expected, actual = ref(query, value, SHAPES), fast(query, value, SHAPES)
    torch.testing.assert_close(actual, expected, atol=2e-5, rtol=1e-5)


def test_random_offsets_do_sample_outside_the_maps() -> None:
    """Guard for the test above: at std 0.5 the points straddle the borders (some in, some out)."""
    m = _module(0.5)
    offsets = m.sampling_offsets(torch.randn(1, N, 32)).view(1, N, 4, 3, 3, 2)
    scale = torch.tensor([[w, h] for h, w in SHAPES]).view(1, 1, 1, 3, 1, 2)
    loc = encoder_reference_points(SHAPES)[None, :, None, None, None] + offsets / scale
    outside = ((loc < 0) | (loc > 1)).any(-1)
    assert 0.05 < outside.float().mean() < 0.95


@pytest.mark.parametrize("form", ["reference", "matmul"])
def test_points_far_outside_read_zeros(form) -> None:
    m = _module(0.0)
    _identity_projections(m)
    with torch.no_grad():
        m.sampling_offsets.bias.fill_(100.0)  # every point 100 pixels right and below its reference
    attn = m if form == "reference" else MSDeformSelfAttentionMatmul(m)
    out = attn(torch.randn(1, N, 32), torch.randn(1, N, 32), SHAPES)
    assert torch.count_nonzero(out) == 0


@pytest.mark.parametrize("form", ["reference", "matmul"])
@pytest.mark.parametrize("dx,dy", [(0.25, 0.5), (-0.75, 0.0), (2.9, -1.2)])
def test_half_pixel_bilinear_with_zero_padding(form, dx, dy) -> None:
    """One level, one head, one point: token 0 (pixel centre (0.5, 0.5)/W) moved by (dx, dy) pixels samples
    the map at pixel coordinate (dx, dy) under align_corners=False, corners outside the map reading 0."""
    shapes = ((3, 4),)
    m = MSDeformSelfAttention(dim=1, levels=1, heads=1, points=1, level_shapes=shapes).eval()
    _identity_projections(m)
    with torch.no_grad():
        m.sampling_offsets.bias.copy_(torch.tensor([dx, dy]))
    attn = m if form == "reference" else MSDeformSelfAttentionMatmul(m)
    image = torch.arange(1.0, 13.0).view(3, 4)
    out = attn(torch.zeros(1, 12, 1), image.reshape(1, 12, 1), shapes)[0, 0, 0]

    def pixel(y: int, x: int) -> float:
        return float(image[y, x]) if 0 <= y < 3 and 0 <= x < 4 else 0.0

    x0, y0 = int(torch.floor(torch.tensor(dx))), int(torch.floor(torch.tensor(dy)))
    fx, fy = dx - x0, dy - y0
    expected = ((1 - fy) * ((1 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1))
                + fy * ((1 - fx) * pixel(y0 + 1, x0) + fx * pixel(y0 + 1, x0 + 1)))
    assert float(out) == pytest.approx(expected, abs=1e-5)


def test_reference_points_are_pixel_centres() -> None:
    ref = encoder_reference_points(((2, 4),))
    assert torch.allclose(ref[:4, 0], torch.tensor([0.125, 0.375, 0.625, 0.875]))
    assert torch.allclose(ref[::4, 1], torch.tensor([0.25, 0.75]))


def test_matmul_form_refuses_other_level_shapes() -> None:
    fast = MSDeformSelfAttentionMatmul(_module(1.0))
    other = ((4, 4), (2, 2), (1, 1))
    with pytest.raises(InputShapeError, match="built for level shapes"):
        fast(torch.randn(1, 21, 32), torch.randn(1, 21, 32), other)


def test_reference_follows_the_shapes_it_is_called_with() -> None:
    m = _module(1.0)
    other = ((4, 4), (2, 2), (1, 1))
    assert m(torch.randn(1, 21, 32), torch.randn(1, 21, 32), other).shape == (1, 21, 32)


def test_init_is_deformable_detr_radial_pattern() -> None:
    m = MSDeformSelfAttention(dim=16, levels=2, heads=4, points=2, level_shapes=((4, 4), (2, 2)))
    bias = m.sampling_offsets.bias.view(4, 2, 2, 2)
    assert torch.allclose(bias[0, 0, 0], torch.tensor([1.0, 0.0]))  # head 0 points right
    assert torch.allclose(bias[1, 1, 1], torch.tensor([0.0, 2.0]), atol=1e-6)  # head 1 down, point 2 twice as far
    assert torch.count_nonzero(m.attention_weights.weight) == 0


@pytest.mark.slow
def test_matmul_form_is_one_xnnpack_delegate() -> None:
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    from export_targets.executorch.lower import delegation_summary

    class Wrapper(nn.Module):
        def __init__(self, attn: nn.Module) -> None:
            super().__init__()
            self.attn = attn

        def forward(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            return self.attn(q, v, SHAPES)

    inputs = (torch.randn(1, N, 32), torch.randn(1, N, 32))
    summaries = {}
    for name, attn in (("reference", _module(1.0)), ("matmul", MSDeformSelfAttentionMatmul(_module(1.0)))):
        edge = to_edge_transform_and_lower(torch.export.export(Wrapper(attn).eval(), inputs),
                                           partitioner=[XnnpackPartitioner()])
        summaries[name] = delegation_summary(edge.exported_program().graph_module)
    assert summaries["matmul"]["portable"] == {} and summaries["matmul"]["delegated_subgraphs"] == 1
    assert "aten.grid_sampler_2d.default" in summaries["reference"]["portable"]  # why the rewrite exists
