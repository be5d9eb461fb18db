"""`edgeav distill`: a frozen saliency teacher (DTFSal) teaches a student (DTFSal-S) on --data.

Writes the trainer's run folder (last.pt for exact --resume, step_*.pt, train_log.jsonl, evals.jsonl) and
``student.pt``, the student's weights alone (``edgeav export --model dtfsal-s --checkpoint DIR/student.pt``).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from edgeav.checkpoints import load_checkpoint, save_atomically
from edgeav.data import open_dataset
from edgeav.data.saliency import SaliencyWindows
from edgeav.errors import CheckpointError, Interrupted, UsageError
from edgeav.registry import LoadedModel, get_model_entry, load_model
from edgeav.tasks import get_task
from edgeav.train.distill import (
    DistillationStudent,
    ModelWindow,
    NamedInputs,
    SaliencyDistillConfig,
    check_teacher_checkpoint,
    saliency_distillation_objective,
)
from edgeav.train.trainer import TrainConfig, Trainer, init_distributed


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distill", help="distil a saliency teacher into a phone student",
                       description="Train --student on --data against a frozen --teacher (KL − CC to its map, KL of the "
                                   "side maps, optional feature hints) and the ground truth where the data has it.")
    p.add_argument("--teacher", required=True, help="teacher model (e.g. dtfsal)")
    p.add_argument("--teacher-checkpoint", type=Path, help="the trained teacher (required)")
    p.add_argument("--teacher-config", help="teacher config (default: the one its checkpoint names)")
    p.add_argument("--student", required=True, help="student model (e.g. dtfsal-s)")
    p.add_argument("--student-config", help="student config (default: the model's default)")
    p.add_argument("--student-checkpoint", type=Path, help="weights to start the student from")
    p.add_argument("--data", required=True, help="saliency dataset spec, e.g. synthetic-saliency:clips=200 or avsal-DIEM:PATH")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=0)
    p.add_argument("--resume", type=Path, help="continue a distillation run from its last.pt (exactly)")
    p.add_argument("--teacher-weight", type=float, default=1.0, help="KL − CC against the teacher's map")
    p.add_argument("--label-weight", type=float, default=1.0, help="KL − CC against the ground truth (labelled samples)")
    p.add_argument("--side-weight", type=float, default=0.5, help="KL of each side map against the teacher's s1..s4")
    p.add_argument("--hint-weight", type=float, default=0.0, help="feature hints through 1×1 adapters (0: off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    p.set_defaults(func=run_distill)


def load_teacher(name: str, path: Path | None, config: str | None) -> LoadedModel:
    """The teacher from its trainer checkpoint; one-line errors for a missing or foreign checkpoint."""
    if path is None:
        raise UsageError(f"distill needs --teacher-checkpoint: train the teacher first (`edgeav train --model {name} ...`)")
    if not path.is_file():
        raise CheckpointError(f"--teacher-checkpoint {path} does not exist; pass the teacher run's last.pt")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    meta = payload.get("model_meta") if isinstance(payload, dict) else None
    check_teacher_checkpoint(meta, name, path)
    config = config or (meta or {}).get("config")
    teacher = load_model(name, config)
    try:
        load_checkpoint(teacher.model, path)
    except CheckpointError as exc:
        raise CheckpointError(f"--teacher-checkpoint {path} is not a {name} [{teacher.config_name}] checkpoint ({exc}); "
                              "pass --teacher-config to match it") from None
    return teacher


def window_of(loaded: LoadedModel) -> ModelWindow | NamedInputs:
    """What a saliency model reads of a sample: a window of frames and audio (from its I/O contract and
    config), or its inputs by name when it takes no audio (an image model)."""
    inputs = loaded.entry.io_spec(loaded.config).inputs
    if "audio" not in [t.name for t in inputs]:
        return NamedInputs(tuple(t.name for t in inputs))
    frames, audio = inputs[:2]
    clip = frames.shape[1] if len(frames.shape) == 5 else getattr(loaded.config, "history", 1)
    return ModelWindow(frames=int(clip), audio_samples=int(audio.shape[-1]))


def frame_size(loaded: LoadedModel) -> tuple[int, int]:
    return tuple(int(x) for x in loaded.entry.io_spec(loaded.config).inputs[0].shape[-2:])


def samples(args: argparse.Namespace, split: str, windows: tuple, student: LoadedModel) -> Any:
    """One dataset both models read: AV windows long enough for both, or the student's own samples."""
    if not all(isinstance(w, ModelWindow) for w in windows):
        if student.entry.dataset is None:
            raise UsageError(f"'{student.entry.name}' names no dataset of its own; it cannot be distilled from --data")
        return student.entry.dataset(student.config, args.data, split, None, None)
    need = ModelWindow(max(w.frames for w in windows), max(w.audio_samples for w in windows))
    return SaliencyWindows(open_dataset(args.data, split), frames=need.frames, audio_samples=need.audio_samples,
                           size=frame_size(student))


