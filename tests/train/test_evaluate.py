"""Evaluation: the eager model and an artifact-shaped runner score alike; semantic data uses CE and the
per-category meter; `edgeav eval --artifact` reads the manifest and fails in one line without it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeav.cli.main import main
from edgeav.data.synthetic import SceneConfig, SyntheticAVScenes
from edgeav.errors import UsageError
from edgeav.tasks import SEGMENTATION
from edgeav.models.lightavseg.configs import LIGHTAVSEG_SMALL, LIGHTAVSEG_SMALL_AVSS
from edgeav.models.lightavseg.model import LightAVSeg
from edgeav.train.evaluate import evaluate, evaluate_artifact
from edgeav.train.objective import get_objective
from edgeav.train.samples import FrameSamples
from edgeav.train.trainer import TrainConfig, Trainer


def _frames(kind: str, scenes: int = 3) -> FrameSamples:
    return FrameSamples(SyntheticAVScenes(SceneConfig(kind=kind, image_size=64, frames_per_clip=2),
                                          num_scenes=scenes, seed=5))


class ModelAsRunner:
    """Runs the deployable forward (probabilities, batch 1) the way an exported artifact does."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model.eval()
        self.calls = 0

    def run(self, inputs):
        self.calls += 1
        assert inputs[0].shape[0] == 1, "artifacts take one sample per call"
        with torch.no_grad():
            return [self.model(*inputs).numpy().astype(np.float32)]


@pytest.mark.parametrize("config,kind", [(LIGHTAVSEG_SMALL, "ms3"), (LIGHTAVSEG_SMALL_AVSS, "avss")])
def test_the_artifact_scoring_path_scores_like_training_evaluation(config, kind: str) -> None:
    """evaluate_artifact (batch 1, numpy outputs, what every runner returns) against evaluate on the same model.

    A stand-in runner isolates the scoring path; the exported file itself is scored against eager in
    tests/e2e/test_eval_artifact.py."""
    torch.manual_seed(0)
    model = LightAVSeg(config)
    data = _frames(kind)
    eager = evaluate(model, get_objective("lightavseg"), data, batch_size=4)
    runner = ModelAsRunner(model)
    artifact = evaluate_artifact(runner, data, SEGMENTATION, ["frames", "audio"], batch_size=4)
    assert runner.calls == len(data)
    assert artifact["frames"] == eager["frames"] == len(data)
    assert artifact["miou"] == pytest.approx(eager["miou"], abs=1e-6)
    assert artifact["fscore"] == pytest.approx(eager["fscore"], abs=1e-6)
    assert ("per_category" in eager) == (kind == "avss")


def test_semantic_head_trains_with_cross_entropy(tmp_path: Path) -> None:
    data = _frames("avss", scenes=4)
    assert data[0]["semantic"].dtype == torch.long and data[0]["semantic"].shape == (1, 64, 64)
    torch.manual_seed(0)
    model = LightAVSeg(dataclasses.replace(LIGHTAVSEG_SMALL_AVSS, freeze_audio=False))
    cfg = TrainConfig(steps=12, batch_size=4, lr=1e-2, seed=1, warmup_steps=0)
    trainer = Trainer(model, get_objective("lightavseg"), data, cfg, tmp_path)
    losses = []
    trainer.on_step = lambda state, row: losses.append(row["seg"])
    trainer.fit()
    # CE over 71 classes starts near ln(71) ≈ 4.26 and must fall as the background prior is learned.
    assert losses[0] > 3.5
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.5, losses


def test_semantic_config_on_binary_data_is_a_one_line_error() -> None:
    model = LightAVSeg(LIGHTAVSEG_SMALL_AVSS)
    batch = torch.utils.data.default_collate([_frames("ms3")[0]])
    with pytest.raises(UsageError, match="no semantic labels"):
        get_objective("lightavseg").loss(model.forward_train, model, batch)


def test_eval_artifact_without_manifest_names_the_fix(tmp_path: Path, capsys) -> None:
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(b"not really")
    assert main(["eval", "--artifact", str(artifact), "--data", "synthetic-ms3:scenes=5,image_size=64"]) != 0
    err = capsys.readouterr().err
    assert "model.onnx.json is missing" in err and "edgeav export" in err
    assert "Traceback" not in err


class _MapModel(torch.nn.Module):
    """A saliency 'model': the sigmoid of the frame's mean colour, one map per frame."""

    def forward(self, frames: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(frames.mean(1, keepdim=True) + audio.mean(-1)[:, None, None, None])


def test_a_saliency_objective_is_scored_with_the_saliency_metrics_eager_and_artifact() -> None:
    from edgeav.metrics import cc
    from edgeav.registry import Objective
    from edgeav.tasks import SALIENCY

    g = torch.Generator().manual_seed(0)
    data = [{"frames": torch.rand(3, 8, 8, generator=g), "audio": torch.rand(16, generator=g),
             "saliency": torch.rand(1, 8, 8, generator=g), "fixations": (torch.rand(1, 8, 8, generator=g) > 0.7).float(),
             "annotated": True} for _ in range(5)]
    model = _MapModel()
    objective = Objective(loss=lambda *_: {}, logits=lambda m, b: m(b["frames"], b["audio"]), task="saliency")
    eager = evaluate(model, objective, data, batch_size=2)
    assert set(eager) == {"cc", "nss", "auc_judd", "sim", "kld", "frames"} and eager["frames"] == 5
    maps = model(torch.stack([d["frames"] for d in data]), torch.stack([d["audio"] for d in data]))
    assert eager["cc"] == pytest.approx(cc(maps, torch.stack([d["saliency"] for d in data])))
    artifact = evaluate_artifact(ModelAsRunner(model), data, SALIENCY, ["frames", "audio"], batch_size=2)
    assert artifact == pytest.approx(eager)


def test_segmentation_model_on_saliency_data_names_the_fix() -> None:
    from edgeav.errors import InputShapeError
    from edgeav.registry import Objective

    data = [{"frames": torch.rand(3, 8, 8), "audio": torch.rand(16), "saliency": torch.rand(1, 8, 8), "annotated": True}]
    objective = Objective(loss=lambda *_: {}, logits=lambda m, b: m(b["frames"], b["audio"]), task="segmentation")
    with pytest.raises(InputShapeError, match="no 'mask' ground truth for a segmentation model"):
        evaluate(_MapModel(), objective, data)
