"""Each export format asks for the model rewrites and checks it needs, by name, and only those."""
from __future__ import annotations

import pytest
from torch import nn

from edgeav.models.rewrites import get_check, get_rewrite, rewrite_for_target
from edgeav.registry import get_model_entry
from export_targets.formats import FORMATS, format_info
from quantize.plan import quantization_rewrite_names

XNNPACK_FORMATS = ("executorch", "litert")


def _for_format(model: nn.Module, fmt: str):
    info = format_info(fmt)
    return rewrite_for_target(model, info.rewrites, info.checks)


def test_every_name_a_format_asks_for_exists() -> None:
    for info in FORMATS:
        assert all(get_rewrite(n).name == n for n in info.rewrites)
        assert all(get_check(n).name == n for n in info.checks)


@pytest.mark.parametrize("fmt,name", [("executorch", "adaptive_max_pool_to_max_pool"), ("litert", "adaptive_max_pool_to_amax")])
def test_each_xnnpack_format_gets_its_max_pool_form(tiny_av_entry, fmt, name) -> None:
    _, counts, _ = _for_format(tiny_av_entry.build(), fmt)
    assert counts == {name: 1, "fold_conv_batchnorm": 1}


@pytest.mark.parametrize("fmt", ["onnx", "coreml"])
def test_onnx_and_coreml_leave_pooling_and_norms_alone(tiny_av_entry, fmt) -> None:
    variant, counts, _ = _for_format(tiny_av_entry.build(), fmt)
    assert counts == {} and isinstance(variant.gate_pool, nn.AdaptiveMaxPool2d)
    assert _for_format(nn.Sequential(nn.GroupNorm(2, 4)), fmt)[1] == {}


def test_deformable_attention_matmul_form_for_all_but_onnx() -> None:
    # ONNX has GridSample; the others run grid_sampler_2d on portable kernels or not at all.
    asking = {info.name for info in FORMATS if "deformable_attention_to_matmul" in info.rewrites}
    assert asking == {"executorch", "litert", "coreml"}


def test_gelu_tanh_check_warns_for_executorch_only() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.GELU(approximate="tanh"))
    assert any("erf" in w for w in _for_format(model, "executorch")[2])
    assert _for_format(model, "litert")[2] == []


def test_the_untied_depthwise_conv_is_an_int8_form_only() -> None:
    avesformer = get_model_entry("avesformer-r18")
    assert "untie_level_depthwise_conv" in quantization_rewrite_names("qat", avesformer.export_forms)
    assert "untie_level_depthwise_conv" not in quantization_rewrite_names("qat", ())  # no model named in the plan
    assert not any("untie_level_depthwise_conv" in info.rewrites for info in FORMATS)
