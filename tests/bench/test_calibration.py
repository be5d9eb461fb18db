"""Host calibration: the efficiency arithmetic, record classes, the JSON file and its use by the harness."""
from __future__ import annotations

import json

import pytest

from bench.calibration import Calibration, class_times, record_class
from bench.cost import OpCost
from bench.estimate import class_floor_ms
from bench.profiles import CoreCluster, DeviceProfile
from edgeav.cli.main import main
from edgeav.errors import UsageError
from export_targets.runtime import OpRecord

# 1 GFLOP/s and 1 GB/s: an op with F GFLOPs and B GB costs max(F, B) seconds.
HOST = DeviceProfile("host", "host", (CoreCluster("h", 1, 1.0, 1, 4),), dram_gbs=1.0, source="test")
FAST = DeviceProfile("fast", "fast", (CoreCluster("f", 1, 1.0, 4, 16),), dram_gbs=2.0, source="test")
COSTS = (
    OpCost("convolution", flops=2e6, bytes=1e3, kind="gemm"),  # 2 ms of compute on HOST
    OpCost("convolution", flops=1e6, bytes=1e3, kind="depthwise"),  # 1 ms
    OpCost("add", flops=1e3, bytes=1e6, kind="elementwise"),  # 1 ms of traffic
)
META = {"artifact": "m.pte", "model": "m", "config": "paper", "runtime": "executorch", "precision": "fp32",
        "threads": 1, "clock": "thread CPU time"}


def xnn(op_type: str, ms: float) -> OpRecord:
    return OpRecord(name=f"{op_type} #1 @d1", op_type=op_type, backend="XNNPACK", delegated=True, ms=ms)


RECORDS = (xnn("Fully Connected (NC, F32) GEMM", 6.0), xnn("Convolution (NHWC, F32) DWConv", 1.5),
           xnn("Transpose (ND, X32)", 0.5))  # no Add record: XNNPACK fused it into a neighbour


def test_records_are_classed_by_the_kernel_the_runtime_names() -> None:
    assert record_class(xnn("Convolution (NHWC, F32) IGEMM", 1)) == "conv"
    assert record_class(xnn("Convolution (NHWC, F32) GEMM", 1)) == "gemm"
    assert record_class(xnn("Convolution (NHWC, F32) DWConv", 1)) == "depthwise"
    assert record_class(xnn("Multiply (ND)", 1)) == "elementwise"
    assert record_class(xnn("Softmax (NC, F32)", 1)) == "other"
    assert record_class(OpRecord("n", "Conv", "CPUExecutionProvider", False, 1.0)) is None  # dense, 1×1 or depthwise
    assert record_class(OpRecord("n", "MatMul", "CPUExecutionProvider", False, 1.0)) == "gemm"
    assert record_class(OpRecord("n", "aten::add", "ATen", False, 1.0)) == "elementwise"
    assert record_class(OpRecord("n", "aten::mkldnn_convolution", "ATen", False, 1.0)) is None


def test_efficiency_is_floor_over_measured_time_scaled_to_the_median() -> None:
    cal = Calibration.fit(COSTS, HOST, measured_ms=10.0, records=RECORDS, **META)
    # the 0.5 ms transpose has no floor: it is spread like dispatch over gemm (6) and depthwise (1.5)
    assert cal.method == "per-class"
    assert cal.class_ms["gemm"] == pytest.approx(6.0 * 10 / 7.5)
    assert cal.efficiency["gemm"] == pytest.approx(2.0 / 8.0)
    assert cal.efficiency["depthwise"] == pytest.approx(1.0 / 2.0)
    assert cal.efficiency["elementwise"] is None  # fused: no time of its own
    assert cal.whole_efficiency == pytest.approx(4.0 / 10.0)


def test_on_the_host_profile_the_calibrated_estimate_is_the_measured_median() -> None:
    cal = Calibration.fit(COSTS, HOST, measured_ms=10.0, records=RECORDS, **META)
    assert cal.apply(COSTS, HOST, 1).ms == pytest.approx(10.0)


def test_each_class_scales_with_its_own_roofline_on_the_device() -> None:
    cal = Calibration.fit(COSTS, HOST, measured_ms=10.0, records=RECORDS, **META)
    est = cal.apply(COSTS, FAST, 1)  # 4× the compute: gemm and depthwise take a quarter of their host time
    assert est.class_ms["gemm"] == pytest.approx(8.0 / 4)
    assert est.class_ms["depthwise"] == pytest.approx(2.0 / 4)
    assert est.class_ms["elementwise"] == 0.0


def test_a_class_the_calibration_never_saw_uses_the_whole_model_efficiency() -> None:
    cal = Calibration.fit(COSTS, HOST, measured_ms=10.0, records=RECORDS, **META)
    conv = (OpCost("convolution", flops=3e6, bytes=0.0, kind="conv"),)
    assert cal.apply(conv, HOST, 1).ms == pytest.approx(3.0 / 0.4)


def test_runs_whose_op_names_hide_the_class_fall_back_to_one_efficiency() -> None:
    onnx = (OpRecord("c", "Conv", "CPUExecutionProvider", False, 5.0), OpRecord("a", "Add", "CPUExecutionProvider", False, 1.0))
    cal = Calibration.fit(COSTS, HOST, measured_ms=8.0, records=onnx, **META)
    assert cal.method == "whole-model" and cal.efficiency == {}
    assert cal.apply(COSTS, FAST, 1).ms == pytest.approx(sum(class_floor_ms(COSTS, FAST, 1).values()) / 0.5)
    assert class_times(onnx) == ({"conv": 0.0, "depthwise": 0.0, "gemm": 0.0, "elementwise": 1.0, "other": 0.0}, 5.0)


def test_calibration_file_round_trips_and_bad_files_name_the_fix(tmp_path) -> None:
    cal = Calibration.fit(COSTS, HOST, measured_ms=10.0, records=RECORDS, **META)
    path = cal.save(tmp_path / "cal.json")
    assert Calibration.load(path) == cal
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something else"}))
    for bad in (tmp_path / "other.json", tmp_path / "missing.json"):
        with pytest.raises(UsageError, match="python -m bench.calibrate"):
            Calibration.load(bad)


def test_bench_refuses_a_calibration_of_another_thread_count(tmp_path, capsys) -> None:
    path = Calibration.fit(COSTS, HOST, measured_ms=10.0, **META).save(tmp_path / "cal.json")
    assert main(["bench", "eager:lightavseg:small", "--calibration", str(path), "--threads", "2"]) == 2
    assert "1-thread efficiencies" in capsys.readouterr().err
