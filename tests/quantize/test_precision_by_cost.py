"""quantize.plan.float_where_int8_is_slower: a class stays float exactly when its measured int8 cost is higher."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeav.errors import UsageError
from quantize.plan import LayerCost, float_where_int8_is_slower


def _model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                         nn.Conv2d(8, 16, 1), nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16))


def _probe(int8_ms: float, calls: list):
    def probe(layer: nn.Module, x: torch.Tensor) -> LayerCost:
        calls.append(tuple(x.shape))
        return LayerCost(fp32=1.0, int8=int8_ms, converts=0.2, unit="M instructions")
    return probe


@pytest.mark.parametrize("int8_ms, kept", [(1.5, ["0", "1", "3"]), (1.1, [])])
def test_depthwise_class_kept_float_only_when_int8_costs_more_than_fp32_plus_converts(int8_ms, kept) -> None:
    calls: list = []
    names, records = float_where_int8_is_slower(_model(), (torch.randn(1, 8, 16, 16),), _probe(int8_ms, calls))
    assert names == kept
    assert len(calls) == 2  # layers 0 and 1 share one (layer, shape): probed once
    (record,) = records
    assert record["layers"] == 3 and record["shapes_probed"] == 2
    assert record["precision"] == ("fp32" if kept else "int8")
    assert record["int8"] == pytest.approx(3 * int8_ms) and record["converts"] == pytest.approx(0.6)
    assert record["fp32"] == pytest.approx(3.0) and record["unit"] == "M instructions"


def test_unknown_class_names_the_choices() -> None:
    with pytest.raises(UsageError, match="choose from: depthwise_conv"):
        float_where_int8_is_slower(_model(), (torch.randn(1, 8, 16, 16),), _probe(1.0, []), ("winograd",))
