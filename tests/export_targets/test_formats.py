"""The format table drives target presets, precision checks and dependency errors."""
from __future__ import annotations

import pytest

from edgeav.errors import MissingDependencyError, UsageError
from export_targets import FORMATS, PRESETS, export_formats, resolve_targets
from export_targets.target import TargetInfo
from export_targets.formats import (
    check_installed,
    check_precision,
    format_info,
    format_of,
)


def names(spec: str) -> list[str]:
    return [t.name for t in resolve_targets(spec)]


def test_presets_expand_in_order() -> None:
    assert names("android") == ["executorch", "litert"]
    assert names("ios") == ["coreml", "executorch"]
    assert names("all") == ["executorch", "litert", "coreml", "onnx"]


def test_comma_list_mixes_presets_and_formats_without_duplicates() -> None:
    assert names("onnx, android,executorch") == ["onnx", "executorch", "litert"]


def test_unknown_target_names_the_choices() -> None:
    with pytest.raises(UsageError, match=r"unknown target 'ipad'.*android, ios, all.*executorch, litert, coreml, onnx"):
        resolve_targets("ipad")


def test_int8_on_a_format_without_int8_names_the_formats_that_have_it() -> None:
    check_precision("int8", resolve_targets("android"))  # .pte and .tflite both write int8
    with pytest.raises(UsageError, match=r"onnx has no int8 export \(it writes fp32\); export int8 with --target "
                                         r"executorch,litert,coreml"):
        check_precision("int8", resolve_targets("all,onnx"))


def test_a_preset_at_int8_is_every_format_of_it_that_has_int8() -> None:
    assert [t.name for t in resolve_targets("all", "int8")] == ["executorch", "litert", "coreml"]
    assert [t.name for t in resolve_targets("all", "fp32")] == ["executorch", "litert", "coreml", "onnx"]
    with pytest.raises(UsageError, match="onnx has no int8"):  # named explicitly: refused, not dropped
        check_precision("int8", resolve_targets("android,onnx", "int8"))


def test_unknown_precision_names_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown precision 'fp64'.*fp32"):
        check_precision("fp64", resolve_targets("android"))


def test_coreml_exports_fp32_request_as_fp16_compute() -> None:
    assert format_info("coreml").precisions["fp32"] == "fp16"
    assert all(f.precisions["fp32"] == "fp32" for f in FORMATS if f.name != "coreml")


def test_missing_module_names_the_pip_extra() -> None:
    fake = TargetInfo(name="fake", package="x", title="Fake", suffix=".x", precisions={"fp32": "fp32"},
                      requires=("surely_not_installed_mod",), runtimes=(), pip_extra="fake")
    with pytest.raises(MissingDependencyError, match=r"pip install 'edgeav\[fake\]'"):
        check_installed((fake,))


def test_table_rows_cover_every_format_and_say_where_they_run() -> None:
    rows = export_formats()
    assert [r["format"] for r in rows] == [f.name for f in FORMATS]
    coreml = next(r for r in rows if r["format"] == "coreml")
    assert coreml["suffix"] == ".mlpackage"
    assert isinstance(coreml["runs_here"], bool)
    assert set(PRESETS) == {"android", "ios", "all"}


def test_artifact_format_comes_from_its_suffix() -> None:
    assert format_of("dist/m_small_fp16.mlpackage").name == "coreml"
    assert format_of("m.tflite").name == "litert"
    with pytest.raises(UsageError, match=r"not an artifact edgeav knows; suffixes: \.pte"):
        format_of("m.bin")
