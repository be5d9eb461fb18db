"""export_targets/onnx/peer.py: ORT's own QDQ int8 of an fp32 .onnx, with a manifest that says so."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def _conv_onnx(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    graph = helper.make_graph([helper.make_node("Conv", ["frames", "w"], ["mask"], pads=[1, 1, 1, 1])], "g",
                              [helper.make_tensor_value_info("frames", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 4, 8, 8])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    path.with_name(path.name + ".json").write_text(json.dumps({"model": "m", "config_name": "c", "precision": "fp32",
                                                               "parity": {"sqnr_db": 130.0}}))
    return path


def test_peer_is_qdq_int8_with_its_own_manifest(tmp_path: Path) -> None:
    import onnx

    from export_targets.onnx.peer import PRECISION, ort_static_int8

    fp32 = _conv_onnx(tmp_path / "m_fp32.onnx")
    feeds = [{"frames": np.random.default_rng(i).standard_normal((1, 3, 8, 8)).astype(np.float32)} for i in range(4)]
    out = ort_static_int8(fp32, feeds, tmp_path / "peer" / "m_int8-ort.onnx")
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    manifest = json.loads(out.with_name(out.name + ".json").read_text())
    assert manifest["precision"] == PRECISION and manifest["quantization"]["calibration_samples"] == 4
    assert "parity" not in manifest  # the fp32 graph's parity says nothing about this one


def test_peer_without_calibration_names_the_fix(tmp_path: Path) -> None:
    from edgeav.errors import ExportError
    from export_targets.onnx.peer import ort_static_int8

    with pytest.raises(ExportError, match="--data"):
        ort_static_int8(_conv_onnx(tmp_path / "m.onnx"), [], tmp_path / "q.onnx")
