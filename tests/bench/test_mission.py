"""bench/studies/mission_table.py's table: artifacts that cannot run here are listed like the timed rows."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench.devices import RunSettings
from bench.harness import BenchReport
from bench.studies.mission_table import artifacts_in, markdown, runnable


def _mlpackage(folder: Path) -> Path:
    package = folder / "tiny_small_w8a16.mlpackage"
    (package / "Data").mkdir(parents=True)
    manifest = {"model": "tiny-av", "config_name": "small", "precision": "w8a16", "size_bytes": 12_345_678}
    (folder / (package.name + ".json")).write_text(json.dumps(manifest))
    return package


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs on macOS, so it is timed there, not listed")
def test_core_ml_row_names_format_precision_and_size(tmp_path: Path) -> None:
    package = _mlpackage(tmp_path)
    assert artifacts_in(tmp_path) == [package]
    targets, skipped = runnable([package])
    assert targets == []
    table = markdown(BenchReport(device="host", settings=RunSettings(runs=3, warmup=1)), skipped, ["sd8gen2"])
    row = next(line for line in table.splitlines() if "not run" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["Core ML .mlpackage", "w8a16", "12.3"]
    assert cells[3] == "not run: Core ML runs only on macOS"
    assert len(cells) == len(table.splitlines()[0].strip("|").split("|"))  # as many cells as the header
