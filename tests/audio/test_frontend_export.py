"""LogMelFrontEnd lowered to real phone runtimes: ExecuTorch XNNPACK, LiteRT (both run), Core ML (converts).

Slow (~10-30 s per backend and config). Each test skips with a reason when its backend is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from audio_cases import CONFIGS, LOG_TOL, realistic_pcm

from edgeav.audio import LogMelFrontEnd, reference_logmel

pytestmark = pytest.mark.converter


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def case(request: pytest.FixtureRequest) -> tuple[LogMelFrontEnd, torch.Tensor, np.ndarray]:
    """(front end in eval mode, example input [1, 16000], float64 reference [frames, n_mels])."""
    config = CONFIGS[request.param]
    pcm = realistic_pcm()
    # .contiguous(): ExecuTorch rejects example inputs with a 0 stride.
    return LogMelFrontEnd(config).eval(), torch.from_numpy(pcm).unsqueeze(0).contiguous(), reference_logmel(pcm, config)


def assert_matches_reference(output: np.ndarray, reference: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(output).reshape(reference.shape), reference, rtol=0, atol=LOG_TOL)


def test_executorch_xnnpack_runs_fully_delegated(case, tmp_path: Path) -> None:
    pytest.importorskip("executorch", reason="executorch not installed (pip install edgeav[executorch])")
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    frontend, pcm, reference = case
    edge = to_edge_transform_and_lower(torch.export.export(frontend, (pcm,)), partitioner=[XnnpackPartitioner()])
    graph = edge.exported_program().graph_module.graph
    left_out = [n.target for n in graph.nodes if n.op == "call_function" and "getitem" not in str(n.target)
                and "executorch_call_delegate" not in str(n.target)]
    assert left_out == [], f"ops left on portable kernels: {left_out}"
    path = tmp_path / "logmel.pte"
    path.write_bytes(edge.to_executorch().buffer)
    method = Runtime.get().load_program(path).load_method("forward")
    assert_matches_reference(method.execute([pcm])[0].numpy(), reference)


def test_litert_runs(case, tmp_path: Path) -> None:
    litert_torch = pytest.importorskip("litert_torch", reason="litert-torch not installed (pip install edgeav[tflite])")
    interpreter_mod = pytest.importorskip(
        "ai_edge_litert.interpreter", reason="ai-edge-litert not installed (pip install edgeav[tflite])"
    )
    frontend, pcm, reference = case
    path = tmp_path / "logmel.tflite"
    litert_torch.convert(frontend, (pcm,)).export(str(path))
    interpreter = interpreter_mod.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pcm.numpy())
    interpreter.invoke()
    assert_matches_reference(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), reference)


def test_coreml_converts_in_float32(case) -> None:
    ct = pytest.importorskip("coremltools", reason="coremltools not installed (pip install edgeav[coreml])")
    frontend, pcm, _ = case
    program = torch.export.export(frontend, (pcm,)).run_decompositions({})
    # FLOAT32 on purpose: in FP16 amin=1e-10 rounds to 0 and PANNs power can pass 65504 (see frontend.py).
    model = ct.convert(
        program, convert_to="mlprogram", skip_model_load=True, compute_precision=ct.precision.FLOAT32
    )
    op_types = {op.op_type for f in model._mil_program.functions.values() for op in f.operations}
    assert {"conv", "linear", "log"} <= op_types
