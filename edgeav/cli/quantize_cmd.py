"""`edgeav quantize`: PTQ or QAT (optionally label-free) of a trained model; writes ``quantized.pt`` for
`edgeav export --precision int8 --qat-checkpoint`, a JSON record with fp32 / int8 scores, and on request
a per-block sensitivity report."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from rich.console import Console
from rich.markup import escape

from edgeav.cli.scores import scores_table
from edgeav.data.registry import data_task
from edgeav.errors import UsageError
from edgeav.files import ensure_writable_dir, write_json_atomically
from edgeav.registry import LoadedModel, load_model
from edgeav.tasks import get_task
from edgeav.train.evaluate import evaluate
from edgeav.train.objective import get_objective
from edgeav.train.samples import model_samples
from export_targets.formats import resolve_targets
from quantize.api import QATConfig
from quantize.plan import quantization_rewrite
from quantize.recipes import FloatModules


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quantize", help="int8: PTQ or quantization-aware fine-tuning",
                       description="Quantize a trained model to the shared int8 scheme (PTQ with calibration, or "
                       "QAT by distillation from the fp32 model, + the task loss when the data has masks).")
    p.add_argument("--model", required=True)
    p.add_argument("--config", help="model config (default: the model's default)")
    p.add_argument("--checkpoint", type=Path, required=True, help="the trained fp32 weights")
    p.add_argument("--target", default="android", help="android, ios, executorch, litert, coreml (recorded; one scheme serves all)")
    p.add_argument("--data", required=True, help="dataset spec for calibration/fine-tuning (train) and scoring (test)")
    p.add_argument("--method", choices=("ptq", "qat"), default="qat")
    p.add_argument("--steps", type=int, default=QATConfig.steps, help=f"QAT steps (default {QATConfig.steps})")
    p.add_argument("--batch-size", type=int, default=QATConfig.batch_size)
    p.add_argument("--lr", type=float, default=QATConfig.lr,
                   help=f"QAT learning rate (AdamW, linear decay; default {QATConfig.lr:g})")
    p.add_argument("--label-free", action="store_true", help="QAT without masks: distillation from the fp32 model only")
    p.add_argument("--freeze-bn-at", type=float, default=QATConfig.freeze_bn_at,
                   help=f"fraction of QAT steps after which BatchNorm uses running statistics (default {QATConfig.freeze_bn_at:g})")
    p.add_argument("--freeze-observers-at", type=float, default=QATConfig.freeze_observers_at,
                   help=f"fraction of QAT steps after which quantization ranges are fixed (default {QATConfig.freeze_observers_at:g})")
    p.add_argument("--feature-weight", type=float, default=0.0, help="weight of decoder-feature distillation (default 0)")
    p.add_argument("--keep-fp32", action="append", default=[], metavar="PATTERN", help="leave modules matching this glob float")
    p.add_argument("--calibration-batches", type=int, default=16)
    p.add_argument("--sensitivity", action="store_true", help="also write the per-block sensitivity report (slow)")
    p.add_argument("--eval-limit", type=int, default=0, help="score only the first N test frames (default: all)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from quantize.api import quantize_model
    from quantize.checkpoint import save_quantized

    if args.threads:
        torch.set_num_threads(args.threads)
    resolve_targets(args.target)
    if args.steps < 1 or args.batch_size < 1:
        raise UsageError("--steps and --batch-size must be at least 1")
    ensure_writable_dir(args.out, "--out")  # before the QAT steps, not after them
    console = Console(stderr=True)
    loaded = load_model(args.model, args.config, args.checkpoint)
    model, entry, config_name = loaded.model.eval(), loaded.entry, loaded.config_name
    example = entry.samples(loaded.config, 1, args.seed)[0]
    request, test = _request(args, loaded)

    console.print(escape(f"capturing {entry.name} [{config_name}] for {args.method.upper()} …"))
    if args.method == "qat":
        console.print(f"QAT: {args.steps} steps, {'label-free distillation' if args.label_free else 'distillation + task loss'}")

    def on_step(state, row: dict[str, float]) -> None:
        if state.step % 25 == 0:
            console.print(f"  step {state.step}: loss {row['loss']:.4f}")

    sim, done = quantize_model(model, example, request, on_step=on_step)
    record = {"model": entry.name, "config": config_name, "target": args.target, "data": args.data,
              "fp32_checkpoint": str(args.checkpoint), **done}
    record["calibration"]["data"] = args.data
    fp32, int8 = evaluate(model, request.objective, test), evaluate(sim.convert(), request.objective, test)
    record["scores"] = {"fp32": fp32, "int8_simulated": int8}
    path = save_quantized(sim, record, args.out / "quantized.pt")
    if args.sensitivity:
        record["sensitivity"] = _sensitivity(loaded, example, request, test, args)
    write_json_atomically(args.out / "quantize.json", record, default=str)
    Console().print(scores_table(f"{entry.name} [{config_name}] {args.method.upper()} on {args.data} (test)",
                                 get_task(entry.task), [("fp32", fp32), ("int8 (PyTorch, Q/DQ graph)", int8)], "model"))
    console.print(f"wrote {escape(str(path))}; next: edgeav export --model {entry.name} --config {config_name} "
                  f"--checkpoint {escape(str(args.checkpoint))} --precision int8 --qat-checkpoint {escape(str(path))} --target {args.target}")
    return 0


def _request(args: argparse.Namespace, loaded: LoadedModel):
    """The quantization request the flags describe, and the held-out split it is scored on."""
    from edgeav.train.distill import DistillConfig
    from quantize.api import QuantizeRequest

    entry, config = loaded.entry, loaded.config
    _check_binary_on_semantic(loaded, args.data)
    train = model_samples(entry, config, args.data, "train", loaded.model)
    test = model_samples(entry, config, args.data, "test", loaded.model)
    if args.eval_limit:
        test = torch.utils.data.Subset(test, range(min(args.eval_limit, len(test))))
    qat = QATConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, label_free=args.label_free,
                    freeze_bn_at=args.freeze_bn_at, freeze_observers_at=args.freeze_observers_at,
                    distill=DistillConfig(feature_weight=args.feature_weight), seed=args.seed)
    names = [t.name for t in loaded.entry.io_spec(loaded.config).inputs]
    request = QuantizeRequest(method=args.method, train=train, input_names=names,
                              objective=get_objective(loaded.entry.name), out_dir=args.out,
                              floats=FloatModules.of(loaded.entry), qat=qat,
                              keep_fp32=args.keep_fp32,
                              rewrite=quantization_rewrite(args.method, loaded.entry.export_forms),
                              calibration_batches=args.calibration_batches, calibration_batch_size=args.batch_size,
                              seed=args.seed)
    return request, test


def _check_binary_on_semantic(loaded: LoadedModel, spec: str) -> None:
    """A binary head quantized on semantic data would be calibrated and gated on the union of all categories,
    a model nobody asked for: the user meant the multi-class config or binary data."""
    kind = data_task(spec)
    if kind is not None and kind[1] and getattr(loaded.config, "num_classes", 1) == 1:
        raise UsageError(
            f"--data {spec} is semantic (AVSS) data, but {loaded.entry.name} [{loaded.config_name}] predicts one binary "
            f"mask; pass its multi-class config (e.g. --config {_semantic_config(loaded)}) or binary data (synthetic-ms3)"
        )


def _semantic_config(loaded: LoadedModel) -> str:
    names = [n for n, c in loaded.entry.configs.items() if getattr(c, "num_classes", 1) > 1]
    like = [n for n in names if n.startswith(loaded.config_name.partition("@")[0])]  # small -> small-avss
    return (like or names or ["<a multi-class config>"])[0]


def _sensitivity(loaded: LoadedModel, example, request, test, args) -> list[dict]:
    """Per-block PTQ sensitivity on the task's headline metric (points, larger drop = more sensitive)."""
    from quantize.api import input_batches
    from quantize.sensitivity import sensitivity_report

    task = get_task(loaded.entry.task)

    def batches():
        return input_batches(request.train, request.input_names, max(2, args.calibration_batches // 4),
                             args.batch_size, args.seed)

    def score(m) -> float:
        return task.headline_points(evaluate(m, request.objective, test))

    base, rows = sensitivity_report(loaded.model, example, batches, score,
                                    rewrite=quantization_rewrite("ptq", loaded.entry.export_forms),
                                    floats=FloatModules.of(loaded.entry), higher_is_better=task.higher_is_better)
    return [{"block": r.block, task.headline: round(r.score, 3), "drop_points": round(r.drop, 3),
             "fp32": round(base, 3)} for r in rows]
