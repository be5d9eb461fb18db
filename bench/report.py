"""Render a BenchReport: rich tables (per op, summary, comparison), JSON, CSV and a PNG bar chart."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from bench.calibration import CAL_LABEL
from bench.devices import Measurement
from bench.estimate import LABEL
from bench.harness import BenchReport
from bench.profiles import PROFILES
from bench.report_counts import COUNT_COLUMNS, count_caption, count_cells, counted, counts_csv
from edgeav.files import write_json_atomically, write_text_atomically
from export_targets.runtime import OpProfile

FORMAT_TITLES = {"executorch": "ExecuTorch .pte", "litert": "LiteRT .tflite", "onnx": "ONNX Runtime .onnx",
                 "coreml": "Core ML .mlpackage", "eager": "PyTorch eager"}


def share_base(profile: OpProfile) -> float:
    """What per-op shares are shares of: the whole-inference time when measured, else the op sum."""
    return profile.total_ms if profile.total_ms else profile.op_ms


def per_op_table(m: Measurement, top: int = 10) -> Table:
    p = m.profile
    assert p is not None
    base = share_base(p)
    table = Table(title=f"{escape(m.target.label)} — top {top} ops ({escape(p.runtime)})",
                  caption=escape(f"{p.method}; shares of {'whole inference ' if p.total_ms else 'op sum '}"
                                 f"{base:.2f} ms over {p.runs} runs") + "".join(f"\n{escape(n)}" for n in p.notes),
                  caption_justify="left")
    for col, justify in (("#", "right"), ("op", "left"), ("type", "left"), ("backend", "left"),
                         ("delegated", "center"), ("calls", "right"), ("ms", "right"), ("share", "right")):
        table.add_column(col, justify=justify, overflow="fold" if col == "op" else "ellipsis")
    for i, r in enumerate(p.top(top), 1):
        table.add_row(str(i), escape(short_name(r.name)), escape(r.op_type), escape(r.backend),
                      "✓" if r.delegated else "—", str(r.calls), f"{r.ms:.3f}", f"{100 * r.ms / base:.1f}%")
    delegated = sum(r.ms for r in p.records if r.delegated)
    table.add_section()
    share_delegated = f"{100 * delegated / max(p.op_ms, 1e-12):.0f}% of op time" if delegated else "—"
    table.add_row("", f"{len(p.records)} ops", "", "", share_delegated,
                  "", f"{p.op_ms:.3f}", f"{100 * p.op_ms / base:.1f}%")
    return table


def summary_table(report: BenchReport, metric: str = "metric") -> Table:
    """Ultralytics-style: format, status, precision, size, task metric, median ms, FPS, estimates."""
    profiles = _profile_keys(report)
    calibrated = _calibrated_keys(report)
    counts = counted(report.measurements)  # an emulated device: instructions and ARM parity, never emulated ms
    table = Table(title=f"edgeav bench — device {escape(report.device)}, {report.settings.threads} thread(s), "
                        f"{report.settings.runs} {'counted' if counts else 'timed'} runs after "
                        f"{report.settings.warmup} warm-up",
                  caption=f"est. = {LABEL} on the profile with the same thread count; "
                          + (escape(count_caption(report.measurements)) if counts else "CV = stdev/mean")
                          + (f"; cal. = {CAL_LABEL}" if report.calibrated else ""),
                  caption_justify="left")
    measured = COUNT_COLUMNS if counts else ("median ms", "p90 ms", "min ms", "CV", "FPS")
    for col in ("format", "status", "precision", "size MB", metric, *measured,
                *(f"est. {PROFILES[k].title.removeprefix('Snapdragon ')} ms" for k in profiles),
                *(f"cal. {PROFILES[k].title.removeprefix('Snapdragon ')} ms" for k in calibrated)):
        table.add_column(escape(col), justify="left" if col in ("format", "status", "precision") else "right")
    for m in report.measurements:
        t, s = m.target, m.stats
        _, value = t.task_metric() if t.format != "eager" else ("", None)
        est = report.estimates.get(t.label, {})
        cal = report.calibrated.get(t.label, {})
        table.add_row(
            escape(FORMAT_TITLES.get(t.format, t.format)), "✅" if m.ok else "❌", t.precision,
            _size(t.size_mb), f"{value:.3f}" if value is not None else "—",
            *(tuple(escape(c) for c in count_cells(m)) if counts else
              (f"{s.median_ms:.2f}", f"{s.p90_ms:.2f}", f"{s.min_ms:.2f}", f"{100 * s.cv:.1f}%" + (" ⚠" if s.noisy else ""),
               f"{s.fps:.1f}") if s else ("—",) * 5),
            *(f"{est[k].ms:.1f}" if k in est else "—" for k in profiles),
            *(f"{cal[k].ms:.1f}" if k in cal else "—" for k in calibrated),
        )
    return table


def comparison_table(report: BenchReport) -> Table:
    stats = {m.target.label: m.stats for m in report.measurements}
    base = report.ratios[0].baseline if report.ratios else ""
    table = Table(title=f"interleaved comparison ({report.settings.runs} rounds), ratios to {escape(base)}",
                  caption="paired = median over rounds of (this run / baseline run in the same round)",
                  caption_justify="left")
    for col in ("target", "median ms", "min ms", "CV", "× baseline (medians)", "× baseline (paired)"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for r in report.ratios:
        s = stats[r.name]
        table.add_row(escape(r.name), f"{s.median_ms:.2f}", f"{s.min_ms:.2f}", f"{100 * s.cv:.1f}%",
                      f"{r.of_medians:.3f}", f"{r.paired_median:.3f}")
    return table


def _profile_keys(report: BenchReport) -> list[str]:
    return list(next(iter(report.estimates.values()), {}))


def _calibrated_keys(report: BenchReport) -> list[str]:
    return list(next(iter(report.calibrated.values()), {}))


def _size(mb: float | None) -> str:
    if not mb:
        return "—"
    return f"{mb:.1f}" if mb >= 1 else f"{mb:.3f}"


def short_name(name: str, limit: int = 60) -> str:
    """Converter names can be a whole module path; keep the last scope component(s)."""
    head = name.split(";")[0]
    parts = [p.split(".")[-1] for p in head.split("/") if p]
    short = "/".join(parts[-2:]) if len(parts) > 1 else head
    prefix = name.split(":", 1)[0] + ":" if ":" in name and name.split(":", 1)[0].isdigit() else ""
    out = short if short.startswith(prefix) else prefix + short
    return out if len(out) <= limit else out[: limit - 1] + "…"


def write_outputs(report: BenchReport, out_dir: Path, stem: str = "bench") -> list[Path]:
    """``<stem>.json`` (everything), ``<stem>.csv`` (summary), ``<stem>_ops.csv`` and ``<stem>_ops.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stem}.json", out_dir / f"{stem}.csv"]
    write_json_atomically(written[0], report.to_dict(), default=str)
    write_text_atomically(written[1], summary_csv(report))
    profiled = [m for m in report.measurements if m.profile]
    if profiled:
        ops_csv = out_dir / f"{stem}_ops.csv"
        write_text_atomically(ops_csv, per_op_csv(profiled))
        png = out_dir / f"{stem}_ops.png"
        plot_per_op(profiled, png)
        written += [ops_csv, png]
    counted_ops = [m for m in report.measurements if m.instructions and m.instructions.ops]
    if counted_ops:
        written.append(out_dir / f"{stem}_instructions.csv")
        write_text_atomically(written[-1], counts_csv(counted_ops))
    return written


