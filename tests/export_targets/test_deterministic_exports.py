"""The same model, inputs and precision give byte-identical .pte and .tflite files: each format is lowered
here and again in a fresh process with another hash seed (so no cache, id() or set order can leak in)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeav.models.rewrites import rewrite_for_target
from export_targets.formats import get_target
from export_targets.target import LoweringRequest

pytestmark = pytest.mark.converter

FORMATS = {"executorch": ".pte", "litert": ".tflite"}

FRESH_PROCESS = """
import sys
sys.path.insert(0, sys.argv[1])
import torch
from tiny_av import TINY_AV
from test_deterministic_exports import FORMATS, lower

torch.set_num_threads(1)
for fmt, suffix in FORMATS.items():
    lower(TINY_AV, fmt, f"{sys.argv[2]}/{fmt}{suffix}")
"""


def lower(entry, fmt: str, dest: Path | str) -> str:
    """Lower ``entry``'s small config to ``dest`` as the pipeline does (its rewrites, then the format); the sha256."""
    target = get_target(fmt)
    config = entry.config("small")
    model, _, _ = rewrite_for_target(entry.build("small"), target.info.rewrites, target.info.checks)
    target.lower(LoweringRequest(model, entry.samples(config, 1, 0)[0], entry.io_spec(config), "fp32", Path(dest)))
    return hashlib.sha256(Path(dest).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both formats lowered in a new interpreter with a different PYTHONHASHSEED."""
    out = tmp_path_factory.mktemp("fresh")
    paths = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS, paths[1], str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_inputs_give_byte_identical_artifacts(fmt: str, fresh: Path, tiny_av_entry, tmp_path: Path) -> None:
    here = lower(tiny_av_entry, fmt, tmp_path / f"{fmt}{FORMATS[fmt]}")
    there = hashlib.sha256((fresh / f"{fmt}{FORMATS[fmt]}").read_bytes()).hexdigest()
    assert here == there, f"two {fmt} lowerings of the same model differ"