def hint_adapters(student: torch.nn.Module, teacher: torch.nn.Module, batch: dict[str, Any],
                  windows: tuple) -> torch.nn.ModuleList:
    """1×1 convs from each student feature to the teacher's channel count (shapes probed on one batch)."""
    with torch.no_grad():
        s_feats = student.eval().forward_train(*windows[1].inputs(batch)).features
        t_feats = teacher.eval().forward_train(*windows[0].inputs(batch)).features
    student.train()
    return torch.nn.ModuleList(torch.nn.Conv2d(s.shape[1], t.shape[1], 1) for s, t in zip(s_feats, t_feats))


def run_distill(args: argparse.Namespace) -> int:
    from edgeav.cli.progress import fit_with_progress

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.steps < 1 or args.batch_size < 1:
        raise UsageError("--steps and --batch-size must be at least 1")
    teacher = load_teacher(args.teacher, args.teacher_checkpoint, args.teacher_config)
    student = load_model(args.student, args.student_config, args.student_checkpoint, seed=args.seed)
    for loaded in (teacher, student):
        if loaded.entry.task != "saliency":
            raise UsageError(f"distill is for saliency models; '{loaded.entry.name}' is a {loaded.entry.task} model")
    size = frame_size(student)
    if frame_size(teacher) != size:
        raise UsageError(f"teacher [{teacher.config_name}] takes {frame_size(teacher)} frames, student "
                         f"[{student.config_name}] {size}; pick configs of one frame size (e.g. paper@8x96x160 and paper@96x160)")
    windows = (window_of(teacher), window_of(student))
    cfg = SaliencyDistillConfig(args.teacher_weight, args.label_weight, args.side_weight, args.hint_weight)
    train_set = samples(args, "train", windows, student)
    adapters = None
    if cfg.hint_weight:
        probe = torch.utils.data.default_collate([train_set[0], train_set[1 % len(train_set)]])
        adapters = hint_adapters(student.model, teacher.model, probe, windows)
    model = DistillationStudent(student.model, adapters)
    objective = saliency_distillation_objective(teacher.model, windows[0], windows[1], cfg)
    meta = {"model": student.entry.name, "config": student.config_name, "data": args.data,
            "teacher": teacher.entry.name, "teacher_config": teacher.config_name,
            "teacher_checkpoint": str(args.teacher_checkpoint), "distill": dataclasses.asdict(cfg)}
    train_cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                            warmup_steps=args.warmup_steps, grad_clip=args.grad_clip, eval_every=args.eval_every,
                            checkpoint_every=args.checkpoint_every, seed=args.seed)
    trainer = Trainer(model, objective, train_set, train_cfg, args.out, eval_set=samples(args, "val", windows, student),
                      model_meta=meta, device=init_distributed())
    if args.resume:
        trainer.resume(args.resume)
    console = Console(stderr=True)
    try:
        state = fit_with_progress(trainer, "distill", Path(args.out) / "train_log.jsonl", console)
    except Interrupted as exc:  # Ctrl-C / SIGTERM: the trainer saved last.pt and names the resume
        print(f"edgeav: {exc}", file=sys.stderr)
        return 130
    path = save_atomically({"model": student.model.state_dict(), "model_meta": meta}, Path(args.out) / "student.pt")
    from edgeav.cli.scores import scores_table

    Console().print(scores_table(f"{student.entry.name} after {state.step} steps (val)", get_task("saliency"),
                                 [(student.entry.name, state.evals[-1])]))
    console.print(f"student weights: {path}  (resume: {trainer.checkpoint_path()})")
    return 0
