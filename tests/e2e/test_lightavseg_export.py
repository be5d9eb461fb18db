"""LightAVSeg at paper size through `edgeav export --target all`: the issue's end-to-end check, run once in CI.

About three minutes on two cores (ExecuTorch lowering dominates; formats lower in two worker processes).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from edgeav.cli.main import main
from edgeav.registry import LoadedModel, load_model
from export_targets import open_artifact
from export_targets.parity import sqnr_db

pytestmark = pytest.mark.slow

FORMATS = {"executorch": ".pte", "litert": ".tflite", "coreml": ".mlpackage", "onnx": ".onnx"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "paper"
    assert main(["export", "--model", "lightavseg", "--target", "all", "--out", str(out)]) == 0
    return out


def _manifest(dist: Path, suffix: str) -> dict:
    (artifact,) = [p for p in dist.iterdir() if p.name.endswith(suffix)]
    return json.loads((dist / f"{artifact.name}.json").read_text())


def test_four_artifacts_and_manifests_nothing_else(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert len(names) == 8, names
    for suffix in FORMATS.values():
        assert any(n.endswith(suffix) for n in names) and any(n.endswith(f"{suffix}.json") for n in names)


@pytest.fixture(scope="module")
def eager() -> LoadedModel:
    return load_model("lightavseg", "paper")  # what the export built: the seeded initialisation


@pytest.mark.parametrize("fmt", ["executorch", "litert", "onnx"])
def test_saved_artifacts_match_eager_on_fresh_scenes(dist: Path, eager: LoadedModel, fmt: str) -> None:
    """The reopened file against the eager model on scenes the export's parity check never saw (not its verdict)."""
    assert _manifest(dist, FORMATS[fmt])["parity"]["status"] == "passed"
    (path,) = [p for p in dist.iterdir() if p.name.endswith(FORMATS[fmt])]
    runner = open_artifact(path, eager.entry.io_spec(eager.config))
    for inputs in eager.entry.samples(eager.config, 2, 4321):
        with torch.no_grad():
            want = eager.model.eval()(*inputs).numpy()
        (got,) = runner.run(list(inputs))
        assert sqnr_db(want, got) > 60.0 and float(abs(got - want).max()) < 1e-3, fmt


def test_whole_model_runs_inside_one_xnnpack_delegate(dist: Path) -> None:
    delegation = _manifest(dist, ".pte")["lowering"]["delegation"]
    assert delegation["portable_ops"] == 0 and delegation["delegated_subgraphs"] == 1


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS the Core ML package runs and parity is measured")
def test_coreml_package_is_fp16_with_the_spec_io(dist: Path) -> None:
    m = _manifest(dist, ".mlpackage")
    assert m["precision"] == "fp16" and m["parity"]["status"] == "skipped"
    assert m["artifact_io"] == {"inputs": ["frames", "audio"], "outputs": ["mask"]}
    assert {"conv", "log", "upsample_bilinear"} <= set(m["ops"])
