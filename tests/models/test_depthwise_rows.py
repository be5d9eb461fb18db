"""The row-band split of a large depthwise convolution equals the convolution, and is applied only where it fits."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeav.models.layers.depthwise_rows import RowSplitDepthwiseConv2d, is_large_depthwise, row_bands
from edgeav.models.rewrites import rewrite_for_target
from export_targets.formats import FORMATS

SPLIT = "split_large_depthwise_rows"


def test_bands_cover_every_kernel_row_once_within_the_tap_budget() -> None:
    assert row_bands(7, 7) == [(0, 3), (3, 3), (6, 1)]
    assert row_bands(9, 9) == [(0, 2), (2, 2), (4, 2), (6, 2), (8, 1)]
    assert row_bands(7, 3) == [(0, 7)]  # 21 taps: one band (is_large_depthwise never asks for it)


@pytest.mark.parametrize("kernel,padding,size,bias", [
    (7, 3, (28, 28), True),  # AVESFormer's Early-Focus SepConv
    (7, 3, (7, 5), False),   # map smaller than the kernel: every band reads padding
    (9, 4, (11, 13), True),
    ((7, 5), (3, 2), (10, 12), True),  # rectangular kernel, unequal padding
    (7, 0, (12, 12), True),  # "valid" convolution: the output shrinks
    (7, 1, (9, 9), True),
])
def test_split_equals_the_depthwise_convolution(kernel, padding, size, bias) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 6, kernel, padding=padding, groups=6, bias=bias).eval()
    split = RowSplitDepthwiseConv2d(conv)
    x = torch.randn(2, 6, *size)
    with torch.no_grad():
        expected = conv(x)
        got = split(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert all(w.shape[-2] * w.shape[-1] <= 25 for n, w in split.named_parameters() if n.startswith("weight"))


def test_split_owns_its_weights() -> None:
    conv = nn.Conv2d(4, 4, 7, padding=3, groups=4)
    split = RowSplitDepthwiseConv2d(conv)
    with torch.no_grad():
        conv.weight.zero_()
    assert split.weight0.abs().sum() > 0


@pytest.mark.parametrize("conv", [
    nn.Conv2d(8, 8, 5, padding=2, groups=8),          # 25 taps: XNNPACK's own depthwise kernel already
    nn.Conv2d(8, 8, 7, padding=3),                     # dense
    nn.Conv2d(8, 16, 7, padding=3, groups=8),          # channel multiplier 2
    nn.Conv2d(8, 8, 7, stride=2, padding=3, groups=8),
    nn.Conv2d(8, 8, 7, padding=6, dilation=2, groups=8),
    nn.Conv2d(8, 8, 7, padding=3, groups=8, padding_mode="reflect"),
    nn.Conv2d(8, 8, 7, padding="same", groups=8),      # string padding
    nn.Conv2d(8, 8, (1, 27), padding=(0, 13), groups=8),  # a row wider than the budget cannot be banded
])
def test_only_stride_1_zero_padded_depthwise_over_25_taps_is_split(conv) -> None:
    assert not is_large_depthwise(conv)
    with pytest.raises(ValueError, match="more than 25 taps"):
        RowSplitDepthwiseConv2d(conv)
    assert rewrite_for_target(nn.Sequential(conv), (SPLIT,))[1] == {}


def test_avesformer_sepconv_is_split_for_the_xnnpack_formats_and_outputs_are_unchanged() -> None:
    from edgeav.registry import get_model_entry

    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    model = entry.build("small").eval()
    sample = entry.samples(entry.config("small"), 1, 0)[0]
    variant, counts, _ = rewrite_for_target(model, (SPLIT,))
    assert counts == {SPLIT: 1}  # one depthwise module, shared by the three levels
    assert isinstance(variant.head.stages[0].conv.dwconv, RowSplitDepthwiseConv2d)
    with torch.no_grad():
        torch.testing.assert_close(variant(*sample), model(*sample), atol=1e-5, rtol=1e-4)
    # Measured faster on XNNPACK in both runtimes (.pte and .tflite); ONNX Runtime and Core ML are not asked.
    assert {info.name for info in FORMATS if SPLIT in info.rewrites} == {"executorch", "litert"}


def test_the_int8_capture_splits_then_unties_per_level_and_outputs_are_unchanged() -> None:
    # XNNPACK's int8 7×7 depthwise is a grouped IGEMM too; each level then gets its own split copy.
    from edgeav.models.avesformer.export_forms import SeparableConvPerLevel
    from edgeav.registry import get_model_entry
    from quantize.plan import quantization_rewrite

    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    model = entry.build("small").eval()
    sample = entry.samples(entry.config("small"), 1, 0)[0]
    with torch.no_grad():
        expected = model(*sample)
        captured = quantization_rewrite("ptq", entry.export_forms)(model)
        conv = captured.head.stages[0].conv
        assert isinstance(conv, SeparableConvPerLevel)
        assert all(isinstance(c, RowSplitDepthwiseConv2d) for c in conv.level_convs())
        assert len({c.weight0.data_ptr() for c in conv.level_convs()}) == 3
        torch.testing.assert_close(captured(*sample), expected, atol=1e-5, rtol=1e-4)
