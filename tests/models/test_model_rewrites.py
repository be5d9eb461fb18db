"""Each model rewrite equals what it replaces, touches only a copy, and is found by its name."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from edgeav.errors import UsageError
from edgeav.models.rewrites import (
    GlobalMaxPool2d,
    GlobalMaxPoolAsMaxPool2d,
    get_rewrite,
    hint_for,
    list_checks,
    list_rewrites,
    rewrite,
    rewrite_for_target,
)
from edgeav.registry import get_model_entry, list_models

MAX_POOL, AMAX, FOLD = "adaptive_max_pool_to_max_pool", "adaptive_max_pool_to_amax", "fold_conv_batchnorm"
DEFORMABLE, NORM, UNTIE = "deformable_attention_to_matmul", "norm_to_mean_reduction", "untie_level_depthwise_conv"
SPLIT = "split_large_depthwise_rows"


@pytest.mark.parametrize("replacement", [GlobalMaxPool2d, GlobalMaxPoolAsMaxPool2d])
def test_global_max_pool_rewrites_equal_adaptive_max_pool_1(replacement) -> None:
    x = torch.randn(2, 5, 7, 9)
    assert torch.equal(replacement()(x), nn.AdaptiveMaxPool2d(1)(x))
    assert torch.equal(replacement()(x), nn.AdaptiveMaxPool2d((1, 1))(x))


@pytest.mark.parametrize("name", [MAX_POOL, AMAX])
def test_rewritten_model_equals_original(tiny_av_entry, name) -> None:
    model = tiny_av_entry.build()
    variant, counts, _ = rewrite_for_target(model, (name, FOLD))
    assert counts == {name: 1, FOLD: 1}
    sample = tiny_av_entry.samples(tiny_av_entry.config(), 1, 0)[0]
    with torch.no_grad():  # BN folding reorders float arithmetic: equal to rounding, not bit for bit
        torch.testing.assert_close(variant(*sample), model(*sample), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("train", [False, True])
def test_original_model_is_not_modified(tiny_av_entry, train: bool) -> None:
    """Weights (BN folding rewrites conv weights), buffers, module tree and train/eval flags all stay as they were."""
    model = tiny_av_entry.build().train(train)
    before_state = {k: v.clone() for k, v in model.state_dict().items()}
    before_tree = [(name, type(m), m.training) for name, m in model.named_modules()]
    variant, counts, _ = rewrite_for_target(model, (AMAX, FOLD))
    assert counts == {AMAX: 1, FOLD: 1} and variant is not model
    assert [(name, type(m), m.training) for name, m in model.named_modules()] == before_tree
    after = model.state_dict()
    assert after.keys() == before_state.keys() and all(torch.equal(after[k], v) for k, v in before_state.items())


@pytest.mark.parametrize("names", [(), (AMAX,)])
def test_a_training_model_keeps_its_mode_and_the_copy_is_eval(tiny_av_entry, names) -> None:
    model = tiny_av_entry.build().train()
    variant, _, _ = rewrite_for_target(model, names)
    assert variant is not model and not variant.training
    assert all(m.training for m in model.modules())


def test_nothing_asked_of_an_eval_model_returns_it_as_is(tiny_av_entry) -> None:
    model = tiny_av_entry.build().eval()
    variant, counts, warnings = rewrite_for_target(model, ())
    assert variant is model and counts == {} and warnings == []


def test_other_output_sizes_and_indices_are_left_alone() -> None:
    model = nn.Sequential(nn.AdaptiveMaxPool2d(2), nn.AdaptiveMaxPool2d(1, return_indices=True))
    variant, counts, warnings = rewrite_for_target(model, (MAX_POOL,), ("adaptive_max_pool_left",))
    assert counts == {}
    assert len(warnings) == 2 and "no lowering" in warnings[0]


def test_gelu_tanh_check_warns_only_when_asked() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.GELU(approximate="tanh"))
    assert any("erf" in w for w in rewrite_for_target(model, (), ("gelu_tanh_on_xnnpack",))[2])
    assert rewrite_for_target(model, (), ("adaptive_max_pool_left",))[2] == []


def test_table_lists_generic_rewrites_then_the_model_folders_forms() -> None:
    assert [r.name for r in list_rewrites()] == [MAX_POOL, FOLD, AMAX, DEFORMABLE, NORM, SPLIT, UNTIE]
    assert {"gelu_tanh_on_xnnpack", "adaptive_max_pool_left"} <= {c.name for c in list_checks()}


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(UsageError, match="unknown rewrite 'nope'; known: .*fold_conv_batchnorm"):
        get_rewrite("nope")
    with pytest.raises(UsageError, match="unknown check 'nope'"):
        rewrite_for_target(nn.Identity(), (), ("nope",))


def test_every_export_form_an_entry_offers_is_a_registered_rewrite() -> None:
    offered = {form for entry in list_models() for form in entry.export_forms}
    assert {DEFORMABLE, UNTIE} <= offered
    assert all(get_rewrite(name).name == name for name in offered)


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
    variant, counts, _ = rewrite_for_target(model, (FOLD,))
    assert counts[FOLD] == 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in variant.modules())
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(variant(x), model(x), atol=1e-5, rtol=1e-5)


def test_fold_conv_batchnorm_leaves_lightavseg_outputs_unchanged() -> None:
    entry = get_model_entry("lightavseg")
    model = _with_stats(entry.build("small"))
    variant, counts, _ = rewrite_for_target(model, (MAX_POOL, FOLD))
    assert counts[FOLD] > 40
    sample = (torch.rand(1, 3, 64, 64), 0.1 * torch.randn(1, 16000))
    with torch.no_grad():
        torch.testing.assert_close(variant(*sample), model(*sample), atol=1e-5, rtol=1e-4)


def _small_avesformer() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    model = entry.build("small").eval()
    with torch.no_grad():  # offsets that reach outside the maps, attention that is not uniform
        for stage in model.head.stages[1:]:
            stage.self_attn.sampling_offsets.weight.normal_(0.0, 0.3)
            stage.self_attn.attention_weights.weight.normal_(0.0, 0.3)
    return model, entry.samples(entry.config("small"), 1, 0)[0]


def test_deformable_attention_rewrite_leaves_avesformer_outputs_unchanged() -> None:
    from edgeav.models.layers.deformable import MSDeformSelfAttentionMatmul

    model, sample = _small_avesformer()
    variant, counts, _ = rewrite_for_target(model, (DEFORMABLE,))
    assert counts == {DEFORMABLE: 2}
    assert all(isinstance(s.self_attn, MSDeformSelfAttentionMatmul) for s in variant.head.stages[1:])
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
    variant, counts, _ = rewrite_for_target(nn.Sequential(norm), (NORM,))
    assert counts == {NORM: 1}
    x = 3.0 * torch.randn(shape) + 1.0
    with torch.no_grad():
        torch.testing.assert_close(variant(x), norm(x), atol=1e-5, rtol=1e-5)


def test_untie_level_depthwise_conv_copies_the_shared_weight_without_changing_outputs() -> None:
    # A quantized depthwise weight shared by three convolutions fails XNNPACK's compile; one copy per level.
    from edgeav.models.avesformer.export_forms import SeparableConvPerLevel

    model, sample = _small_avesformer()
    with torch.no_grad():
        expected = model(*sample)
        rewritten = copy.deepcopy(model)
        assert rewrite(rewritten, (UNTIE,)) == {UNTIE: 1}
        conv = rewritten.head.stages[0].conv
        assert isinstance(conv, SeparableConvPerLevel) and len(conv.dwconvs) == 3
        assert len({c.weight.data_ptr() for c in conv.level_convs()}) == 3  # untied storage, equal values
        torch.testing.assert_close(rewritten(*sample), expected, atol=1e-5, rtol=1e-4)
        assert rewrite(rewritten, (UNTIE,)) == {}  # already untied: nothing left to swap
