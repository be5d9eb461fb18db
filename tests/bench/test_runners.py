"""The shared runners on real TinyAV artifacts: per-op records from each runtime's profiler."""
from __future__ import annotations

import numpy as np
import pytest

from edgeav.errors import ExportError
from export_targets.eager import EagerRunner
from export_targets.executorch.runner import ExecuTorchRunner
from export_targets.formats import get_target, open_artifact
from export_targets.litert.profile import single_op_model
from export_targets.litert.runner import LiteRTRunner
from export_targets.onnx.runner import ONNXRunner

pytestmark = pytest.mark.slow

EXPECTED = {"executorch": ExecuTorchRunner, "litert": LiteRTRunner, "onnx": ONNXRunner}


@pytest.mark.parametrize("fmt", ["executorch", "litert", "onnx"])
def test_export_verification_and_the_harness_share_one_runner_class(tiny_artifacts, tiny_av_entry, fmt) -> None:
    spec = tiny_av_entry.io_spec(tiny_av_entry.config("small"))
    assert type(get_target(fmt).load(tiny_artifacts[fmt], spec)) is EXPECTED[fmt]
    assert type(open_artifact(tiny_artifacts[fmt], spec, threads=1)) is EXPECTED[fmt]


@pytest.mark.parametrize("fmt", ["executorch", "litert", "onnx"])
def test_runners_profile_per_op_and_agree_with_eager(tiny_artifacts, tiny_av_entry, fmt) -> None:
    cfg = tiny_av_entry.config("small")
    spec, sample = tiny_av_entry.io_spec(cfg), tiny_av_entry.samples(cfg, 1, 0)[0]
    runner = open_artifact(tiny_artifacts[fmt], spec, threads=1)
    eager = EagerRunner(tiny_av_entry.build("small"), spec, threads=1)
    np.testing.assert_allclose(runner.run(sample)[0], eager.run(sample)[0], atol=1e-5)
    profile = runner.profile(sample, runs=3, warmup=1)
    assert profile.records and all(r.ms >= 0 and r.calls >= 1 for r in profile.records)
    assert profile.total_ms and profile.total_ms > 0 and profile.method
    assert len({r.name for r in profile.records}) == len(profile.records)  # names are unique


def test_executorch_records_the_xnnpack_internal_ops(tiny_artifacts, tiny_av_entry) -> None:
    cfg = tiny_av_entry.config("small")
    p = open_artifact(tiny_artifacts["executorch"], tiny_av_entry.io_spec(cfg)).profile(
        tiny_av_entry.samples(cfg, 1, 0)[0], runs=2, warmup=1)
    convs = [r for r in p.records if r.op_type.startswith("Convolution")]
    assert convs and all(r.delegated and r.backend == "XNNPACK" for r in convs)


def test_litert_isolates_every_op_and_marks_what_xnnpack_took(tiny_artifacts, tiny_av_entry) -> None:
    from ai_edge_litert.tools import flatbuffer_utils as fb

    path = tiny_artifacts["litert"]
    model = fb.read_model(str(path))
    n_ops = len(model.subgraphs[0].operators)
    one = single_op_model(model, 0)
    assert len(one.subgraphs[0].operators) == 1 and len(one.operatorCodes) == 1
    cfg = tiny_av_entry.config("small")
    p = open_artifact(path, tiny_av_entry.io_spec(cfg)).profile(tiny_av_entry.samples(cfg, 1, 0)[0], runs=2, warmup=1)
    assert len(p.records) == n_ops
    assert any(r.op_type == "CONV_2D" and r.delegated for r in p.records)
    assert "isolation" in p.method and p.notes[0].startswith("sum of isolated ops")


def test_eager_profile_reports_aten_ops(tiny_av_entry) -> None:
    cfg = tiny_av_entry.config("small")
    p = EagerRunner(tiny_av_entry.build("small"), threads=1).profile(tiny_av_entry.samples(cfg, 1, 0)[0], runs=2)
    assert any("conv" in r.op_type for r in p.records) and all(r.op_type.startswith("aten::") for r in p.records)


def test_bad_thread_count_is_one_line(tiny_artifacts) -> None:
    with pytest.raises(ExportError, match="at least 1"):
        open_artifact(tiny_artifacts["onnx"], threads=0)
