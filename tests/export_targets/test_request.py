"""ExportRequest: validated once, as it is built, for the CLI and the Python API alike."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgeav.errors import UsageError
from export_targets.request import PRECISION_ARGUMENTS, ExportRequest


def test_a_valid_request_resolves_its_formats(tmp_path: Path) -> None:
    request = ExportRequest("android", tmp_path, samples=2, jobs=2)
    assert request.format_names == ["executorch", "litert"]
    assert request.effective_jobs == 2 and request.notices == ()


@pytest.mark.parametrize("name", sorted(PRECISION_ARGUMENTS))
def test_every_int8_argument_is_refused_at_fp32(name: str, tmp_path: Path) -> None:
    value = {"qat_checkpoint": Path("q.pt"), "data": "synthetic-ms3", "max_drop": 1.0, "force": True,
             "keep_fp32": ("head*",), "calibration_batches": 4, "eval_limit": 5,
             "precision_by_cost": "host", "cost_classes": ("linear",)}[name]
    flag = "--" + name.replace("_", "-")
    with pytest.raises(UsageError, match=f"^{flag} applies to --precision int8; drop it or pass --precision int8$"):
        ExportRequest("onnx", tmp_path, **{name: value})


def test_int8_arguments_are_accepted_at_int8(tmp_path: Path) -> None:
    request = ExportRequest("executorch", tmp_path, "int8", data="synthetic-ms3", keep_fp32=["head*"], force=True)
    assert request.keep_fp32 == ("head*",)
    assert request.int8_options().keep_fp32 == ("head*",) and request.int8_options().force


def test_jobs_lowered_to_one_at_int8_is_said(tmp_path: Path) -> None:
    asked = ExportRequest("android", tmp_path, "int8", jobs=2, data="synthetic-ms3")
    assert asked.effective_jobs == 1
    assert asked.notices == ("--jobs 2 lowered to 1 at --precision int8: quantized graphs reference torchao's op "
                             "library, which spawned workers do not load",)
    assert ExportRequest("android", tmp_path, "int8", data="synthetic-ms3").notices == ()  # not asked: nothing to say


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"targets": "ipad"}, "unknown target 'ipad'"),
    ({"precision": "fp64"}, "unknown precision 'fp64'"),
    ({"targets": "onnx", "precision": "int8"}, "onnx has no int8 export"),
    ({"samples": 0}, "--samples must be at least 1"),
    ({"jobs": 0}, "--jobs must be at least 1"),
])
def test_bad_requests_are_one_line(kwargs: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=message) as err:
        ExportRequest(**{"out_dir": tmp_path, **kwargs})
    assert "\n" not in str(err.value)


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="is a file; pass a directory"):
        ExportRequest("onnx", tmp_path / "f")
