"""ONNX Runtime per-op times: the session profiler's Chrome trace, one record per graph node's kernel."""
from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from export_targets.runtime import OpProfile, OpRecord

METHOD = "ONNX Runtime session profiler (per graph node kernel time)"


def ort_profile(trace: list[dict[str, Any]], skip: int = 0) -> OpProfile:
    """Per-node records from an ONNX Runtime profile (Chrome-trace events), dropping ``skip`` warm-up runs."""
    runs = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    starts = sorted(int(e["ts"]) for e in runs)
    kept_from = starts[skip] if len(starts) > skip else 0
    times: dict[str, list[float]] = defaultdict(list)
    meta: dict[str, tuple[str, str]] = {}
    for e in trace:
        name = str(e.get("name", ""))
        if e.get("cat") != "Node" or not name.endswith("_kernel_time") or int(e.get("ts", 0)) < kept_from:
            continue
        node = name.removesuffix("_kernel_time")
        times[node].append(float(e["dur"]) / 1000.0)
        args = e.get("args", {})
        meta[node] = (str(args.get("op_name", "?")), str(args.get("provider", "CPUExecutionProvider")))
    n_runs = max(len(starts) - skip, 1)
    records = tuple(
        OpRecord(name=node, op_type=meta[node][0], backend=meta[node][1], delegated=False,
                 # one call per run: the median resists a descheduled run; several: their mean per run
                 ms=statistics.median(v) if len(v) == n_runs else sum(v) / n_runs, calls=max(len(v) // n_runs, 1))
        for node, v in times.items()
    )
    kept = sorted((e for e in runs if int(e["ts"]) >= kept_from), key=lambda e: int(e["ts"]))
    total = statistics.median(float(e["dur"]) / 1000.0 for e in kept) if kept else None
    return OpProfile(runtime="ONNX Runtime", method=METHOD, records=records,
                     runs=n_runs, total_ms=total,
                     notes=("node times are medians over the profiled runs; fused nodes (e.g. Conv+Clip) count once",))
