"""The int8 table of the quantization issue, from one trained checkpoint.

    python bench/quantize_reference.py --checkpoint runs/ref-ms3/last.pt --config paper \
        --data synthetic-ms3 --out runs/quant-ms3 --qat-steps 300

Rows: fp32 (PyTorch) · PTQ int8 · QAT int8 · label-free QAT int8 (all PyTorch, the Q/DQ graph) · fp32
.pte · int8 .pte · int8 .tflite (the artifacts themselves, run on the held-out split). Columns: mIoU, F
(held-out split), size MB, host latency (median ms, 1 thread). Writes ``table.md`` and ``result.json``
in ``--out``, plus the artifacts and the QAT checkpoints.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from bench.stats import Stats, timed_runs
from edgeav.checkpoints import load_checkpoint
from edgeav.errors import EdgeAVError
from edgeav.registry import get_model_entry
from edgeav.train.evaluate import evaluate, evaluate_artifact
from edgeav.train.objectives import get_objective
from edgeav.train.samples import FrameSamples
from export_targets.int8 import Int8Options, plan_int8, quantization_rewrite
from export_targets.pipeline import export_model
from export_targets.runners import open_runner
from quantize.api import QATConfig, QuantizeRequest, quantize_model
from quantize.checkpoint import restore_quantized, save_quantized


def latency_ms(run, inputs, runs: int, warmup: int = 3) -> float:
    """Median of the shared harness's timed runs (this table's rows are timed one after another)."""
    return Stats.of(timed_runs(lambda: run(inputs), runs, warmup)).median_ms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lightavseg")
    p.add_argument("--config", default="paper")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--data", default="synthetic-ms3")
    p.add_argument("--qat-steps", type=int, default=300)
    p.add_argument("--qat-lr", type=float, default=QATConfig.lr)
    p.add_argument("--freeze-bn-at", type=float, default=QATConfig.freeze_bn_at,
                   help="fraction of the QAT steps after which BatchNorm uses its running statistics (0: from the start)")
    p.add_argument("--freeze-observers-at", type=float, default=QATConfig.freeze_observers_at)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--calibration-batches", type=int, default=16)
    p.add_argument("--eval-limit", type=int, default=0, help="held-out frames scored (0: all)")
    p.add_argument("--latency-runs", type=int, default=20)
    p.add_argument("--skip-label-free", action="store_true")
    p.add_argument("--reuse", action="store_true", help="reuse QAT checkpoints already in --out")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    entry = get_model_entry(args.model)
    config = entry.config(args.config)
    model = entry.build(args.config)
    load_checkpoint(model, args.checkpoint)
    model.eval()
    objective = get_objective(entry.name)
    names = [t.name for t in entry.io_spec(config).inputs]
    example = entry.samples(config, 1, 0)[0]
    train = FrameSamples.from_spec(args.data, "train", config.image_size)
    test = FrameSamples.from_spec(args.data, "test", config.image_size)
    if args.eval_limit:
        test = torch.utils.data.Subset(test, range(min(args.eval_limit, len(test))))
    args.out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def save_rows() -> None:  # after every row, so a late failure keeps what was measured
        (args.out / "rows.partial.json").write_text(json.dumps(rows, indent=2))

    def request(method: str, out_dir: Path, qat: QATConfig | None = None) -> QuantizeRequest:
        return QuantizeRequest(method=method, train=train, input_names=names, objective=objective, out_dir=out_dir,
                               qat=qat or QATConfig(), rewrite=quantization_rewrite(method),
                               calibration_batches=args.calibration_batches, calibration_batch_size=args.batch_size)

    def eager_row(name: str, m: torch.nn.Module) -> None:
        s = evaluate(m, objective, test)
        rows[name] = {"miou": 100 * s["miou"], "fscore": 100 * s["fscore"], "frames": s["frames"],
                      "latency_ms": latency_ms(lambda x: m(*x), example, max(3, args.latency_runs // 4))}
        log(f"{name}: {rows[name]}")
        save_rows()

    with torch.no_grad():
        eager_row("fp32 (PyTorch)", model)

    log("PTQ")
    ptq, _ = quantize_model(model, example, request("ptq", args.out / "ptq"))
    with torch.no_grad():
        eager_row("PTQ int8 (PyTorch Q/DQ)", ptq.convert())

    def qat(label_free: bool) -> Path:
        tag = "qat-label-free" if label_free else "qat"
        path = args.out / tag / "quantized.pt"
        name = ("label-free " if label_free else "") + "QAT int8 (PyTorch Q/DQ)"
        if args.reuse and path.exists():  # a re-run after a late failure: the fine-tuning is the costly part
            log(f"{tag}: reusing {path}")
            sim, _ = restore_quantized(model, example, path, quantization_rewrite("qat"))
            with torch.no_grad():
                eager_row(name, sim.convert())
            return path
        log(tag)
        cfg = QATConfig(steps=args.qat_steps, batch_size=args.batch_size, lr=args.qat_lr, label_free=label_free,
                        freeze_bn_at=args.freeze_bn_at, freeze_observers_at=args.freeze_observers_at)
        sim, done = quantize_model(model, example, request("qat", args.out / tag, cfg), on_step=lambda s, r: log(
            f"  {tag} step {s.step} loss {r['loss']:.4f}") if s.step % 25 == 0 else None)
        record = {"model": entry.name, "config": args.config, "data": args.data, **done}
        save_quantized(sim, record, path)
        with torch.no_grad():
            eager_row(name, sim.convert())
        return path

    qat_path = qat(label_free=False)
    if not args.skip_label_free:
        qat(label_free=True)

    weights = {"source": "checkpoint", "path": str(args.checkpoint)}
    log("export fp32 .pte")
    (fp32_pte,) = export_model(entry, model, args.config, "executorch", args.out / "fp32", "fp32", weights=weights)
    log("export int8 .pte + .tflite from the QAT checkpoint (gate recorded, not enforced here)")
    plan = plan_int8(entry, model, args.config, Int8Options(qat_checkpoint=qat_path, data=args.data, force=True,
                                                            eval_limit=args.eval_limit))
    int8_results = []
    for target in ("executorch", "litert"):  # one at a time: a failed parity check on one keeps the other
        try:
            int8_results += export_model(entry, model, args.config, target, args.out / "int8", "int8",
                                         weights=weights, int8=plan)
        except EdgeAVError as exc:
            rows[f"int8 {target}"] = {"error": str(exc)}
            log(f"int8 {target} failed: {exc}")
            save_rows()
    for label, result in [("fp32 .pte", fp32_pte)] + [(f"int8 {r.path.suffix}", r) for r in int8_results]:
        runner = open_runner(result.path, entry.io_spec(config), threads=1)
        s = evaluate_artifact(runner, test) if not result.accuracy else None
        acc = result.accuracy.get("int8") if result.accuracy else {"miou": 100 * s["miou"], "fscore": 100 * s["fscore"]}
        rows[label] = {"miou": acc["miou"], "fscore": acc["fscore"], "size_mb": result.size_mb,
                       "latency_ms": latency_ms(runner.run, example, args.latency_runs),
                       "parity_sqnr_db": result.parity.sqnr_db}
        log(f"{label}: {rows[label]}")
        save_rows()

    fp32 = rows["fp32 (PyTorch)"]["miou"]
    lines = ["| model | mIoU | F | Δ mIoU vs fp32 | size MB | latency ms (1 thread) |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error'].splitlines()[0][:160]} | | | | |")
            continue
        size = f"{r['size_mb']:.1f}" if "size_mb" in r else "—"
        lines.append(f"| {name} | {r['miou']:.2f} | {r['fscore']:.2f} | {r['miou'] - fp32:+.2f} | {size} | {r['latency_ms']:.1f} |")
    ratio = rows["int8 .pte"]["latency_ms"] / rows["fp32 .pte"]["latency_ms"] if "int8 .pte" in rows else None
    if ratio is not None:
        lines.append(f"\nint8 .pte / fp32 .pte latency: {ratio:.2f}×")
    table = "\n".join(lines)
    (args.out / "table.md").write_text(table + "\n")
    (args.out / "result.json").write_text(json.dumps({"rows": rows, "pte_latency_ratio": ratio, "args": vars(args)},
                                                     indent=2, default=str))
    print(table)


if __name__ == "__main__":
    main()
