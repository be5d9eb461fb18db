"""`edgeav train` and `edgeav eval`: the trainer and the task metric on any `--data SPEC`."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgeav.cli.progress import fit_with_progress
from edgeav.cli.runs import prepare_run_folder, resume_command, trim_logs
from edgeav.cli.scores import scores_table
from edgeav.errors import Interrupted, UsageError
from edgeav.files import storage_errors, write_json_atomically
from edgeav.registry import get_model_entry, load_model
from edgeav.tasks import Task, get_task
from edgeav.train.audio_tagging import load_audio_weights
from edgeav.train.evaluate import evaluate, evaluate_artifact
from edgeav.train.objective import get_objective
from edgeav.train.samples import model_samples
from edgeav.train.trainer import TrainConfig, Trainer, init_distributed


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model", description="Train or fine-tune a model on --data.")
    _train_arguments(p)
    p.set_defaults(func=run_train)

    e = sub.add_parser("eval", help="evaluate a checkpoint or an exported artifact",
                       description="Print the model task's metrics on --data (mIoU and F for segmentation, per category for semantic data; CC, NSS, AUC-J, SIM, KLD for saliency).")
    _common(e, model_required=False)
    e.add_argument("--artifact", type=Path,
                   help="score an exported artifact (.pte, .tflite, .onnx, ...) instead of a checkpoint; "
                        "model and config come from its manifest")
    e.add_argument("--split", default="test", help="split to score (default: test)")
    e.add_argument("--json", type=Path, help="also write the scores to this JSON file")
    e.add_argument("--shuffle-audio", action="store_true", help="pair every frame with another clip's audio")
    e.add_argument("--verbose", action="store_true", help="show the runtime's own log lines (hidden by default)")
    e.set_defaults(func=run_eval)


def _train_arguments(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--steps", type=int, required=True, help="optimizer steps")
    p.add_argument("--out", type=Path, required=True, help="run folder: last.pt, evals.jsonl, train_log.jsonl")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-4, help="AdamW learning rate (poly decay, power 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--eval-every", type=int, default=0, help="evaluate every N steps (0: at the end)")
    p.add_argument("--checkpoint-every", type=int, default=0,
                   help="checkpoint every N steps (0: at the end, before the final evaluation, and on Ctrl-C/SIGTERM)")
    p.add_argument("--resume", type=Path, help="continue a run from its last.pt (exactly: same data and hyper-parameters)")
    p.add_argument("--allow-changes", action="store_true",
                   help="with --resume: continue although --data or a hyper-parameter differs from the run's (each change is printed)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out (default: refuse)")
    p.add_argument("--audio-weights", type=Path,
                   help="audio trunk weights in the upstream layout (PANNs / torchvggish AudioSet .pth, or "
                        "bench/studies/pretrained_audio_trunk.py's); "
                        "loaded after --checkpoint and frozen unless --train-audio")
    p.add_argument("--train-audio", action="store_true",
                   help="train the audio trunk (default: frozen, as in the paper; always trained when no "
                        "pretrained audio weights are loaded)")


def _common(p: argparse.ArgumentParser, model_required: bool = True) -> None:
    p.add_argument("--model", required=model_required, help="registry name (see `edgeav models`)")
    p.add_argument("--config", help="model config (default: the model's default)")
    p.add_argument("--data", required=True, help="dataset spec, e.g. synthetic-ms3, avsbench-ms3:PATH (see docs/data.md)")
    p.add_argument("--checkpoint", type=Path, help="weights to start from / to evaluate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")


def _build(args: argparse.Namespace, train_audio: bool = False):
    cfg = get_model_entry(args.model).config(args.config)
    audio_weights = getattr(args, "audio_weights", None)
    pretrained_audio = args.checkpoint is not None or audio_weights is not None
    overrides = {}
    if dataclasses.is_dataclass(cfg) and hasattr(cfg, "freeze_audio"):
        if train_audio or not pretrained_audio:
            # No pretrained audio trunk is loaded: a frozen random trunk would carry no information.
            overrides["freeze_audio"] = False
        elif audio_weights is not None:
            overrides["freeze_audio"] = True  # a model that trains its trunk by default (DTFSal) keeps these weights
    loaded = load_model(args.model, args.config, args.checkpoint, seed=args.seed, overrides=overrides)
    if audio_weights is not None:
        load_audio_weights(loaded.model, loaded.entry, audio_weights)
    return loaded.entry, loaded.config, loaded.model


def _frames(args: argparse.Namespace, entry, cfg, split: str, shuffle_seed: int | None = None, model=None):
    """The model's samples of ``split`` of ``--data`` (its entry's dataset, or segmentation frames)."""
    return model_samples(entry, cfg, args.data, split, model, shuffle_seed)


def run_train(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.steps < 1 or args.batch_size < 1:
        raise UsageError("--steps and --batch-size must be at least 1")
    prepare_run_folder(args.out, args.resume, args.overwrite)
    device = init_distributed()
    entry, cfg, model = _build(args, train_audio=args.train_audio)
    train_cfg = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        grad_clip=args.grad_clip, eval_every=args.eval_every, checkpoint_every=args.checkpoint_every, seed=args.seed,
    )
    console = Console(stderr=True, soft_wrap=True)  # paths and commands stay whole lines
    meta = {"model": entry.name, "config": args.config or entry.default_config, "data": args.data}
    trainer = Trainer(model, get_objective(entry.name), _frames(args, entry, cfg, "train", model=model), train_cfg,
                      args.out, eval_set=_frames(args, entry, cfg, "val", model=model), model_meta=meta, device=device)
    trainer.resume_command = lambda path: resume_command(args, path, _train_arguments)
    if args.resume:
        for note in trainer.resume(args.resume, args.allow_changes):
            console.print(f"note: {escape(note)}")
        if trainer.state.step >= args.steps:
            return _already_finished(console, args.resume, trainer.state.step)
        trim_logs(Path(args.out), trainer.state.step)
    try:
        state = fit_with_progress(trainer, "train", Path(args.out) / "train_log.jsonl", console)
    except Interrupted as exc:
        print(f"edgeav: {exc}", file=sys.stderr)
        return 130
    _print_scores(Console(), f"{entry.name} after {state.step} steps (val)", state.evals[-1], get_task(entry.task))
    console.print(f"checkpoint: {escape(str(trainer.checkpoint_path()))}")
    return 0


def _already_finished(console: Console, path: Path, step: int) -> int:
    console.print(f"{escape(str(path))} already finished its {step} steps: nothing to train; pass a larger --steps to "
                  f"train on, or use it as --checkpoint {escape(str(path))}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    shuffle = args.seed if args.shuffle_audio else None
    if args.artifact is not None:
        name, task, scores = _eval_artifact(args, shuffle)
    else:
        if args.model is None:
            raise UsageError("eval needs --model (with --checkpoint) or --artifact PATH")
        entry, cfg, model = _build(args)
        name, task = entry.name, get_task(entry.task)
        scores = evaluate(model, get_objective(entry.name), _frames(args, entry, cfg, args.split, shuffle, model))
    title = f"{name} on {args.data} [{args.split}]" + (" — audio shuffled across clips" if args.shuffle_audio else "")
    _print_scores(Console(), title, scores, task)
    if args.json:
        _write_scores(args.json, {"source": name, "data": args.data, "split": args.split,
                                  "shuffled_audio": args.shuffle_audio, **scores})
    return 0


def _write_scores(path: Path, payload: dict) -> None:
    with storage_errors(path, "--json"):
        if path.exists() and not path.is_file():  # a device or pipe (/dev/stdout): write through, never replace it
            path.write_text(json.dumps(payload, indent=2) + "\n")
        else:
            write_json_atomically(path, payload)


def _eval_artifact(args: argparse.Namespace, shuffle: int | None) -> tuple[str, Task, dict]:
    """Score an exported artifact itself; the model, config and input size come from its manifest."""
    from export_targets._quiet import runtime_output_hidden
    from export_targets.formats import format_of, open_artifact
    from edgeav.data.windows import with_option
    from export_targets.integrity import verified_manifest

    # checked against the artifact's bytes first, so a corrupted .mlpackage is reported as such even where it cannot run
    manifest = verified_manifest(args.artifact, format_of(args.artifact))
    entry = get_model_entry(manifest["model"])
    if args.model and args.model != entry.name:
        raise UsageError(f"--model {args.model} does not match the artifact's manifest ({entry.name}); drop --model")
    reason = format_of(args.artifact).run_skip_reason()
    if reason:
        raise UsageError(f"cannot run {args.artifact.name} here: {reason}")
    cfg = entry.config(manifest["config_name"])
    io_spec = entry.io_spec(cfg)
    if "audio_window=" not in args.data:  # score it with the audio window it was exported for
        args.data = with_option(args.data, manifest["io"].get("audio_window", "centred"))
    data = _frames(args, entry, cfg, args.split, shuffle)
    task = get_task(entry.task)
    with runtime_output_hidden(not args.verbose):  # ExecuTorch logs its CPU probing on every load
        runner = open_artifact(args.artifact, io_spec)
        scores = evaluate_artifact(runner, data, task, [t.name for t in io_spec.inputs])
    return f"{entry.name} {args.artifact.name}", task, scores


def _print_scores(console: Console, title: str, scores: dict, task: Task) -> None:
    console.print(scores_table(title, task, [("", scores)]))
    if scores.get("skipped"):
        first = scores["skipped_files"][0]
        Console(stderr=True, soft_wrap=True).print(f"warning: {scores['skipped']} samples skipped (unreadable, not scored); the first: "
                                   f"{escape(first)}; list them all with `edgeav data check`")
    if scores.get("per_category"):
        per = Table(title="per category (present in the ground truth)")
        for col in ("category", "IoU", "F", "pixels"):
            per.add_column(col, justify="right")
        for row in scores["per_category"]:
            per.add_row(str(row["category"]), f"{100 * row['iou']:.2f}", f"{100 * row['fscore']:.2f}",
                        f"{int(row['pixels'])}")
        console.print(per)
