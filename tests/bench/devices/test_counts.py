"""Instruction counts from the plugin's lines, ARM parity verdicts, and the device table."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bench.devices import parity as parity_mod
from bench.devices.counts import executorch_ops, named_regions, parse_plugin_log, per_inference
from bench.devices.parity import compare, device_parity, grid_step
from bench.devices.table import DEVICES, get_device
from bench.request import BenchRequest
from bench.targets import BenchTarget
from edgeav.errors import DeviceError, UsageError

LOG = """noise from qemu
marker 1 insns 500 delta 500
region 1 insns 70
region 0 insns 100
region 1 insns 60
region 0 insns 90
marker 2 insns 690 delta 190
total insns 800
"""


def test_plugin_lines_give_the_counted_work_per_inference() -> None:
    log = parse_plugin_log(LOG)
    assert log.markers == ((1, 500, 500), (2, 690, 190)) and log.regions == ((1, 70), (0, 100), (1, 60), (0, 90))
    assert log.total == 800 and per_inference(log, 2) == 95
    with pytest.raises(DeviceError, match="no start/end markers"):
        parse_plugin_log("total insns 5\n").counted()


def test_regions_must_match_the_names_one_to_one() -> None:
    log = parse_plugin_log(LOG)
    assert named_regions(["DELEGATE_CALL", "Method::execute"] * 2, log)[2] == ("DELEGATE_CALL", 1, 60)
    with pytest.raises(DeviceError, match="named 3 regions but the plugin counted 4"):
        named_regions(["a", "b", "c"], log)


def test_executorch_ops_keep_the_counted_runs_sum_repeats_and_skip_wrappers() -> None:
    warm = [("DELEGATE_CALL", 1, 999), ("Method::execute", 0, 1500)]
    run = [("native_call_add.out", 2, 10), ("OPERATOR_CALL", 1, 12), ("DELEGATE_CALL", 1, 300),
           ("native_call_add.out", 2, 20), ("OPERATOR_CALL", 1, 22), ("Method::execute", 0, 400)]
    second = [(n, d, c + 2 if n == "DELEGATE_CALL" else c) for n, d, c in run[:-1]] + [("Method::execute", 0, 402)]
    ops, notes = executorch_ops([("Method::init", 1, 5), ("Program::load_method", 0, 9), *warm, *run, *second], 2)
    by_name = {o.name: (o.instructions, o.calls, o.op_type, o.delegated) for o in ops}
    assert by_name == {"native_call_add.out": (30, 2, "aten.add", False), "DELEGATE_CALL @d0": (301, 1, "DELEGATE_CALL", True)}
    assert notes and "differ by up to 2" in notes[0]  # within one process; repeated processes count the same


def test_compare_and_the_grid_of_a_dequantized_output() -> None:
    max_abs, sqnr = compare([np.ones((2, 2))], [np.ones(4)], "m")
    assert max_abs == 0.0 and math.isinf(sqnr)
    with pytest.raises(DeviceError, match="returned 2 outputs, the host 1"):
        compare([np.ones(2)], [np.ones(2), np.ones(2)], "m")
    assert grid_step(np.array([0.0, 0.5, 1.5, 2.0]) * 0.01) == pytest.approx(0.005)
    assert grid_step(np.random.default_rng(0).random(4000)) is None  # float values: on no grid


class _Runner:
    def __init__(self, outputs):
        self.outputs = outputs

    def run(self, inputs):
        return self.outputs


@pytest.mark.parametrize(("precision", "arm", "host_ok"), [
    ("fp32", 0.5 + 5e-6, True), ("fp32", 0.5 + 5e-5, False),
    ("int8", 0.5 + 0.25, True), ("int8", 0.5 + 0.5, False),  # host output grid: steps of 0.25
])
def test_parity_verdicts_against_the_host(monkeypatch, precision: str, arm: float, host_ok: bool) -> None:
    host = [np.array([0.0, 0.25, 0.5, 1.0], dtype=np.float32)]
    target = BenchTarget(label="m", format="executorch", model="tinyav", config="small", precision=precision)
    monkeypatch.setattr(BenchTarget, "inputs", lambda self, seed=0: ())
    monkeypatch.setattr(BenchTarget, "open", lambda self, threads: _Runner(host))
    monkeypatch.setattr(parity_mod, "eager_twin", lambda t: t)
    rows = device_parity(target, [np.array([0.0, 0.25, arm, 1.0], dtype=np.float32)])
    assert [r.against for r in rows] == ["host", "eager"] and rows[0].passed is host_ok
    assert rows[1].passed is (None if precision == "int8" else True)  # int8 vs fp32 eager: reported only


def test_the_device_table_names_each_device_and_its_defaults() -> None:
    assert set(DEVICES) == {"host", "adb", "arm"}
    assert get_device("arm").name == "arm:cortex-a76" and get_device("arm:max").transport.cpu == "max"
    with pytest.raises(UsageError, match="unknown ARM CPU model 'a53'; choose one of: cortex-a76, neoverse-n1"):
        get_device("arm:a53")
    with pytest.raises(UsageError, match="takes no argument"):
        get_device("host:2")
    with pytest.raises(UsageError, match=r"choose one of: host, adb\[:SERIAL\], arm\[:CPU\]"):
        get_device("iphone")


def test_the_request_takes_run_counts_and_thread_limits_from_the_device() -> None:
    arm = BenchRequest(("m.pte",), device="arm", profiles=())
    assert (arm.runs, arm.warmup) == (1, 1)
    assert (BenchRequest(("m.pte",), profiles=()).runs, BenchRequest(("m.pte",), device="arm", runs=3, profiles=()).runs) == (50, 3)
    with pytest.raises(UsageError, match="run with --threads 1"):
        BenchRequest(("m.pte",), device="arm:neoverse-n1", threads=2, profiles=())


def _graph(tail: list[str]) -> dict:
    """An XNNPACK graph JSON: an int8 tensor 0 (scale 0.02) converted to fp32, then ``tail`` ops, output last."""
    values = [{"xvalue_union_type": "XNNQuantizedTensorValue",
               "xvalue_union": {"tensor_value": {"id_out": 0}, "quant_params_type": "PerTensorQuant",
                                "quant_params": {"scale": 0.02, "zero_point": 3}}}]
    nodes = []
    for i, kind in enumerate(["XNNConvert", *tail]):
        values.append({"xvalue_union_type": "XNNTensorValue", "xvalue_union": {"id_out": i + 1}})
        nodes.append({"xnode_union_type": kind, "xnode_union": {"input_id": i, "output_id": i + 1}})
    return {"xvalues": values, "xnodes": nodes, "output_ids": [len(nodes)]}


def test_the_pte_output_step_is_the_last_int8_scale_through_a_non_expanding_tail() -> None:
    from bench.devices.pte_quant import graph_output_step

    assert graph_output_step(_graph(["XNNStaticResizeBilinear2D", "XNNSigmoid", "XNNStaticTranspose"])) == 0.02
    assert graph_output_step(_graph(["XNNMultiply"])) is None  # a float op that may widen a step: no step
