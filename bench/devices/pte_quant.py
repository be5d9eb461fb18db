"""The output quantization step of an int8 .pte, read from its XNNPACK delegate's graph.

An int8 LightAVSeg .pte is one XNNPACK delegate whose last int8 tensor is converted to fp32 and then goes
through a float tail (bilinear resize, sigmoid, a layout transpose). The step that matters for ARM parity
is the scale of that last int8 tensor: each op of the tail maps a difference of one step to at most one
step (resize: convex weights; sigmoid: slope <= 1/4; transpose, copies, clamps: none), so ARM and host
agreeing to within that scale means "within one quantization step". Any other op in the tail: no step.

The delegate's graph is a flatbuffer (ExecuTorch's XNNPACK schema.fbs); it is read with the flatc the
executorch wheel ships, through the same private helpers ExecuTorch's own tools use.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

# Float ops that never widen a difference (Lipschitz constant <= 1), by XNNPACK node type.
_NON_EXPANDING = {"XNNStaticResizeBilinear2D", "XNNSigmoid", "XNNStaticTranspose", "XNNCopy", "XNNClamp",
                  "XNNStaticReshape", "XNNTanh", "XNNELU"}
_NON_FINITE = re.compile(rb"(?<=[:\s\[,])-?(inf|nan|infinity)(?=[\s,\]}])")


def xnnpack_graphs(pte: Path) -> list[dict[str, Any]]:
    """Every XNNPACK delegate graph of ``pte`` as a dict (the schema's JSON form)."""
    from executorch.backends.xnnpack.serialization.xnnpack_graph_serialize import XNNHeader
    from executorch.exir._serialize._flatbuffer import _flatc_decompile
    from executorch.exir._serialize._program import deserialize_pte_binary

    program = deserialize_pte_binary(Path(pte).read_bytes())
    program = getattr(program, "program", program)
    schema = Path(sys.modules[XNNHeader.__module__].__file__ or "").with_name("schema.fbs")
    graphs = []
    for blob in (d.data for d in program.backend_delegate_data):
        if blob[4:8] != XNNHeader.EXPECTED_MAGIC:
            continue
        h = XNNHeader.from_bytes(blob[: XNNHeader.EXPECTED_LENGTH])
        with tempfile.TemporaryDirectory(prefix="edgeav-xnn-") as tmp:
            d = Path(tmp)
            (d / "g.bin").write_bytes(blob[h.flatbuffer_offset: h.flatbuffer_offset + h.flatbuffer_size])
            shutil.copy(schema, d / "schema.fbs")
            _flatc_decompile(str(d), str(d / "schema.fbs"), str(d / "g.bin"), ["--raw-binary"])
            graphs.append(json.loads(_NON_FINITE.sub(b"0", (d / "g.json").read_bytes())))  # inf clamps: unused
    return graphs


def output_step(pte: Path) -> float | None:
    """The scale of the last int8 tensor before the first output, through a non-expanding float tail."""
    graphs = xnnpack_graphs(pte)
    if not graphs:
        return None
    return graph_output_step(graphs[-1])


def graph_output_step(graph: dict[str, Any]) -> float | None:
    values = {_value_id(v): v for v in graph["xvalues"]}
    producers = {n["xnode_union"].get("output_id"): n for n in graph["xnodes"]}
    current = graph["output_ids"][0]
    for _ in range(len(graph["xnodes"]) + 1):  # each step moves one node back
        scale = _scale(values.get(current))
        if scale:
            return scale
        node = producers.get(current)
        if node is None:
            return None
        kind = node["xnode_union_type"]
        if kind != "XNNConvert" and kind not in _NON_EXPANDING:
            return None
        current = node["xnode_union"]["input_id"]
    return None


def _value_id(value: dict[str, Any]) -> int:
    u = value["xvalue_union"]
    return int((u.get("tensor_value") or u)["id_out"])


def _scale(value: dict[str, Any] | None) -> float | None:
    if value is None or value["xvalue_union_type"] != "XNNQuantizedTensorValue":
        return None
    params = value["xvalue_union"].get("quant_params", {})
    scale = (params.get("scale") if isinstance(params, dict) else None)
    return float(scale) if isinstance(scale, (int, float)) and scale > 0 else None
