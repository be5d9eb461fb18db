"""Pretrain a model's audio trunk (LightAVSeg: PANNs MobileNetV2, AVESFormer and DTFSal: VGGish) by audio tagging.

    python -m bench.studies.pretrained_audio_trunk --data synthetic-ms3 --steps 1500 --out runs/audio-ms3
    python -m bench.studies.pretrained_audio_trunk --model avesformer-r18 --data synthetic-s4 --out runs/audio-s4
    python -m bench.studies.pretrained_audio_trunk --model dtfsal --config cpu --window-stride 3 \
        --data synthetic-saliency:clips=1000,frames_per_clip=24,frame_size=96-160,num_categories=6 --out runs/audio-sal

The stand-in for PANNs' AudioSet pretraining (no weights can be downloaded here): multi-label tagging of
each second (saliency clips: each training window's audio, ``--window-stride`` frames apart) with the
categories sounding in it, on built-in synthetic scenes. Writes ``panns_tagging.pt``
or ``vggish_tagging.pt`` in the trunk's upstream checkpoint layout (load it with ``edgeav train
--audio-weights`` or ``bench/studies/reference_checkpoint.py --audio-weights``, exactly as the released
``MobileNetV2_mAP=0.383.pth`` / ``vggish-10086976.pth``) and ``result.json`` (val mAP, steps, wall time).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from edgeav.data import open_dataset
from edgeav.files import write_json_atomically
from edgeav.registry import get_model_entry
from edgeav.train.audio_tagging import (
    TaggingConfig,
    build_tagger,
    save_tagging_checkpoint,
    tagged_audio,
    tagger_family,
    tagging_scores,
    train_tagger,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lightavseg")
    p.add_argument("--config", default="paper", help="the model config whose audio trunk is pretrained")
    p.add_argument("--data", default="synthetic-ms3")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--window-stride", type=int, default=1, help="saliency clips: tag every N-th target frame's audio window")
    p.add_argument("--out", type=Path, required=True)
    return p


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    cfg = get_model_entry(args.model).config(args.config)
    train_clips, val_clips = open_dataset(args.data, "train"), open_dataset(args.data, "val")
    names = train_clips.class_names
    t0 = time.perf_counter()
    pcm, tags = tagged_audio(train_clips, names, cfg, args.window_stride)
    val_pcm, val_tags = tagged_audio(val_clips, names, cfg, args.window_stride)
    data_seconds = time.perf_counter() - t0
    torch.manual_seed(args.seed)
    model = build_tagger(cfg, len(names))
    t0 = time.perf_counter()
    train_tagger(model, pcm, tags, TaggingConfig(args.steps, args.batch_size, args.lr, seed=args.seed),
                 on_step=lambda s, loss: print(json.dumps({"step": s, "loss": loss}), flush=True) if s % 50 == 0 else None)
    train_seconds = time.perf_counter() - t0
    checkpoint = save_tagging_checkpoint(model, args.out / tagger_family(model).checkpoint_name)
    result = {"model": args.model, "config": args.config, "data": args.data, "steps": args.steps, "batch_size": args.batch_size,
              "tags": names, "examples": len(pcm), "window_stride": args.window_stride, "train_seconds": train_seconds, "data_seconds": data_seconds,
              "val": tagging_scores(model, val_pcm, val_tags), "checkpoint": str(checkpoint)}
    write_json_atomically(args.out / "result.json", result)
    print(json.dumps({k: v for k, v in result.items() if k != "tags"}, indent=2))


if __name__ == "__main__":
    main()
