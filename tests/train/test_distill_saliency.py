"""Saliency distillation: the DTFSal → DTFSal-S objective (teacher map, side maps, ground truth, hints) and
`edgeav distill` (checkpoints, exact resume, one-line errors). A DTFSal-S checkpoint stands in for the
teacher here (any saliency model with side maps is a teacher); the real DTFSal pair has its own test."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch.utils.data import default_collate

from edgeav.cli.main import main
from edgeav.data import open_dataset
from edgeav.data.saliency import SaliencyWindows
from edgeav.errors import CheckpointError, UsageError
from edgeav.models.dtfsal_s.configs import SMALL
from edgeav.models.dtfsal_s.model import DTFSalS
from edgeav.train.distill import (
    DistillationStudent,
    ModelWindow,
    SaliencyDistillConfig,
    saliency_distillation_objective,
    saliency_maps,
)
from edgeav.train.trainer import Trainer

DATA = "synthetic-saliency:clips=4,frames_per_clip=14,frame_size=64-96,num_categories=6"
WINDOW = ModelWindow(frames=SMALL.history, audio_samples=SMALL.audio_samples)


def _batch(n: int = 3) -> dict:
    windows = SaliencyWindows(open_dataset(DATA, "train"), frames=4, audio_samples=20000)
    return default_collate([windows[i] for i in range(n)])


def _models(seed: int = 0) -> tuple[DTFSalS, DTFSalS]:
    torch.manual_seed(seed)
    return DTFSalS(SMALL), DTFSalS(SMALL)


def test_teacher_is_frozen_and_read_once_per_sample():
    teacher, student = _models()
    calls = []
    original = teacher.forward_train
    teacher.forward_train = lambda *x: calls.append(1) or original(*x)
    objective = saliency_distillation_objective(teacher, WINDOW, WINDOW, SaliencyDistillConfig())
    batch, model = _batch(), DistillationStudent(student)
    first = objective.loss(lambda *x: model.forward_train(*x), model, batch)
    second = objective.loss(lambda *x: model.forward_train(*x), model, batch)
    assert len(calls) == 1 and not teacher.training
    assert all(not p.requires_grad for p in teacher.parameters())
    assert torch.allclose(first["loss"], second["loss"])
    first["loss"].backward()
    assert student.decoder.fuse.weight.grad is not None


def test_a_student_equal_to_its_teacher_has_only_the_self_terms():
    teacher, _ = _models()
    student = DTFSalS(SMALL)
    student.load_state_dict(teacher.state_dict())
    cfg = SaliencyDistillConfig(label_weight=0.0)
    objective = saliency_distillation_objective(teacher, WINDOW, WINDOW, cfg)
    model = DistillationStudent(student.eval())
    parts = objective.loss(lambda *x: model.forward_train(*x), model, _batch())
    assert parts["teacher_kl"].abs() < 1e-5 and parts["side_kl"].abs() < 1e-5
    assert float(parts["teacher_cc"]) == pytest.approx(1.0, abs=1e-4)


def test_ground_truth_only_where_labelled_and_hints_through_adapters():
    teacher, student = _models()
    batch = _batch()
    with torch.no_grad():
        channels = [f.shape[1] for f in student.forward_train(*WINDOW.inputs(batch)).features]
    adapters = torch.nn.ModuleList(torch.nn.Conv2d(c, c, 1) for c in channels)
    model = DistillationStudent(student, adapters)
    cfg = SaliencyDistillConfig(hint_weight=1.0)
    objective = saliency_distillation_objective(teacher, WINDOW, WINDOW, cfg)
    parts = objective.loss(lambda *x: model.forward_train(*x), model, batch)
    assert {"label_kl", "label_cc", "hint", "side_kl", "teacher_kl"} <= set(parts)
    parts["loss"].backward()
    assert adapters[0].weight.grad.abs().sum() > 0
    batch["labelled"] = torch.zeros(3, dtype=torch.bool)  # unlabelled clips: the teacher alone
    parts = saliency_distillation_objective(teacher, WINDOW, WINDOW, cfg).loss(lambda *x: model.forward_train(*x), model, batch)
    assert "label_kl" not in parts


def test_prediction_is_the_deployed_map():
    teacher, student = _models()
    objective = saliency_distillation_objective(teacher, WINDOW, WINDOW, SaliencyDistillConfig())
    batch = _batch(2)
    with torch.no_grad():
        pred = objective.logits(DistillationStudent(student.eval()), batch)
        frames, audio = WINDOW.inputs(batch)
        assert torch.allclose(pred, saliency_maps(student.forward_train(frames, audio))[0])
    assert pred.min() >= 0 and pred.max() <= 1


# ----------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def teacher_checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("teacher")
    torch.manual_seed(1)
    payload = {"model": DTFSalS(SMALL).state_dict(), "model_meta": {"model": "dtfsal-s", "config": "small"}}
    torch.save(payload, out / "last.pt")
    return out / "last.pt"


def _distill(out: Path, teacher: Path | None, *extra: str) -> list[str]:
    args = ["distill", "--teacher", "dtfsal-s", "--student", "dtfsal-s", "--student-config", "small",
            "--data", DATA, "--out", str(out), "--batch-size", "2", "--threads", "1", *extra]
    return args + (["--teacher-checkpoint", str(teacher)] if teacher else [])


def test_distill_writes_the_student_and_resumes_exactly(teacher_checkpoint, tmp_path, monkeypatch):
    assert main(_distill(tmp_path / "a", teacher_checkpoint, "--steps", "4")) == 0
    # an interrupted run: keep a copy of each checkpoint (last.pt is overwritten), resume from step 2
    save = Trainer.save

    def keep_copies(self):
        path = save(self)
        shutil.copy(path, path.with_name(f"step_{self.state.step:06d}.pt"))
        return path

    monkeypatch.setattr(Trainer, "save", keep_copies)
    assert main(_distill(tmp_path / "b", teacher_checkpoint, "--steps", "4", "--checkpoint-every", "2")) == 0
    resume = tmp_path / "b/step_000002.pt"
    assert main(_distill(tmp_path / "c", teacher_checkpoint, "--steps", "4", "--resume", str(resume))) == 0
    losses = [[json.loads(line)["loss"] for line in (tmp_path / run / "train_log.jsonl").read_text().splitlines()]
              for run in ("a", "c")]
    assert len(losses[1]) == 2 and losses[1] == pytest.approx(losses[0][2:], rel=1e-5)
    student = torch.load(tmp_path / "a/student.pt", weights_only=True)
    assert student["model_meta"]["teacher"] == "dtfsal-s"
    DTFSalS(SMALL).load_state_dict(student["model"])  # loads into a plain student, no adapter keys
    evals = [json.loads(x) for x in (tmp_path / "a/evals.jsonl").read_text().splitlines()]
    assert {"cc", "nss", "auc_judd", "sim", "kld"} <= set(evals[-1])


def test_distill_without_a_teacher_checkpoint_says_to_train_one(tmp_path, capsys):
    assert main(_distill(tmp_path, None, "--steps", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert "--teacher-checkpoint" in err and "edgeav train --model dtfsal-s" in err and "\n" not in err


def test_teacher_checkpoint_of_another_model_is_refused(tmp_path, capsys):
    path = tmp_path / "other.pt"
    torch.save({"model": {}, "model_meta": {"model": "lightavseg", "config": "small"}}, path)
    assert main(_distill(tmp_path / "o", path, "--steps", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert "holds a 'lightavseg' model, not 'dtfsal-s'" in err and "\n" not in err


def test_teacher_weights_that_do_not_fit_name_the_config(tmp_path, capsys):
    path = tmp_path / "raw.pt"
    torch.save({"model": {"nope": torch.zeros(1)}}, path)
    assert main(_distill(tmp_path / "r", path, "--steps", "1", "--teacher-config", "small")) == 2
    assert "is not a dtfsal-s [small] checkpoint" in capsys.readouterr().err


def test_short_clips_are_a_one_line_data_error(teacher_checkpoint, tmp_path, capsys):
    args = _distill(tmp_path / "s", teacher_checkpoint, "--steps", "1")
    args[args.index(DATA)] = "synthetic-saliency:clips=2,frames_per_clip=4,frame_size=64-96"
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "frames_per_clip=10" in err and "\n" not in err


def test_an_interrupted_distillation_exits_130_with_the_trainers_one_line(teacher_checkpoint, tmp_path, capsys, monkeypatch):
    from edgeav.errors import Interrupted

    def stop(*_args, **_kwargs):
        raise Interrupted("interrupted at step 1; last.pt saved — continue with --resume last.pt")

    monkeypatch.setattr("edgeav.cli.progress.fit_with_progress", stop)
    assert main(_distill(tmp_path / "i", teacher_checkpoint, "--steps", "2")) == 130
    err = capsys.readouterr().err.strip()
    assert err == "edgeav: interrupted at step 1; last.pt saved — continue with --resume last.pt"
