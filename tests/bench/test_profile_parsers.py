"""Per-op record parsers on recorded runtime output (no runtime needed)."""
import pytest

from export_targets.eager import eager_profile
from export_targets.executorch.profile import records_from_events
from export_targets.onnx.profile import ort_profile


def test_etdump_events_become_records_unique_per_delegate() -> None:
    events = [
        ("Method::init", [1.0], []),
        ("Convolution (NHWC, F32) IGEMM #1", [9.0, 2.0, 2.2], []),
        ("Transpose (ND, X32) #1", [1.0, 0.1, 0.1], []),
        ("DELEGATE_CALL", [11.0, 2.5, 2.5], []),
        ("native_call_mean.out", [0.5, 0.3, 0.3], ["aten.mean.dim"]),
        ("OPERATOR_CALL", [0.6, 0.4, 0.4], []),
        ("Transpose (ND, X32) #1", [1.0, 0.2, 0.2], []),
        ("DELEGATE_CALL", [1.2, 0.3, 0.3], []),
        ("native_call_mean.out", [0.5, 0.1, 0.1], ["aten.mean.dim"]),
        ("Method::execute", [14.0, 3.5, 3.7], []),
    ]
    p = records_from_events(events, skip=1)
    by = {r.name: r for r in p.records}
    assert set(by) == {"Convolution (NHWC, F32) IGEMM #1 @d0", "Transpose (ND, X32) #1 @d0",
                       "Transpose (ND, X32) #1 @d1", "native_call_mean.out"}
    conv = by["Convolution (NHWC, F32) IGEMM #1 @d0"]
    assert conv.delegated and conv.backend == "XNNPACK" and conv.op_type == "Convolution (NHWC, F32) IGEMM"
    assert conv.ms == pytest.approx(2.1)  # median of the two runs after the warm-up
    mean = by["native_call_mean.out"]
    assert not mean.delegated and mean.calls == 2 and mean.ms == pytest.approx(0.4) and mean.op_type == "aten.mean.dim"
    assert p.runs == 2 and p.total_ms == pytest.approx(3.6)


def _node(name: str, ts: int, dur: int, op: str) -> dict:
    return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur,
            "args": {"op_name": op, "provider": "CPUExecutionProvider"}}


def test_ort_trace_drops_warmup_runs_and_takes_node_medians() -> None:
    trace = [{"cat": "Session", "name": "model_run", "ts": t, "dur": d} for t, d in ((0, 900), (1000, 300), (2000, 500))]
    trace += [_node("conv", 10, 800, "Conv"), _node("conv", 1010, 200, "Conv"), _node("conv", 2010, 400, "Conv"),
              _node("relu", 1300, 50, "Relu"), _node("relu", 2300, 70, "Relu")]
    p = ort_profile(trace, skip=1)
    by = {r.name: r for r in p.records}
    assert by["conv"].ms == pytest.approx(0.3) and by["conv"].op_type == "Conv"
    assert by["relu"].ms == pytest.approx(0.06)
    assert p.runs == 2 and p.total_ms == pytest.approx(0.4)


def test_eager_keeps_aten_self_times_per_inference() -> None:
    p = eager_profile([("aten::conv2d", 0.0, 10), ("aten::mkldnn_convolution", 20.0, 10),
                       ("ProfilerStep*", 5.0, 10), ("aten::add", 1.0, 20)], runs=10)
    by = {r.name: r for r in p.records}
    assert set(by) == {"aten::mkldnn_convolution", "aten::add"}
    assert by["aten::mkldnn_convolution"].ms == pytest.approx(2.0) and by["aten::add"].calls == 2
