"""`edgeav export`: a registry model (+ checkpoint) to verified phone artifacts with manifests.

A thin wrapper over ``export_targets.pipeline.export_model``: it validates the options first (cheap, before
any model is built), loads the weights, shows progress and prints the summary table.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from edgeav.cli.app_cmd import check_app, install_into_app
from edgeav.cli.console import live_console
from edgeav.errors import Interrupted, UsageError
from edgeav.registry import get_model_entry, load_model
from export_targets.formats import FORMATS, PRESETS
from export_targets.pipeline import STAGES, ExportResult, export_model
from export_targets.request import ExportRequest, ExportSubject

_PRESET_HELP = ", ".join(f"{name} ({' + '.join(fmts)})" for name, fmts in PRESETS.items() if name != "all")
_TARGET_HELP = f"{_PRESET_HELP}, all, or formats: {', '.join(f.name for f in FORMATS)} (comma-separated)"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="lower a model to phone artifacts and verify each one",
        description="Export a registry model to ExecuTorch / LiteRT / Core ML / ONNX artifacts, verify each "
        "against PyTorch on realistic samples, and write a manifest beside each artifact.",
    )
    p.add_argument("--model", required=True, help="registry name (see `edgeav models`)")
    p.add_argument("--config", help="model config, e.g. paper or small (default: the model's default)")
    p.add_argument("--checkpoint", type=Path, help="trained weights (state dict; loaded with weights_only=True)")
    p.add_argument("--target", default="android", help=f"what to export: {_TARGET_HELP} (default: android)")
    p.add_argument("--out", type=Path, default=Path("dist"), help="output directory (default: dist)")
    p.add_argument("--precision", default="fp32",
                   help="fp32, or int8 (ExecuTorch/LiteRT A8W8, Core ML int8 weights + fp16 activations)")
    q = p.add_argument_group("int8 (see docs/quantize.md)")
    q.add_argument("--qat-checkpoint", type=Path, help="quantized.pt from `edgeav quantize` (else PTQ on --data now)")
    q.add_argument("--data", help="calibration (train split) and accuracy-gate (test split) data, e.g. synthetic-ms3 "
                                  "(default: the --qat-checkpoint's)")
    q.add_argument("--max-drop", type=float, default=None,
                   help="fail if the artifact loses more headline points than this (default: the task's, mIoU 2.0, CC 0.02)")
    q.add_argument("--force", action="store_true", help="publish even when the accuracy gate fails (recorded in the manifest)")
    q.add_argument("--keep-fp32", action="append", default=[], metavar="PATTERN", help="PTQ: leave modules matching this glob float")
    q.add_argument("--calibration-batches", type=int, default=16, help="PTQ calibration batches of 8 (default 16)")
    q.add_argument("--eval-limit", type=int, default=0, help="score only the first N held-out frames (default: all)")
    q.add_argument("--precision-by-cost", metavar="DEVICE", default="",
                   help="PTQ: keep an operator class float where int8 is slower on DEVICE, measured layer by layer: "
                        "host (timed here) or arm[:CPU] (instructions on the emulated ARM core); recorded in the manifest")
    q.add_argument("--cost-classes", default="depthwise_conv", metavar="CLASSES",
                   help="operator classes --precision-by-cost decides (comma-separated: depthwise_conv, "
                        "pointwise_conv, conv, linear; default depthwise_conv)")
    p.add_argument("--app", type=Path, help="also copy the artifacts + manifests into this demo app's models folder "
                                            "(android_demo or ios_demo; sha256-checked, with index.json)")
    p.add_argument("--samples", type=int, default=4, help="realistic samples for the parity check (default: 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the verification samples")
    p.add_argument("--jobs", type=int,
                   help="formats lowered at once, each in its own process (default: min(2, CPUs); 1 at int8)")
    p.set_defaults(func=run)


def request_from(args: argparse.Namespace) -> ExportRequest:
    """The export request the flags describe (validated as it is built: see export_targets/request.py)."""
    return ExportRequest(
        targets=args.target, out_dir=args.out, precision=args.precision, samples=args.samples, seed=args.seed,
        jobs=args.jobs, qat_checkpoint=args.qat_checkpoint, data=args.data, max_drop=args.max_drop, force=args.force,
        keep_fp32=tuple(args.keep_fp32), calibration_batches=args.calibration_batches, eval_limit=args.eval_limit,
        precision_by_cost=args.precision_by_cost,
        cost_classes=tuple(c.strip() for c in args.cost_classes.split(",") if c.strip()),
    )


def run(args: argparse.Namespace) -> int:
    # Validate every option before anything heavy is imported or built.
    request = request_from(args)
    if args.app is not None:
        check_app(args.app, request.format_names)
    get_model_entry(args.model).config(args.config)
    if request.precision == "int8" and args.qat_checkpoint is None and args.checkpoint is None and not args.force:
        raise UsageError("int8 export of untrained weights has no accuracy to keep; pass --checkpoint (or --force)")

    cost = _cost_probe(request)  # now: an ARM core that is not set up fails before the model is built
    err = live_console()
    for notice in request.notices:
        err.print(f"[yellow]{escape(notice)}[/]")
    # The registry's initialisation is reproducible (seeded by --seed) when no checkpoint is given.
    loaded = load_model(args.model, args.config, args.checkpoint, seed=args.seed)
    if loaded.checkpoint is not None:
        info = loaded.checkpoint
        err.print(f"weights: {escape(str(info.path))} ({info.tensors} tensors, sha256 {info.sha256[:12]}…)")
    else:
        err.print(_no_checkpoint_notice(loaded.entry.name, loaded.config_name))

    subject = ExportSubject.from_registry(loaded)
    int8 = _int8_plan(request, subject, err, cost) if request.precision == "int8" else None
    try:
        with _progress(err, request.format_names) as on_stage:
            results = export_model(subject, request, on_stage, int8=int8)
    except Interrupted as exc:  # SIGTERM: the staging folder is gone, --out is as it was (or complete)
        print(f"edgeav: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"edgeav: export interrupted (Ctrl-C): nothing half-written is left in {request.out_dir}", file=sys.stderr)
        return 130
    _print_summary(Console(), results, f"{loaded.entry.name} [{loaded.config_name}] → {args.out}")
    if args.app is not None:
        models = install_into_app(args.app, [r.path for r in results])
        Console().print(f"copied into {escape(str(models))} (index.json updated, sha256 checked)")
    return 0


def _cost_probe(request: ExportRequest) -> tuple[str, Any] | None:
    if not request.precision_by_cost:
        return None
    from bench.devices.cost_probes import cost_probe_for

    return cost_probe_for(request.precision_by_cost)


def _int8_plan(request: ExportRequest, subject: ExportSubject, err: Console, cost: tuple[str, Any] | None):
    source = (f"restoring {escape(str(request.qat_checkpoint))}" if request.qat_checkpoint
              else f"PTQ calibration on {escape(str(request.data))}")
    if cost:
        source += f", operator classes {', '.join(request.cost_classes)} measured on {cost[0]} first"
    err.print(f"int8: {source} …")
    plan = request.plan_int8(subject, cost)
    gate = plan.gate
    if gate.fp32_scores:
        task = gate.task
        err.print(f"int8: fp32 reference {task.format(gate.fp32_scores)[task.headline]} {task.title} on the held-out "
                  f"split ({int(gate.fp32_scores['frames'])} frames); gate --max-drop {gate.max_drop:g}")
    return plan


def _no_checkpoint_notice(model: str, config: str) -> Panel:
    return Panel(
        f"No --checkpoint given: exporting [bold]{escape(model)}[/] ({escape(config)}) with the registry's "
        "initialisation weights.\nThe artifacts are structurally valid and verified, but the model is "
        "untrained: its masks mean nothing.\nPass [bold]--checkpoint PATH[/] to export trained weights.",
        title="[bold]NO CHECKPOINT — UNTRAINED WEIGHTS[/]",
        border_style="bold red",
        expand=False,
    )


@contextlib.contextmanager
def _progress(console: Console, formats: list[str]) -> Iterator:
    steps = len(STAGES) - 1  # "done" completes the bar
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.fields[fmt]:<11}"),
        BarColumn(bar_width=20),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks = {f: progress.add_task("waiting", total=steps, fmt=f, start=False) for f in formats}

        def on_stage(fmt: str, stage: str) -> None:
            task = tasks[fmt]
            if stage == STAGES[0]:
                progress.start_task(task)
            index = STAGES.index(stage)
            progress.update(task, completed=index, description="done" if stage == "done" else f"{stage}…")

        yield on_stage


def _print_summary(console: Console, results: list[ExportResult], title: str) -> None:
    table = Table(title=escape(title))
    for col, justify in (("format", "left"), ("precision", "left"), ("size MB", "right"), ("max abs err", "right"),
                         ("SQNR dB", "right"), ("export s", "right")):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in results:
        p = r.parity
        passed = p.status == "passed"
        table.add_row(
            r.format, r.precision, f"{r.size_mb:.2f}",
            f"{p.max_abs_error:.2e}" if passed else "—", f"{p.sqnr_db:.1f}" if passed else p.status,
            f"{r.export_seconds:.1f}",
        )
    console.print(table)
    for r in results:
        console.print(f"{r.format}: {escape(str(r.path))} (+ .json manifest)", soft_wrap=True)
        if r.parity.status != "passed":
            console.print(f"[yellow]{r.format}: parity {escape(r.parity.summary())}[/]")
        for name, count in r.rewrites.items():
            console.print(f"[dim]{r.format}: rewrite {name} ×{count}[/]")
        if r.accuracy:
            from quantize.gate import gate_summary

            console.print(f"{r.format}: {escape(gate_summary(r.accuracy))}")
        for w in r.warnings:
            console.print(f"[yellow]{r.format}: {escape(w)}[/]", soft_wrap=True)