def summary_csv(report: BenchReport) -> str:
    buf = io.StringIO()
    profiles = _profile_keys(report)
    calibrated = _calibrated_keys(report)
    w = csv.writer(buf)
    w.writerow(["label", "format", "precision", "size_mb", "metric", "metric_value", "device", "threads", "median_ms",
                "p90_ms", "min_ms", "cv", "fps", "error", "instructions_per_inference", "parity_host_max_abs",
                "parity_host_passed", *(f"estimate_ms_{k}" for k in profiles), *(f"calibrated_ms_{k}" for k in calibrated)])
    for m in report.measurements:
        t, s = m.target, m.stats
        name, value = t.task_metric() if t.format != "eager" else ("", None)
        est, cal = report.estimates.get(t.label, {}), report.calibrated.get(t.label, {})
        w.writerow([t.label, t.format, t.precision, t.size_mb, name, value, m.device, m.threads,
                    *((s.median_ms, s.p90_ms, s.min_ms, s.cv, s.fps) if s else ("",) * 5), m.error,
                    m.instructions.per_inference if m.instructions else "",
                    *next(((p.max_abs, p.passed) for p in m.parity if p.against == "host"), ("", "")),
                    *(est[k].ms if k in est else "" for k in profiles),
                    *(cal[k].ms if k in cal else "" for k in calibrated)])
    return buf.getvalue()


def per_op_csv(measurements: Sequence[Measurement]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["label", "runtime", "method", "op", "op_type", "backend", "delegated", "calls", "ms", "share"])
    for m in measurements:
        p = m.profile
        assert p is not None
        base = share_base(p)
        for r in sorted(p.records, key=lambda r: -r.ms):
            w.writerow([m.target.label, p.runtime, p.method, r.name, r.op_type, r.backend, r.delegated, r.calls,
                        f"{r.ms:.6f}", f"{r.ms / base:.6f}"])
    return buf.getvalue()


def plot_per_op(measurements: Sequence[Measurement], path: Path, top: int = 8) -> None:
    """One horizontal bar chart per profiled target: ms per op type (top ``top``, the rest as 'other')."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(measurements), 1, figsize=(9, 2.2 + 0.42 * top * len(measurements)),
                             squeeze=False)
    for ax, m in zip(axes[:, 0], measurements):
        p = m.profile
        assert p is not None
        by_type = list(p.by_type().items())
        shown = by_type[:top] + ([("other", sum(v for _, v in by_type[top:]))] if len(by_type) > top else [])
        names = [short_name(k, 40) for k, _ in shown][::-1]
        values = [v for _, v in shown][::-1]
        ax.barh(names, values, color="#4477aa")
        ax.set_xlabel("ms per inference")
        total = f", whole inference {p.total_ms:.2f} ms" if p.total_ms else ""
        ax.set_title(f"{m.target.label} — {p.runtime}{total}", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
