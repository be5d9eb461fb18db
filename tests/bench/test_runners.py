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

pytestmark = pytest.mark.converter

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
    assert profile.total_ms and profile.total_ms > 0 and profile.method
    assert len({r.name for r in profile.records}) == len(profile.records)  # names are unique
    assert _op_classes(profile.records, OP_CLASSES[fmt]) == TINY_AV_OPS, [r.op_type for r in profile.records]


# TinyAV per inference: 4 convolutions (2 visual, the audio Conv1d, the 1x1 head), 2 sigmoids, 1 global max
# pool, 1 bilinear resize: each runtime's profile must show exactly these, under its own op names.
TINY_AV_OPS = {"conv": 4, "sigmoid": 2, "max_pool": 1, "resize": 1}
OP_CLASSES = {
    "executorch": {"conv": ("Convolution", "Fully Connected"), "sigmoid": ("Sigmoid",),
                   "max_pool": ("Max Pooling",), "resize": ("Resize Bilinear",)},
    "litert": {"conv": ("CONV_2D", "DEPTHWISE_CONV_2D"), "sigmoid": ("LOGISTIC",), "max_pool": ("REDUCE_MAX",),
               "resize": ("RESIZE_BILINEAR",)},
    "onnx": {"conv": ("Conv", "FusedConv"), "sigmoid": ("Sigmoid",), "max_pool": ("ReduceMax",), "resize": ("Upsample", "Resize")},
    "eager": {"conv": ("aten::conv2d", "aten::conv1d"), "sigmoid": ("aten::sigmoid",),
              "max_pool": ("aten::adaptive_max_pool2d",), "resize": ("aten::upsample_bilinear2d",)},
}


def _op_classes(records, classes: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Calls per inference of each op class, matching op types exactly (by name, or name + ' (' for XNNPACK's)."""
    def member(op_type: str, names: tuple[str, ...]) -> bool:
        return any(op_type == n or op_type.startswith(n + " (") for n in names)
    return {c: sum(r.calls for r in records if member(r.op_type, names)) for c, names in classes.items()}


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
    assert all(r.op_type.startswith("aten::") for r in p.records)
    # aten::conv2d wraps the three 2-D convolutions; the audio Conv1d is aten::conv1d
    assert _op_classes(p.records, OP_CLASSES["eager"]) == TINY_AV_OPS, [(r.op_type, r.calls) for r in p.records]


def test_bad_thread_count_is_one_line(tiny_artifacts) -> None:
    with pytest.raises(ExportError, match="at least 1"):
        open_artifact(tiny_artifacts["onnx"], threads=0)
