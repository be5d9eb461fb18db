"""`--precision-by-cost`: which devices can decide an int8 plan, and the requests that cannot be planned."""
from __future__ import annotations

import pytest

from bench.devices.cost_probes import cost_probe_for
from edgeav.errors import DeviceError, UsageError
from export_targets.executorch.probe import probe_layer
from export_targets.request import ExportRequest


def test_host_resolves_to_the_host_probe() -> None:
    assert cost_probe_for("host") == ("host", probe_layer)


@pytest.mark.parametrize("spec, message", [("gpu", "choose host or arm"), ("host:x", "takes no argument"),
                                           ("arm:pentium", "pentium")])
def test_unknown_devices_are_one_line_errors(spec, message) -> None:
    with pytest.raises(UsageError, match=message):
        cost_probe_for(spec)


def test_arm_without_setup_says_how_to_set_it_up(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDGEAV_ARM_HOME", str(tmp_path / "empty"))
    with pytest.raises(DeviceError, match="--precision-by-cost arm: .*edgeav device setup arm"):
        cost_probe_for("arm")


def test_the_request_refuses_cost_planning_where_it_cannot_apply(tmp_path) -> None:
    with pytest.raises(UsageError, match="--precision-by-cost applies to --precision int8"):
        ExportRequest("executorch", tmp_path, "fp32", precision_by_cost="host")
    with pytest.raises(UsageError, match="a --qat-checkpoint already fixed"):
        ExportRequest("executorch", tmp_path, "int8", precision_by_cost="host", qat_checkpoint=tmp_path / "q.pt")
    with pytest.raises(UsageError, match="--cost-classes winograd: choose from depthwise_conv"):
        ExportRequest("executorch", tmp_path, "int8", precision_by_cost="host", cost_classes=("winograd",))
    request = ExportRequest("executorch", tmp_path, "int8", precision_by_cost="host", data="synthetic-ms3")
    with pytest.raises(UsageError, match="no cost probe was resolved"):
        request.int8_options()
    options = request.int8_options(("host", probe_layer))
    assert options.cost_probe is probe_layer and options.cost_device == "host"
    assert options.cost_classes == ("depthwise_conv",)
