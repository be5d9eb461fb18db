"""Each rewrite equals what it replaces, touches only a copy, and applies only to its targets."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from export_targets import list_checks, list_rewrites
from export_targets.rewrites import (
    GlobalMaxPool2d,
    GlobalMaxPoolAsMaxPool2d,
    hint_for,
    rewrite_for_target,
)


@pytest.mark.parametrize("replacement", [GlobalMaxPool2d, GlobalMaxPoolAsMaxPool2d])
def test_global_max_pool_rewrites_equal_adaptive_max_pool_1(replacement) -> None:
    x = torch.randn(2, 5, 7, 9)
    assert torch.equal(replacement()(x), nn.AdaptiveMaxPool2d(1)(x))
    assert torch.equal(replacement()(x), nn.AdaptiveMaxPool2d((1, 1))(x))


@pytest.mark.parametrize("target,rewrite", [("executorch", "adaptive_max_pool_to_max_pool"), ("litert", "adaptive_max_pool_to_amax")])
def test_rewritten_model_equals_original(tiny_av_entry, target, rewrite) -> None:
    model = tiny_av_entry.build()
    variant, counts, _ = rewrite_for_target(model, target)
    assert counts[rewrite] == 1
    sample = tiny_av_entry.samples(tiny_av_entry.config(), 1, 0)[0]
    with torch.no_grad():  # BN folding reorders float arithmetic: equal to rounding, not bit for bit
        torch.testing.assert_close(variant(*sample), model(*sample), atol=1e-6, rtol=1e-5)


def test_original_model_is_not_modified(tiny_av_entry) -> None:
    model = tiny_av_entry.build()
    rewrite_for_target(model, "litert")
    assert isinstance(model.gate_pool, nn.AdaptiveMaxPool2d)


def test_rewrite_applies_only_to_listed_targets(tiny_av_entry) -> None:
    model = tiny_av_entry.build()
    for target in ("onnx", "coreml"):
        variant, counts, _ = rewrite_for_target(model, target)
        assert counts == {} and isinstance(variant.gate_pool, nn.AdaptiveMaxPool2d)


def test_other_output_sizes_and_indices_are_left_alone() -> None:
    model = nn.Sequential(nn.AdaptiveMaxPool2d(2), nn.AdaptiveMaxPool2d(1, return_indices=True))
    variant, counts, warnings = rewrite_for_target(model, "executorch")
    assert counts == {}
    assert len(warnings) == 2 and "no lowering" in warnings[0]


def test_gelu_tanh_check_warns_for_executorch_only() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.GELU(approximate="tanh"))
    assert any("erf" in w for w in rewrite_for_target(model, "executorch")[2])
    assert rewrite_for_target(model, "litert")[2] == []


def test_registry_lists_names_and_targets() -> None:
    assert [r.name for r in list_rewrites()] == [
        "adaptive_max_pool_to_max_pool",
        "fold_conv_batchnorm",
        "adaptive_max_pool_to_amax",
        "deformable_attention_to_matmul",
        "untie_level_depthwise_conv",
        "norm_to_mean_reduction",
    ]
    assert {"gelu_tanh_on_xnnpack", "adaptive_max_pool_left"} <= {c.name for c in list_checks()}


def test_converter_errors_map_to_fixes() -> None:
    assert "AdaptiveMaxPool2d(1)" in hint_for("Lowering not found: aten.adaptive_max_pool2d.default")
    assert hint_for("something else entirely") == ""


def _with_stats(model: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-1, 1)
    return model.eval()


def test_fold_conv_batchnorm_equals_the_original_including_across_avgpool() -> None:
    model = _with_stats(nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()),
        nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.AvgPool2d(2), nn.BatchNorm2d(8), nn.ReLU6()),
    ))
    variant, counts, _ = rewrite_for_target(model, "litert")
    assert counts["fold_conv_batchnorm"] == 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in variant.modules())
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(variant(x), model(x), atol=1e-5, rtol=1e-5)


def test_fold_conv_batchnorm_leaves_lightavseg_outputs_unchanged() -> None:
    from edgeav.registry import get_model_entry

    entry = get_model_entry("lightavseg")
    model = _with_stats(entry.build("small"))
    variant, counts, _ = rewrite_for_target(model, "executorch")
    assert counts["fold_conv_batchnorm"] > 40
    sample = (torch.rand(1, 3, 64, 64), 0.1 * torch.randn(1, 16000))
    with torch.no_grad():
        torch.testing.assert_close(variant(*sample), model(*sample), atol=1e-5, rtol=1e-4)


def test_deformable_attention_rewrite_leaves_avesformer_outputs_unchanged() -> None:
    from edgeav.models.deformable_attention import MSDeformSelfAttentionMatmul
    from edgeav.registry import get_model_entry

    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    model = entry.build("small").eval()
    with torch.no_grad():  # offsets that reach outside the maps, attention that is not uniform
        for stage in model.head.stages[1:]:
            stage.self_attn.sampling_offsets.weight.normal_(0.0, 0.3)
            stage.self_attn.attention_weights.weight.normal_(0.0, 0.3)
    for target in ("executorch", "litert", "coreml"):
        variant, counts, _ = rewrite_for_target(model, target)
        assert counts["deformable_attention_to_matmul"] == 2
        assert all(isinstance(s.self_attn, MSDeformSelfAttentionMatmul) for s in variant.head.stages[1:])
    assert "deformable_attention_to_matmul" not in rewrite_for_target(model, "onnx")[1]  # ONNX has GridSample
    sample = entry.samples(entry.config("small"), 1, 0)[0]
    with torch.no_grad():
        torch.testing.assert_close(variant(*sample), model(*sample), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("norm,shape", [
    (nn.LayerNorm(12), (2, 7, 12)),
    (nn.LayerNorm(12), (3, 12)),
    (nn.GroupNorm(4, 12), (2, 12, 5, 6)),
    (nn.GroupNorm(3, 12, affine=False), (1, 12, 4, 4)),
])
def test_norm_to_mean_reduction_equals_layer_and_group_norm(norm, shape) -> None:
    torch.manual_seed(0)
    if norm.weight is not None:
        norm.weight.data.uniform_(0.5, 1.5)
        norm.bias.data.uniform_(-1, 1)
    variant, counts, _ = rewrite_for_target(nn.Sequential(norm), "executorch")
    assert counts == {"norm_to_mean_reduction": 1}
    x = 3.0 * torch.randn(shape) + 1.0
    with torch.no_grad():
        torch.testing.assert_close(variant(x), norm(x), atol=1e-5, rtol=1e-5)


def test_norm_rewrite_is_for_the_xnnpack_targets_only() -> None:
    for target in ("coreml", "onnx"):
        assert rewrite_for_target(nn.Sequential(nn.GroupNorm(2, 4)), target)[1] == {}


def test_int8_capture_unties_the_shared_depthwise_conv_without_changing_outputs() -> None:
    # A quantized depthwise weight shared by three convolutions fails XNNPACK's compile; one copy per level.
    from edgeav.models.avesformer import SeparableConvPerLevel
    from edgeav.registry import get_model_entry
    from export_targets.int8 import quantization_rewrite

    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    model = entry.build("small").eval()
    sample = entry.samples(entry.config("small"), 1, 0)[0]
    with torch.no_grad():
        expected = model(*sample)
        rewritten = quantization_rewrite("ptq")(copy.deepcopy(model))
        conv = rewritten.head.stages[0].conv
        assert isinstance(conv, SeparableConvPerLevel) and len(conv.dwconvs) == 3
        assert len({c.weight.data_ptr() for c in conv.level_convs()}) == 3  # untied storage, equal values
        torch.testing.assert_close(rewritten(*sample), expected, atol=1e-5, rtol=1e-4)
    assert "untie_level_depthwise_conv" not in rewrite_for_target(model, "executorch")[1]  # fp32 shares fine
