"""Issue 14's promise: a model is one folder and one registry line. ``toyseg/`` (segmentation) and ``toysal/``
(saliency) live here, outside ``edgeav/models``; each folder's ``entry.py`` ends in its one ``register(...)``.
Nothing else in the tree knows them, yet each exports (fp32 .pte; int8 .pte and .tflite), evaluates
(checkpoint and artifact) and passes the int8 accuracy gate on its task's headline metric through the
ordinary CLI. Slow: three lowerings per toy (about a minute of CPU each toy).
"""
from __future__ import annotations

import importlib
import json
import sys

import pytest
import torch

from edgeav import registry
from edgeav.cli.main import main
from edgeav.tasks import get_task

DATA = {"toyseg": "synthetic-ms3:scenes=5,image_size=64",
        "toysal": "synthetic-saliency:clips=5,frame_size=32-64,frames_per_clip=3"}


@pytest.fixture(scope="module")
def toys():
    """The registry holding only what the toy folders register when their entry.py is imported."""
    patch = pytest.MonkeyPatch()
    patch.setattr(registry, "_REGISTRY", {})
    patch.setattr(registry, "_discovered", True)
    for name in ("toyseg.entry", "toysal.entry"):  # importing the folder is what registers it
        module = sys.modules.get(name)
        importlib.reload(module) if module is not None else importlib.import_module(name)
    yield {e.name: e for e in registry.list_models()}
    patch.undo()


def _run(*args: str) -> None:
    assert main([str(a) for a in args]) == 0


def _scores(path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.converter
@pytest.mark.parametrize("name", ["toyseg", "toysal"])
def test_a_toy_model_folder_exports_evaluates_and_passes_the_int8_gate(toys, name: str, tmp_path) -> None:
    entry, data = toys[name], DATA[name]
    task = get_task(entry.task)
    torch.manual_seed(0)
    checkpoint = tmp_path / "toy.pt"
    torch.save(entry.build().state_dict(), checkpoint)

    _run("eval", "--model", name, "--checkpoint", checkpoint, "--data", data, "--json", tmp_path / "eager.json")
    eager = _scores(tmp_path / "eager.json")
    assert set(task.keys) - {"nss", "auc_judd"} <= set(eager) and eager["frames"] > 0

    _run("export", "--model", name, "--checkpoint", checkpoint, "--target", "executorch", "--out", tmp_path / "fp32")
    (artifact,) = (tmp_path / "fp32").glob("*.pte")
    manifest = json.loads(artifact.with_name(artifact.name + ".json").read_text())
    assert manifest["task"] == entry.task and manifest["parity"]["status"] == "passed"
    _run("eval", "--artifact", artifact, "--data", data, "--json", tmp_path / "artifact.json")
    scored = _scores(tmp_path / "artifact.json")
    assert scored["frames"] == eager["frames"]
    assert scored[task.headline] == pytest.approx(eager[task.headline], abs=1e-3)  # the artifact is the model

    _run("export", "--model", name, "--checkpoint", checkpoint, "--target", "executorch,litert", "--out", tmp_path / "int8",
         "--precision", "int8", "--data", data, "--calibration-batches", "1")
    for suffix in (".pte", ".tflite"):
        (artifact,) = (tmp_path / "int8").glob(f"*{suffix}")
        gate = json.loads(artifact.with_name(artifact.name + ".json").read_text())["accuracy"]
        assert (gate["status"], gate["metric"], gate["headline"]) == ("passed", task.title, task.headline)
        assert gate["max_drop_points"] == task.default_max_drop and gate["frames"] == eager["frames"]
        assert gate["fp32"][task.headline] == pytest.approx(task.points(eager)[task.headline], abs=1e-3)
        assert gate["drop_points"] == pytest.approx(task.drop(gate["fp32"], gate["int8"]), abs=1e-3)
