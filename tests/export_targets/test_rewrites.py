"""Each rewrite equals what it replaces, touches only a copy, and applies only to its targets."""
from __future__ import annotations

import torch
from torch import nn

from export_targets import list_checks, list_rewrites
from export_targets.rewrites import GlobalMaxPool2d, hint_for, rewrite_for_target


def test_amax_equals_adaptive_max_pool_1() -> None:
    x = torch.randn(2, 5, 7, 9)
    assert torch.equal(GlobalMaxPool2d()(x), nn.AdaptiveMaxPool2d(1)(x))
    assert torch.equal(GlobalMaxPool2d()(x), nn.AdaptiveMaxPool2d((1, 1))(x))


def test_rewritten_model_equals_original(tiny_av_entry) -> None:
    model = tiny_av_entry.build()
    variant, counts, _ = rewrite_for_target(model, "executorch")
    assert counts == {"adaptive_max_pool_to_amax": 1}
    sample = tiny_av_entry.samples(tiny_av_entry.config(), 1, 0)[0]
    with torch.no_grad():
        assert torch.equal(variant(*sample), model(*sample))


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
    assert [r.name for r in list_rewrites()] == ["adaptive_max_pool_to_amax"]
    assert {"gelu_tanh_on_xnnpack", "adaptive_max_pool_left"} <= {c.name for c in list_checks()}


def test_converter_errors_map_to_fixes() -> None:
    assert "AdaptiveMaxPool2d(1)" in hint_for("Lowering not found: aten.adaptive_max_pool2d.default")
    assert hint_for("something else entirely") == ""
