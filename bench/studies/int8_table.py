"""The int8 table of the quantization issue, from one trained checkpoint.

    python -m bench.studies.int8_table --checkpoint runs/ref-ms3/last.pt --config paper \
        --data synthetic-ms3 --out runs/quant-ms3 --qat-steps 300

Rows: fp32 (PyTorch) · PTQ int8 · QAT int8 · label-free QAT int8 (all PyTorch, the Q/DQ graph) · fp32
.pte · int8 .pte · int8 .tflite (the artifacts themselves, run on the held-out split). Columns: mIoU, F
(held-out split), size MB, host latency (median ms, 1 thread). Writes ``table.md`` and ``result.json``
in ``--out``, plus the artifacts and the QAT checkpoints.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from bench.stats import Stats, timed_runs
from edgeav.errors import EdgeAVError
from edgeav.files import write_json_atomically, write_text_atomically
from edgeav.registry import LoadedModel, load_model
from edgeav.tasks import Task, get_task
from edgeav.train.evaluate import evaluate, evaluate_artifact
from edgeav.train.objective import get_objective
from edgeav.train.samples import model_samples
from export_targets.pipeline import ExportResult, export_model
from export_targets.formats import open_artifact
from export_targets.request import ExportRequest, ExportSubject
from quantize.api import QATConfig, QuantizeRequest, quantize_model
from quantize.checkpoint import restore_quantized, save_quantized
from quantize.plan import quantization_rewrite
from quantize.recipes import FloatModules


def latency_ms(run, inputs, runs: int, warmup: int = 3) -> float:
    """Median of the shared harness's timed runs (this table's rows are timed one after another)."""
    return Stats.of(timed_runs(lambda: run(inputs), runs, warmup)).median_ms


def _parser() -> argparse.ArgumentParser:
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
    return p


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Int8Table:
    """The table's rows, measured one after another and saved after each (a late failure keeps the rest)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.loaded: LoadedModel = load_model(args.model, args.config, args.checkpoint)
        self.model = self.loaded.model.eval()
        entry, config = self.loaded.entry, self.loaded.config
        self.objective = get_objective(entry.name)
        self.io_spec = entry.io_spec(config)
        self.example = entry.samples(config, 1, 0)[0]
        self.task = get_task(entry.task)
        self.train = model_samples(entry, config, args.data, "train", self.model)
        test = model_samples(entry, config, args.data, "test", self.model)
        if args.eval_limit:
            test = torch.utils.data.Subset(test, range(min(args.eval_limit, len(test))))
        self.test = test
        self.rows: dict[str, dict[str, Any]] = {}
        args.out.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, row: dict[str, Any]) -> None:
        self.rows[name] = row
        log(f"{name}: {row}")
        write_json_atomically(self.args.out / "rows.partial.json", self.rows)

    def request(self, method: str, out_dir: Path, qat: QATConfig | None = None) -> QuantizeRequest:
        a = self.args
        return QuantizeRequest(method=method, train=self.train, input_names=[t.name for t in self.io_spec.inputs],
                               objective=self.objective, out_dir=out_dir, qat=qat or QATConfig(),
                               floats=FloatModules.of(self.loaded.entry),
                               rewrite=quantization_rewrite(method, self.loaded.entry.export_forms),
                               calibration_batches=a.calibration_batches, calibration_batch_size=a.batch_size)

    def eager_row(self, name: str, m: torch.nn.Module) -> None:
        with torch.no_grad():
            s = evaluate(m, self.objective, self.test)
            latency = latency_ms(lambda x: m(*x), self.example, max(3, self.args.latency_runs // 4))
        self.add(name, {**self.task.points(s), "frames": s["frames"], "latency_ms": latency})

    def ptq(self) -> None:
        log("PTQ")
        sim, _ = quantize_model(self.model, self.example, self.request("ptq", self.args.out / "ptq"))
        self.eager_row("PTQ int8 (PyTorch Q/DQ)", sim.convert())

    def qat(self, label_free: bool) -> Path:
        a = self.args
        tag = "qat-label-free" if label_free else "qat"
        path = a.out / tag / "quantized.pt"
        name = ("label-free " if label_free else "") + "QAT int8 (PyTorch Q/DQ)"
        if a.reuse and path.exists():  # a re-run after a late failure: the fine-tuning is the costly part
            log(f"{tag}: reusing {path}")
            rewrite = quantization_rewrite("qat", self.loaded.entry.export_forms)
            sim, _ = restore_quantized(self.model, self.example, path, rewrite,
                                       floats=FloatModules.of(self.loaded.entry))
            self.eager_row(name, sim.convert())
            return path
        log(tag)
        cfg = QATConfig(steps=a.qat_steps, batch_size=a.batch_size, lr=a.qat_lr, label_free=label_free,
                        freeze_bn_at=a.freeze_bn_at, freeze_observers_at=a.freeze_observers_at)
        sim, done = quantize_model(self.model, self.example, self.request("qat", a.out / tag, cfg), on_step=lambda s, r: log(
            f"  {tag} step {s.step} loss {r['loss']:.4f}") if s.step % 25 == 0 else None)
        save_quantized(sim, {"model": self.loaded.entry.name, "config": a.config, "data": a.data, **done}, path)
        self.eager_row(name, sim.convert())
        return path

    def exports(self, qat_path: Path) -> list[tuple[str, ExportResult]]:
        """fp32 .pte, then int8 .pte and .tflite from the QAT checkpoint (gate recorded, not enforced here)."""
        a, subject = self.args, ExportSubject.from_registry(self.loaded)
        log("export fp32 .pte")
        (fp32_pte,) = export_model(subject, ExportRequest("executorch", a.out / "fp32", "fp32", jobs=1))
        log("export int8 .pte + .tflite from the QAT checkpoint (gate recorded, not enforced here)")
        int8 = ExportRequest("executorch,litert", a.out / "int8", "int8", qat_checkpoint=qat_path, data=a.data,
                             force=True, eval_limit=a.eval_limit)
        plan = int8.plan_int8(subject)
        done = [("fp32 .pte", fp32_pte)]
        for target in ("executorch", "litert"):  # one at a time: a failed parity check on one keeps the other
            try:
                (result,) = export_model(subject, dataclasses.replace(int8, targets=target), int8=plan)
                done.append((f"int8 {result.path.suffix}", result))
            except EdgeAVError as exc:
                log(f"int8 {target} failed: {exc}")
                self.add(f"int8 {target}", {"error": str(exc)})
        return done

    def artifact_row(self, label: str, result: ExportResult) -> None:
        runner = open_artifact(result.path, self.io_spec, threads=1)
        if result.accuracy:
            acc = result.accuracy["int8"]
        else:
            acc = self.task.points(evaluate_artifact(runner, self.test, self.task, [t.name for t in self.io_spec.inputs]))
        self.add(label, {**acc, "size_mb": result.size_mb,
                         "latency_ms": latency_ms(runner.run, self.example, self.args.latency_runs),
                         "parity_sqnr_db": result.parity.sqnr_db})


def markdown(rows: dict[str, dict[str, Any]], task: Task) -> tuple[str, float | None]:
    """The table (the task's metrics in points, the headline's change against fp32), and the int8/fp32 .pte
    latency ratio (None without an int8 .pte)."""
    metrics = [m for m in task.metrics if m.key in rows["fp32 (PyTorch)"]]
    head, fp32 = task.headline_metric, rows["fp32 (PyTorch)"][task.headline]
    titles = " | ".join(m.title for m in metrics)
    lines = [f"| model | {titles} | Δ {head.title} vs fp32 | size MB | latency ms (1 thread) |",
             "|---" * (len(metrics) + 4) + "|"]
    for name, r in rows.items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error'].splitlines()[0][:160]} |" + " |" * (len(metrics) + 2))
            continue
        size = f"{r['size_mb']:.1f}" if "size_mb" in r else "—"
        values = " | ".join(f"{r[m.key]:.{m.decimals}f}" for m in metrics)
        lines.append(f"| {name} | {values} | {r[head.key] - fp32:+.{head.decimals}f} | {size} | {r['latency_ms']:.1f} |")
    ratio = rows["int8 .pte"]["latency_ms"] / rows["fp32 .pte"]["latency_ms"] if "int8 .pte" in rows else None
    if ratio is not None:
        lines.append(f"\nint8 .pte / fp32 .pte latency: {ratio:.2f}×")
    return "\n".join(lines), ratio


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    table = Int8Table(args)
    table.eager_row("fp32 (PyTorch)", table.model)
    table.ptq()
    qat_path = table.qat(label_free=False)
    if not args.skip_label_free:
        table.qat(label_free=True)
    for label, result in table.exports(qat_path):
        table.artifact_row(label, result)
    text, ratio = markdown(table.rows, table.task)
    write_text_atomically(args.out / "table.md", text + "\n")
    write_json_atomically(args.out / "result.json", {"rows": table.rows, "pte_latency_ratio": ratio, "args": vars(args)},
                          default=str)
    print(text)


if __name__ == "__main__":
    main()
