"""The mission study: export a model at each precision to every target (and the ONNX Runtime int8 peer),
then time them all beside PyTorch eager with :mod:`bench.mission` (interleaved, 1 and 2 threads).

    python -m bench.studies.mission_table --model lightavseg --out dist/mission --threads 1,2
    python -m bench.studies.mission_table --model avesformer-r18 --checkpoint runs/ref-s4-96/last.pt
    python -m bench.mission --reuse dist/mission/fp32 dist/mission/int8 --threads 1,2   # time them again

``MISSION_MODELS`` is the list of models and their calibration/gate data. A precision the exporter
rejects is skipped with its one-line reason in the table; formats that cannot run here (Core ML off
macOS) are listed, not timed.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.mission import Skipped, artifacts_in, parser, run_mission
from edgeav.errors import EdgeAVError
from export_targets._quiet import quiet_library_loggers


@dataclass(frozen=True)
class MissionModel:
    """A model of the mission: its int8 calibration / gate data by default."""

    data: str


MISSION_MODELS: dict[str, MissionModel] = {
    "lightavseg": MissionModel(data="synthetic-ms3"),
    "avesformer-r18": MissionModel(data="synthetic-s4"),
    "dtfsal-s": MissionModel(data="synthetic-saliency:clips=40,frames_per_clip=12"),
    "saltr": MissionModel(data="synthetic-saliency-images:images=40"),
    "saltr-s": MissionModel(data="synthetic-saliency-images:images=40"),
}


@dataclass(frozen=True)
class MissionWeights:
    """Which weights the mission exports, and how its int8 graphs are made."""

    checkpoint: Path | None = None  # trained weights (default: the registry's initialisation)
    qat_checkpoint: Path | None = None  # int8 from `edgeav quantize`; else PTQ calibrated on ``data``
    data: str = "synthetic-ms3"  # int8 calibration (train split) and accuracy gate (held-out split)
    eval_limit: int = 200  # held-out frames the int8 gate scores on each artifact


def export_precision(model_name: str, config: str, precision: str, targets: str, out: Path, jobs: int,
                     weights: MissionWeights = MissionWeights(), by_cost: str = "") -> list[Path]:
    """Export ``model_name`` at ``precision`` to ``targets`` (those of them that write it) in ``out``; the
    artifact paths. ``by_cost`` ("host", "arm[:CPU]"): int8 keeps float the operator classes where int8 is
    slower on that device."""
    from edgeav.registry import load_model
    from export_targets.pipeline import export_model
    from export_targets.request import ExportRequest, ExportSubject
    from quantize.plan import plan_int8

    int8 = precision == "int8"
    targets = _writing(targets, precision)
    # Latency does not depend on the int8 gate's verdict: it is recorded in the manifests, not enforced here.
    request = ExportRequest(targets, out, precision, jobs=None if int8 else jobs,
                            **(dict(qat_checkpoint=weights.qat_checkpoint, data=weights.data, force=True,
                                    eval_limit=weights.eval_limit) if int8 else {}))
    loaded = load_model(model_name, config, weights.checkpoint)
    loaded.model.eval()
    subject = ExportSubject.from_registry(loaded)
    plan = None
    if int8:
        options = request.int8_options()
        if by_cost:
            from bench.devices.cost_probes import cost_probe_for

            options = request.int8_options(cost_probe_for(by_cost))
        plan = plan_int8(subject.entry, subject.model, subject.config_name, options)
    return [r.path for r in export_model(subject, request, int8=plan)]


def _writing(targets: str, precision: str) -> str:
    """``targets`` without the formats that do not write ``precision`` (presets are left to the exporter)."""
    from export_targets.formats import FORMATS

    names = [t.strip() for t in targets.split(",") if t.strip()]
    by_name = {f.name: f for f in FORMATS}
    if not all(n in by_name for n in names):
        return targets
    kept = [n for n in names if precision in by_name[n].precisions]
    return ",".join(kept) or targets


def _parser() -> argparse.ArgumentParser:
    p = parser(__doc__)
    p.add_argument("--model", default="lightavseg", choices=sorted(MISSION_MODELS))
    p.add_argument("--config", default="paper")
    p.add_argument("--precisions", default="fp32,int8", help="comma-separated (default: fp32,int8)")
    p.add_argument("--targets", default="all", help="export targets (default: all)")
    p.add_argument("--out", type=Path, default=Path("dist/mission"))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--checkpoint", type=Path, help="trained weights to export (default: the registry's initialisation)")
    p.add_argument("--qat-checkpoint", type=Path, help="int8 graphs from `edgeav quantize` (default: PTQ on --data)")
    p.add_argument("--data", help="int8 calibration and accuracy-gate data (default: the model's, MISSION_MODELS)")
    p.add_argument("--eval-limit", type=int, default=200, help="held-out frames the int8 gate scores (default 200)")
    p.add_argument("--no-peer", action="store_true", help="skip the ONNX Runtime int8 (QDQ) peer")
    p.add_argument("--peer-samples", type=int, default=0,
                   help="calibrate the ORT peer on the first N of edgeav's calibration samples (default: all)")
    p.add_argument("--precision-by-cost", metavar="DEVICE", default="",
                   help="int8: keep depthwise convolutions float where int8 is slower on DEVICE (host or arm[:CPU], measured)")
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
                                      args.jobs, weights, args.precision_by_cost)
        except EdgeAVError as exc:  # e.g. a precision a format refuses: say so, keep going
            print(f"{precision}: skipped ({exc})", flush=True)
            skipped.append(Skipped(f"{precision} (all formats)", str(exc)))
    onnx_fp32 = [p for p in paths if p.suffix == ".onnx"]
    if onnx_fp32 and not args.no_peer:
        paths.append(export_peer(args.model, args.config, onnx_fp32[0], args.out / "int8-ort", weights,
                                 args.peer_samples))
    return paths


def export_peer(model_name: str, config: str, fp32: Path, out: Path, weights: MissionWeights,
                max_samples: int = 0) -> Path:
    """ORT's own int8 of the fp32 ``.onnx``, calibrated on the batches edgeav's PTQ sees (same data, seed);
    ``max_samples`` (0: all 128) keeps the first of them: ORT's MinMax calibrator holds every intermediate
    output of every sample in memory (AVESFormer at 224²: tens of GB for 128)."""
    from edgeav.registry import get_model_entry, load_model
    from edgeav.train.samples import model_samples
    from export_targets.onnx.peer import ort_static_int8
    from quantize.api import input_batches
    from quantize.plan import Int8Options

    entry = get_model_entry(model_name)
    cfg = entry.config(config)
    names = [t.name for t in entry.io_spec(cfg).inputs]
    options = Int8Options()
    model = load_model(model_name, config, weights.checkpoint).model.eval()
    train = model_samples(entry, cfg, weights.data, "train", model)
    feeds = [{n: x[i:i + 1].numpy() for n, x in zip(names, batch)}
             for batch in input_batches(train, names, options.calibration_batches, options.calibration_batch_size,
                                        options.seed)
             for i in range(batch[0].shape[0])][: max_samples or None]
    print(f"ONNX Runtime int8 peer of {fp32.name} ({len(feeds)} calibration samples) → {out}", flush=True)
    return ort_static_int8(fp32, feeds, out / fp32.name.replace("_fp32", "_int8-ort"))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quiet_library_loggers()
    args.data = args.data or MISSION_MODELS[args.model].data
    skipped: list[Skipped] = []
    try:
        paths = _artifacts(args, skipped)
    except EdgeAVError as exc:
        print(f"mission: error: {exc}", file=sys.stderr)
        return 2
    return run_mission(paths, args, args.reuse[0] if args.reuse else args.out, skipped)


if __name__ == "__main__":
    sys.exit(main())
