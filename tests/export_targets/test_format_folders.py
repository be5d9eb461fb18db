"""Each format is one folder: its INFO row, lowering, runner and profiler, opened only through the table."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from edgeav.errors import ExportError, MissingDependencyError, UsageError
from edgeav.models.rewrites import get_check, get_rewrite
from export_targets import formats
from export_targets.formats import FORMATS, open_artifact
from export_targets.runtime import ArtifactRunner
from export_targets.target import TargetInfo

PACKAGE = Path(formats.__file__).parent


@pytest.mark.parametrize("info", FORMATS, ids=lambda i: i.name)
def test_each_format_folder_holds_its_steps(info: TargetInfo) -> None:
    assert info.package == f"export_targets.{info.name}"
    assert callable(importlib.import_module(f"{info.package}.lower").lower)
    runner = importlib.import_module(f"{info.package}.runner")
    assert callable(runner.inspect) and issubclass(runner.RUNNER, ArtifactRunner)


@pytest.mark.parametrize("info", FORMATS, ids=lambda i: i.name)
def test_format_rewrites_and_checks_are_known_model_layer_names(info: TargetInfo) -> None:
    assert [get_rewrite(n).name for n in info.rewrites] == list(info.rewrites)
    assert [get_check(n).name for n in info.checks] == list(info.checks)


@pytest.mark.parametrize("info", FORMATS, ids=lambda i: i.name)
def test_a_format_with_int8_points_to_its_quantize_recipe(info: TargetInfo) -> None:
    has_recipe = (PACKAGE / info.name / "recipe.py").is_file()
    assert has_recipe == ("int8" in info.precisions)
    if has_recipe:
        assert importlib.import_module(f"{info.package}.recipe").RECIPE.name == info.name


def test_the_xnnpack_formats_want_the_rewrites_their_delegate_needs() -> None:
    by_name = {f.name: f for f in FORMATS}
    assert "adaptive_max_pool_to_max_pool" in by_name["executorch"].rewrites  # XNNPACK delegates max pooling
    assert "adaptive_max_pool_to_amax" in by_name["litert"].rewrites  # LiteRT lowers amax to REDUCE_MAX
    assert by_name["onnx"].rewrites == ()  # ONNX has GridSample and every pooling op


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports, deferred imports included (``from pkg import mod`` counts as ``pkg.mod``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}.{a.name}" for a in node.names)
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_export_targets_has_no_import_circle() -> None:
    modules = {
        ".".join(("export_targets", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}

    def circle_from(start: str, at: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in graph[at]:
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = circle_from(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    circles = [c for m in graph if (c := circle_from(m, m, (m,)))]
    assert not circles, f"import circle: {' -> '.join(circles[0])}"


def test_format_folders_do_not_import_the_table() -> None:
    """The table imports the folders' INFO; a folder reaching back would point table and format at each other."""
    for info in FORMATS:
        for path in (PACKAGE / info.name).glob("*.py"):
            assert "export_targets.formats" not in _imports(path), path


def test_open_artifact_refuses_an_unknown_suffix_and_a_missing_runtime(monkeypatch, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an artifact edgeav knows"):
        open_artifact(tmp_path / "model.bin")
    monkeypatch.setattr(TargetInfo, "runtime_module", lambda self: None)
    with pytest.raises(MissingDependencyError, match=r"no ONNX runtime to open m\.onnx; install it with: pip install 'edgeav\[onnx\]'"):
        open_artifact(tmp_path / "m.onnx")


def test_coreml_runner_is_an_artifact_runner_that_refuses_off_macos(monkeypatch, tmp_path: Path) -> None:
    from export_targets.coreml.runner import CoreMLRunner

    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(ExportError, match="Core ML runs only on macOS"):
        CoreMLRunner(tmp_path / "m.mlpackage", threads=1)


def test_a_bad_thread_count_is_refused_before_the_runtime_loads(tmp_path: Path) -> None:
    from export_targets.onnx.runner import ONNXRunner

    with pytest.raises(ExportError, match=r"thread count must be at least 1 \(got 0\)"):
        ONNXRunner(tmp_path / "missing.onnx", threads=0)
