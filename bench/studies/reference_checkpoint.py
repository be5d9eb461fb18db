"""Train a reference LightAVSeg on built-in synthetic data and record what it learned.

    python -m bench.studies.reference_checkpoint --data synthetic-ms3 --steps 2000 --out runs/ref-ms3

Writes ``result.json`` in ``--out``: steps, wall time, and held-out (test split) J/F with the true audio
and with audio shuffled across clips — the gap is how much the model uses sound. The checkpoint
(``last.pt``) is what the quantization and export work start from.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from edgeav.files import write_json_atomically
from edgeav.registry import LoadedModel, load_model
from edgeav.tasks import get_task
from edgeav.train.audio_tagging import audio_trunk, load_audio_trunk
from edgeav.train.evaluate import evaluate
from edgeav.train.objective import get_objective
from edgeav.train.samples import model_samples
from edgeav.train.trainer import TrainConfig, Trainer


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lightavseg")
    p.add_argument("--config", default="paper")
    p.add_argument("--data", default="synthetic-ms3")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", type=Path)
    p.add_argument("--image-size", type=int, help="train and evaluate at this input size (default: the config's)")
    p.add_argument("--audio-weights", type=Path, help="PANNs-layout audio trunk weights, loaded and frozen")
    p.add_argument("--init", type=Path, help="start from these LightAVSeg weights (a run's last.pt)")
    p.add_argument("--out", type=Path, required=True)
    return p


def _model(args: argparse.Namespace) -> LoadedModel:
    # With PANNs-layout audio weights (upstream AudioSet, or bench/studies/pretrained_audio_trunk.py's) the trunk
    # is loaded and frozen as in the paper; without them it is trained with the rest. A smaller --image-size is
    # for a CPU budget: same architecture and weights (no size-bound tensors).
    overrides = {"freeze_audio": args.audio_weights is not None, **({"image_size": args.image_size} if args.image_size else {})}
    loaded = load_model(args.model, args.config, args.init, seed=args.seed, overrides=overrides)
    if args.audio_weights is not None:  # after --init: the pretrained trunk replaces the one in --init
        load_audio_trunk(audio_trunk(loaded.model, loaded.entry.name), args.audio_weights)
    return loaded


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    loaded = _model(args)
    model, name, image_size = loaded.model, loaded.entry.name, loaded.config.image_size
    objective = get_objective(name)

    def frames(split: str, shuffle: int | None = None):
        return model_samples(loaded.entry, loaded.config, args.data, split, model, shuffle)

    train_cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every,
                            checkpoint_every=args.eval_every, seed=args.seed, warmup_steps=min(100, args.steps // 10))
    trainer = Trainer(model, objective, frames("train"), train_cfg, args.out, eval_set=frames("val"),
                      model_meta={"model": name, "config": args.config, "data": args.data},
                      on_step=lambda s, r: print(json.dumps(r), flush=True) if r["step"] % 25 == 0 else None)
    if args.resume:
        trainer.resume(args.resume)
    start = time.perf_counter()
    state = trainer.fit()
    wall = time.perf_counter() - start
    true_audio = evaluate(model, objective, frames("test"))
    shuffled = evaluate(model, objective, frames("test", shuffle=args.seed + 1))
    task = get_task(loaded.entry.task)
    result = {
        "model": name, "config": args.config, "data": args.data, "steps": state.step,
        "batch_size": args.batch_size, "train_seconds": wall, "threads": args.threads, "image_size": image_size,
        "audio_weights": str(args.audio_weights) if args.audio_weights else None,
        "init": str(args.init) if args.init else None,
        "test_true_audio": true_audio, "test_shuffled_audio": shuffled,
        f"audio_gap_{task.headline}_points": task.headline_points(true_audio) - task.headline_points(shuffled),
        "checkpoint": str(trainer.checkpoint_path()),
    }
    write_json_atomically(args.out / "result.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
