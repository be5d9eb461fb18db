"""`edgeav eval --artifact`: the exported file itself, scored on held-out data, agrees with the eager model it came from.

The success path of artifact scoring end to end (export through the CLI, reopen from the manifest, score): the ONNX
artifact of the small LightAVSeg at its seeded initialisation, against `edgeav eval --model` of the same weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeav.cli.main import main

pytestmark = pytest.mark.slow

DATA = "synthetic-ms3:scenes=6,image_size=64"


def _scores(argv: list[str], out: Path) -> dict:
    assert main([*argv, "--data", DATA, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_artifact_scores_equal_the_eager_model_scores(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert main(["export", "--model", "lightavseg", "--config", "small", "--target", "onnx", "--out", str(dist)]) == 0
    (artifact,) = dist.glob("*.onnx")
    from_file = _scores(["eval", "--artifact", str(artifact)], tmp_path / "artifact.json")
    from_model = _scores(["eval", "--model", "lightavseg", "--config", "small"], tmp_path / "eager.json")
    assert from_file["frames"] == from_model["frames"] > 0
    for key in ("miou", "fscore"):
        assert from_file[key] == pytest.approx(from_model[key], abs=1e-3), key
