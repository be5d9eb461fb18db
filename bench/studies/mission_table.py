"""The mission benchmark: export a model at each precision to every target, then time all artifacts
side by side with PyTorch eager in one interleaved run, and write the README's markdown table.

    python -m bench.studies.mission_table --model lightavseg --precisions fp32,int8 --out dist/mission
    python -m bench.studies.mission_table --checkpoint runs/ref-ms3-128/last.pt --data synthetic-ms3   # trained, PTQ int8
    python -m bench.studies.mission_table --reuse dist/mission            # benchmark artifacts exported earlier

A precision the exporter rejects (e.g. int8 before quantization lands) is skipped with its one-line
reason in the table; formats that cannot run here (Core ML off macOS) are listed, not timed.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.devices import RunSettings, get_device
from bench.estimate import LABEL
from bench.harness import BenchReport, estimates_for, run_compare
from bench.profiles import PROFILES
from bench.report import FORMAT_TITLES, write_outputs
from bench.targets import BenchTarget, eager_twin, resolve_target
from edgeav.errors import EdgeAVError
from edgeav.files import write_text_atomically
from export_targets._quiet import quiet_library_loggers
from export_targets.formats import FORMATS, format_of


@dataclass(frozen=True)
class Skipped:
    what: str
    reason: str
    precision: str = "—"
    size_mb: float | None = None


def skipped_artifact(path: Path, reason: str) -> Skipped:
    """A row for an artifact that cannot run here, titled like the timed rows and sized from its manifest."""
    from export_targets.manifest import read_manifest

    fmt = format_of(path)
    manifest = read_manifest(path)
    size = manifest.get("size_bytes")
    return Skipped(FORMAT_TITLES.get(fmt.name, path.name), reason, str(manifest.get("precision", "—")),
                   size / 1e6 if isinstance(size, (int, float)) else None)


@dataclass(frozen=True)
class MissionWeights:
    """Which weights the mission exports, and how its int8 graphs are made."""

    checkpoint: Path | None = None  # trained weights (default: the registry's initialisation)
    qat_checkpoint: Path | None = None  # int8 from `edgeav quantize`; else PTQ calibrated on ``data``
    data: str = "synthetic-ms3"  # int8 calibration (train split) and accuracy gate (held-out split)
    eval_limit: int = 200  # held-out frames the int8 gate scores on each artifact


def export_precision(model_name: str, config: str, precision: str, targets: str, out: Path, jobs: int,
                     weights: MissionWeights = MissionWeights()) -> list[Path]:
    """Export ``model_name`` at ``precision`` to ``targets`` in ``out``; the artifact paths."""
    from edgeav.registry import load_model
    from export_targets.pipeline import export_model
    from export_targets.request import ExportRequest, ExportSubject

    int8 = precision == "int8"
    # Latency does not depend on the int8 gate's verdict: it is recorded in the manifests, not enforced here.
    request = ExportRequest(targets, out, precision, jobs=None if int8 else jobs,
                            **(dict(qat_checkpoint=weights.qat_checkpoint, data=weights.data, force=True,
                                    eval_limit=weights.eval_limit) if int8 else {}))
    loaded = load_model(model_name, config, weights.checkpoint)
    loaded.model.eval()
    subject = ExportSubject.from_registry(loaded)
    return [r.path for r in export_model(subject, request, int8=request.plan_int8(subject))]


def artifacts_in(folder: Path) -> list[Path]:
    """Artifacts with a manifest beside them, in format-table order."""
    order = {f.suffix: i for i, f in enumerate(FORMATS)}
    found = [m.with_name(m.name.removesuffix(".json")) for m in folder.glob("*.json")]
    found = [p for p in found if p.exists() and any(p.name.endswith(f.suffix) for f in FORMATS)]
    return sorted(found, key=lambda p: (order.get(format_of(p).suffix, 99), p.name))


def runnable(paths: list[Path]) -> tuple[list[BenchTarget], list[Skipped]]:
    targets, skipped = [], []
    for p in paths:
        reason = format_of(p).run_skip_reason()
        if reason:
            skipped.append(skipped_artifact(p, reason))
        else:
            targets.append(resolve_target(p))
    return targets, skipped


def markdown(report: BenchReport, skipped: list[Skipped], profile_keys: list[str]) -> str:
    base = next((m.stats for m in report.measurements if m.target.format == "eager"), None)
    heads = [f"est. {PROFILES[k].title} ms" for k in profile_keys]
    lines = ["| format | precision | size MB | median ms | min ms | CV | × eager | " + " | ".join(heads) + " |",
             "|---|---|---|---|---|---|---|" + "---|" * len(heads)]
    for m in report.measurements:
        t, s = m.target, m.stats
        est = report.estimates.get(t.label, {})
        speed = f"{s.median_ms / base.median_ms:.2f}" if s and base else "—"
        size = f"{t.size_mb:.1f}" if t.size_mb else "—"
        lines.append(f"| {FORMAT_TITLES.get(t.format, t.format)} | {t.precision} | {size} | {s.median_ms:.1f} | "
                     f"{s.min_ms:.1f} | {100 * s.cv:.1f}% | {speed} | "
                     + " | ".join(f"{est[k].ms:.1f}" if k in est else "—" for k in profile_keys) + " |")
    for sk in skipped:
        size = f"{sk.size_mb:.1f}" if sk.size_mb else "—"
        lines.append(f"| {sk.what} | {sk.precision} | {size} | not run: {sk.reason} |" + " |" * (3 + len(heads)))
    lines.append("")
    lines.append(f"Interleaved on host, {report.settings.threads} thread(s), {report.settings.runs} rounds after "
                 f"{report.settings.warmup} warm-up; est. = {LABEL}.")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lightavseg")
    p.add_argument("--config", default="paper")
    p.add_argument("--precisions", default="fp32,int8", help="comma-separated (default: fp32,int8)")
    p.add_argument("--targets", default="all", help="export targets (default: all)")
    p.add_argument("--out", type=Path, default=Path("dist/mission"))
    p.add_argument("--reuse", type=Path, nargs="*", help="skip exporting: benchmark the artifacts in these folders")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--profiles", default="sd8gen2,sd8gen3,sd8elite")
    p.add_argument("--table", type=Path, help="also write the markdown table here (default: <out>/mission.md)")
    p.add_argument("--checkpoint", type=Path, help="trained weights to export (default: the registry's initialisation)")
    p.add_argument("--qat-checkpoint", type=Path, help="int8 graphs from `edgeav quantize` (default: PTQ on --data)")
    p.add_argument("--data", default="synthetic-ms3", help="int8 calibration and accuracy-gate data")
    p.add_argument("--eval-limit", type=int, default=200, help="held-out frames the int8 gate scores (default 200)")
    return p


def _artifacts(args: argparse.Namespace, skipped: list[Skipped]) -> list[Path]:
    """The artifacts to time: reused ones, or each precision exported now (a refused precision is a row)."""
    if args.reuse:
        return [a for folder in args.reuse for a in artifacts_in(folder)]
    weights = MissionWeights(args.checkpoint, args.qat_checkpoint, args.data, args.eval_limit)
    paths: list[Path] = []
    for precision in [x.strip() for x in args.precisions.split(",") if x.strip()]:
        print(f"exporting {args.model} [{args.config}] at {precision} → {args.out / precision}", flush=True)
        try:
            paths += export_precision(args.model, args.config, precision, args.targets, args.out / precision,
                                      args.jobs, weights)
        except EdgeAVError as exc:  # e.g. a precision a format refuses: say so, keep going
            print(f"{precision}: skipped ({exc})", flush=True)
            skipped.append(Skipped(f"{precision} (all formats)", str(exc)))
    return paths


def _measure(args: argparse.Namespace, targets: list[BenchTarget], keys: list[str]) -> BenchReport:
    targets.append(eager_twin(targets[0]))
    settings = RunSettings(threads=args.threads, runs=args.runs, warmup=args.warmup)
    report = run_compare(targets, get_device("host"), settings, lambda m: print(m, flush=True))
    report.estimates = estimates_for(targets, [PROFILES[k] for k in keys], args.threads)
    return report


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet_library_loggers()
    torch.set_num_threads(args.threads)
    keys = [k.strip() for k in args.profiles.split(",") if k.strip()]
    skipped: list[Skipped] = []
    try:
        targets, not_here = runnable(_artifacts(args, skipped))
        skipped += not_here
        if not targets:
            print("mission: nothing to benchmark", file=sys.stderr)
            return 2
        report = _measure(args, targets, keys)
    except EdgeAVError as exc:
        print(f"mission: error: {exc}", file=sys.stderr)
        return 2
    table = markdown(report, skipped, keys)
    out_dir = args.reuse[0] if args.reuse else args.out
    written = write_outputs(report, out_dir, "mission")
    md = write_text_atomically(args.table or out_dir / "mission.md", table + "\n")
    print(table)
    print("\n".join(f"wrote {w}" for w in [*written, md]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
