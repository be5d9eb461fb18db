"""bench/studies/: every driver imports, answers --help, and says how it is run (its name in a usage line)."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench.studies

STUDIES = sorted(m.name for m in pkgutil.iter_modules(bench.studies.__path__))


def test_the_studies_are_the_seven_drivers() -> None:
    assert STUDIES == ["bad_inputs", "int8_table", "mission_table", "paper_latencies", "pretrained_audio_trunk",
                       "reference_checkpoint", "thread_scaling"]


@pytest.mark.parametrize("name", STUDIES)
def test_each_study_answers_help_with_its_command(name: str, capsys) -> None:
    module = importlib.import_module(f"bench.studies.{name}")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    assert f"python -m bench.studies.{name}" in capsys.readouterr().out


def test_the_harness_imports_no_study() -> None:
    import ast
    from pathlib import Path

    harness = [p for p in Path(bench.__file__).parent.rglob("*.py") if "studies" not in p.parts]
    for path in harness:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("bench.studies"), f"{path} imports {node.module}"
