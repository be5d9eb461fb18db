"""Validate the Snapdragon-class estimator on published phone CPU latencies it was not fitted on.

    python -m bench.validate                       # export (cached), measure, fit, print the table
    python -m bench.validate --from-json bench/calibrations/validation.json   # re-print from stored numbers

Steps: export the reference architectures the rows measure (bench.reference_models; .pte and .tflite,
fp32 and int8, cached in ``--work``), time every artifact on this host (one pinned thread, thread CPU
time, median of interleaved rounds), split the time by op class (the .pte's ETDump), fit the estimator's
constants on the calibration rows (bench.estimate_rows: per runtime family, the rows of one model that is
not reported), estimate every row and print published ms, estimate and error, calibration rows and
held-out rows in separate tables. The constants, the host numbers and the rule go to ``--json``.

A row whose family names .tflite uses the .tflite measurement; when that artifact is missing (export
failed or ``--formats pte``) it falls back to the .pte of the same model and says so (same XNNPACK kernels).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.estimate_host import FORMATS, HostMeasurement, artifact_path, costs_of, export_reference, measure
from bench.estimate_rows import CALIBRATE, HELD_OUT, PUBLISHED_ROWS, PublishedRow
from bench.estimate_transfer import LABEL, MODES, Fit, Measurements, RowResult, apply, fit, raw_estimate, summarize
from bench.profiles import DeviceProfile, host_profile
from edgeav.errors import EdgeAVError, UsageError
from edgeav.files import write_json_atomically, write_text_atomically

SCHEMA = "edgeav.validation/1"
DEFAULT_JSON = Path("bench/calibrations/validation.json")
GOAL = "≥ 15 held-out rows, median absolute error ≤ 30 %, every row within 2×"


def needed(rows: Sequence[PublishedRow], formats: Sequence[str]) -> list[tuple[str, str, str]]:
    """(model, precision, suffix) of every artifact the rows need: their family's format, and the .pte
    (the op-class split, and the stand-in for a missing .tflite)."""
    out = {(r.model, r.precision, "pte") for r in rows}
    out |= {(r.model, r.precision, r.fmt) for r in rows if r.fmt in formats}
    return sorted(out)


def lookup(measured: Measurements, row: PublishedRow) -> tuple[HostMeasurement | None, str]:
    """The measurement a row uses and a note when it is a stand-in."""
    own = measured.get((row.model, row.precision, row.fmt))
    if own is not None:
        return own, ""
    pte = measured.get((row.model, row.precision, "pte"))
    return pte, (f".pte stands in for .{row.fmt}" if pte is not None else f"no host measurement of {row.model} {row.precision}")


def estimate_rows(rows: Sequence[PublishedRow], measured: Measurements, host: DeviceProfile,
                  modes: Sequence[str] = ("peak",)) -> tuple[Fit, list[RowResult]]:
    """Fit on the calibration rows that have a measurement, then estimate every row."""
    costs: dict[str, Any] = {}

    def raw(row: PublishedRow, mode: str, alpha: float) -> float:
        m, _ = lookup(measured, row)
        assert m is not None
        if mode == "roofline" and row.model not in costs:
            costs[row.model] = costs_of(row.model)
        return raw_estimate(row, m, host, costs.get(row.model, ()), mode, alpha)

    usable = [r for r in rows if lookup(measured, r)[0] is not None]
    model_fit = fit(usable, raw, modes)
    results = {r.row.key: r for r in apply(usable, model_fit, raw)}
    out = []
    for r in rows:
        note = lookup(measured, r)[1]
        res = results.get(r.key, RowResult(r, None))
        out.append(RowResult(r, res.estimate_ms, "; ".join(n for n in (res.note, note) if n)))
    return model_fit, out


# ------------------------------------------------------------------------------------------ tables
def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.0f}%"


def table(results: Sequence[RowResult], role: str) -> str:
    lines = [f"| # | family | device | threads | precision | model | published ms | {LABEL} ms | error | note |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    chosen = [r for r in results if r.row.role == role]
    for i, r in enumerate(chosen, 1):
        est = "—" if r.estimate_ms is None else f"{r.estimate_ms:.1f}"
        flag = " (>2×)" if r.ratio is not None and r.ratio > 2 else ""
        lines.append(f"| {i} | {r.row.family} | {r.row.device} | {r.row.threads} | {r.row.precision} | "
                     f"{r.row.model} | {r.row.ms:g} | {est} | {_pct(r.error)}{flag} | {r.note} |")
    return "\n".join(lines)


_SHORT = {"mobilenet_v1": "MNv1", "mobilenet_v2": "MNv2", "mobilenet_v3_large": "V3-L", "mobilenet_v3_large_min": "V3-L-min",
          "mobilenet_v3_small": "V3-S", "resnet50": "R50"}


def pivot(results: Sequence[RowResult]) -> str:
    """One line per (family, device, threads, precision), one cell per model: published → estimate (error);
    calibration cells are marked *cal*."""
    models = list(dict.fromkeys(r.row.model for r in results))
    lines = ["| family | device | T | prec | " + " | ".join(_SHORT.get(m, m.replace("efficientnet_", "")) for m in models) + " |",
             "|---|---|---|---|" + "---|" * len(models)]
    setups = dict.fromkeys((r.row.family, r.row.device, r.row.threads, r.row.precision) for r in results)
    for fam, dev, t, prec in setups:
        cells = {r.row.model: r for r in results if (r.row.family, r.row.device, r.row.threads, r.row.precision) == (fam, dev, t, prec)}
        row = []
        for m in models:
            r = cells.get(m)
            if r is None:
                row.append("")
                continue
            est = "—" if r.estimate_ms is None else f"{r.estimate_ms:.3g}"
            tag = " *cal*" if r.row.role == CALIBRATE else ""
            row.append(f"{r.row.ms:g} → {est} ({_pct(r.error)}){tag}")
        lines.append(f"| {fam} | {dev} | {t} | {prec} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def summary_lines(results: Sequence[RowResult], model_fit: Fit) -> list[str]:
    lines = []
    for role in (CALIBRATE, HELD_OUT):
        s = summarize([r for r in results if r.row.role == role])
        if s is not None:
            lines.append(f"{role}: {s.rows} rows, median |error| {100 * s.mdape:.1f}%, {s.within_2x}/{s.rows} within 2×, "
                         f"worst {s.worst_ratio:.2f}×")
    held = [r for r in results if r.row.role == HELD_OUT]
    for family in sorted({r.row.family for r in held}):
        s = summarize([r for r in held if r.row.family == family])
        if s is not None:
            lines.append(f"  held-out {family}: {s.rows} rows, median |error| {100 * s.mdape:.1f}%, worst {s.worst_ratio:.2f}×")
    s = summarize(held)
    met = s is not None and s.rows >= 15 and s.mdape <= 0.30 and s.within_2x == s.rows
    lines.append(f"goal ({GOAL}): {'met' if met else 'NOT met'}")
    eta = ", ".join(f"{k} {v:.3g}" for k, v in model_fit.eta.items())
    lines.append(f"fit: mode {model_fit.mode}, α {model_fit.alpha:.3f}, η {eta} "
                 f"(calibration median |error| {100 * model_fit.calibration_mdape:.1f}%)")
    return lines


def report(results: Sequence[RowResult], model_fit: Fit) -> str:
    return "\n".join(["### All rows: published ms → estimate ms (error); *cal* = calibration row", pivot(results), "",
                      "### Held-out rows (never seen by the fit)", table(results, HELD_OUT), "",
                      "### Calibration rows (the fit's only input)", table(results, CALIBRATE), "",
                      *summary_lines(results, model_fit)])


# ------------------------------------------------------------------------------------------ JSON
def to_json(measured: Measurements, host: DeviceProfile, model_fit: Fit, results: Sequence[RowResult],
            noise: str) -> dict[str, Any]:
    core = host.clusters[0]
    return {
        "schema": SCHEMA, "label": LABEL, "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rule": (sys.modules["bench.estimate_transfer"].__doc__ or "").strip(),
        "calibration_rule": (sys.modules["bench.estimate_rows"].__doc__ or "").strip(),
        "host": {"title": host.title, "ghz": core.ghz, "fp32_flops_per_cycle": core.fp32_flops_per_cycle,
                 "int8_ops_per_cycle": core.int8_ops_per_cycle, "dram_gbs": host.dram_gbs, "source": host.source},
        "noise": noise, "fit": model_fit.to_dict(),
        "measurements": [m.to_dict() for m in measured.values()],
        "rows": [{"key": r.row.key, "role": r.row.role, "published_ms": r.row.ms, "estimate_ms": r.estimate_ms,
                  "error": r.error, "source": r.row.source, "note": r.note} for r in results],
    }


def from_json(path: Path) -> tuple[dict[tuple[str, str, str], HostMeasurement], DeviceProfile, str]:
    """The stored host measurements and host profile (the fit is redone from them, not read back)."""
    try:
        data = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {path} ({exc}); make it with: python -m bench.validate --json {path}") from exc
    if data.get("schema") != SCHEMA:
        raise UsageError(f"{path} is not a validation file ({SCHEMA}); make it with: python -m bench.validate")
    measured = {}
    for m in data["measurements"]:
        hm = HostMeasurement(m["model"], m["precision"], m["format"], m["ms"], tuple(m["rounds_ms"]), m["class_share"])
        measured[(hm.model, hm.precision, hm.suffix)] = hm
    h = data["host"]
    from bench.profiles import CoreCluster

    core = CoreCluster(h["title"], 1, h["ghz"], h["fp32_flops_per_cycle"], h["int8_ops_per_cycle"])
    return measured, DeviceProfile("host", h["title"], (core,), h["dram_gbs"], h["source"]), data.get("noise", "")


# ------------------------------------------------------------------------------------------ run
def measure_host(work: Path, formats: Sequence[str], rounds: int, runs: int, export: bool,
                 log: Any) -> tuple[dict[tuple[str, str, str], HostMeasurement], DeviceProfile, str]:
    from bench.calibrate import copy_bandwidth_gbs
    from bench.devices.host import pinned
    from bench.estimate_host import safe_class_share

    paths = {}
    for model, precision, suffix in needed(PUBLISHED_ROWS, formats):
        path = artifact_path(work, model, precision, suffix)
        if export and not path.is_file():
            log(f"export {path.name}")
            try:
                export_reference(work, model, precision, suffix)
            except EdgeAVError as exc:
                log(f"  failed: {exc}")
        if path.is_file():
            paths[(model, precision, suffix)] = path
    if not paths:
        raise UsageError(f"no reference artifacts in {work}; run without --no-export")
    with pinned(1):
        host = host_profile(dram_gbs=copy_bandwidth_gbs())
    rounds_ms = measure(list(paths.values()), rounds, runs, log=log)
    shares = {(m, p): safe_class_share(path) for (m, p, s), path in paths.items() if s == "pte"}
    measured = {key: HostMeasurement(key[0], key[1], key[2], statistics.median(rounds_ms[path]),
                                     tuple(rounds_ms[path]), shares.get(key[:2], {}))
                for key, path in paths.items()}
    spreads = sorted(m.spread for m in measured.values())
    noise = (f"{rounds} interleaved rounds × {runs} runs, thread CPU time, 1 pinned thread on a shared 2-core host; "
             f"spread of round medians (max−min)/median: median {100 * statistics.median(spreads):.0f}%, "
             f"max {100 * spreads[-1]:.0f}%")
    return measured, host, noise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("runs/validate"), help="where reference artifacts are cached")
    parser.add_argument("--formats", default="pte,tflite", help="artifact formats to measure (default: pte,tflite)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default: 5)")
    parser.add_argument("--runs", type=int, default=10, help="runs per artifact per round (default: 10)")
    parser.add_argument("--no-export", action="store_true", help="measure only artifacts already in --work")
    parser.add_argument("--from-json", type=Path, help="skip the host: refit and re-print from a stored validation file")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where the result goes (default: {DEFAULT_JSON})")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this markdown file")
    parser.add_argument("--mode", choices=MODES, default="peak", help="how host time transfers (default: peak)")
    args = parser.parse_args(argv)
    log = lambda msg: print(f"[validate] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    try:
        formats = [f.strip().lstrip(".") for f in args.formats.split(",") if f.strip()]
        if unknown := [f for f in formats if f not in FORMATS]:
            raise UsageError(f"unknown format {unknown[0]!r} in --formats; choose from: {', '.join(FORMATS)}")
        if args.rounds < 1 or args.runs < 1:
            raise UsageError("--rounds and --runs must be at least 1")
        if args.from_json:
            measured, host, noise = from_json(args.from_json)
        else:
            measured, host, noise = measure_host(args.work, formats, args.rounds, args.runs, not args.no_export, log)
        model_fit, results = estimate_rows(PUBLISHED_ROWS, measured, host, (args.mode,))
    except EdgeAVError as exc:
        print(f"bench.validate: error: {exc}", file=sys.stderr)
        return 2
    text = report(results, model_fit) + f"\nhost: {host.title}; noise: {noise}"
    print(text)
    if not args.from_json or args.json != DEFAULT_JSON:
        write_json_atomically(args.json, to_json(measured, host, model_fit, results, noise))
        print(f"wrote {args.json}")
    if args.markdown:
        write_text_atomically(args.markdown, text + "\n")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
