"""ExecuTorch per-op times: ETDump events (from the pybindings or the C++ runner) read by the Inspector.

One record is an XNNPACK-internal op (as the delegate logs it) or a portable kernel call.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from export_targets._quiet import captured_output
from export_targets.runtime import OpProfile, OpRecord

METHOD = "ETDump via executorch.devtools.Inspector (XNNPACK-internal ops + portable kernels)"
# ETDump events that are the runtime's own bookkeeping, not operators.
_FRAMEWORK_EVENTS = {"Method::init", "Program::load_method", "Method::execute", "OPERATOR_CALL", "DELEGATE_CALL"}


def etdump_profile(etdump: Path, skip: int = 0, runtime: str = "ExecuTorch") -> OpProfile:
    """Per-op records from an ETDump file, dropping ``skip`` warm-up executions."""
    from executorch.devtools import Inspector

    with captured_output():  # the Inspector prints tables and warnings
        inspector = Inspector(etdump_path=str(etdump))
    return records_from_events(
        [(e.name, list(e.perf_data.raw) if e.perf_data else [], e.op_types)
         for block in inspector.event_blocks if block.name == "Execute" for e in block.events],
        skip=skip, runtime=runtime,
    )


def records_from_events(
    events: Sequence[tuple[str, list[float], Sequence[str]]], skip: int = 0, runtime: str = "ExecuTorch"
) -> OpProfile:
    """ETDump events (name, ms per execution, op types), in log order, as an OpProfile.

    XNNPACK logs its internal ops after the fact, just before the ``DELEGATE_CALL`` that ran them, and
    numbers them per delegate ("Transpose (ND, X32) #1" exists in every delegate): the delegate index
    makes names unique. ``native_call_<op>.out`` events are portable (or optimized) kernel calls.
    """
    delegate = 0
    per_name: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, str, bool]] = {}
    counts: dict[str, int] = defaultdict(int)
    total: list[float] = []
    for name, raw, op_types in events:
        times = list(raw)[skip:]
        if name == "DELEGATE_CALL":
            delegate += 1
            continue
        if name == "Method::execute":
            total = times
            continue
        if name in _FRAMEWORK_EVENTS or not times:
            continue
        key, kind = _event_kind(name, op_types, delegate)
        counts[key] += 1
        if key in per_name:  # a portable op called again in the same execution: sum per execution
            per_name[key] = [a + b for a, b in zip(per_name[key], times)]
        else:
            per_name[key] = times
            kinds[key] = kind
    records = tuple(
        OpRecord(name=k, op_type=kinds[k][0], backend=kinds[k][1], delegated=kinds[k][2],
                 ms=float(statistics.median(v)), calls=counts[k])
        for k, v in per_name.items()
    )
    runs = len(total) if total else max((len(v) for v in per_name.values()), default=0)
    return OpProfile(
        runtime=runtime,
        method=METHOD,
        records=records,
        runs=runs,
        total_ms=float(statistics.median(total)) if total else None,
        notes=("XNNPACK op times are logged by the delegate itself; the gap to the total is dispatch, "
               "layout transposes between delegates and the runtime's own work",),
    )


def _event_kind(name: str, op_types: Sequence[str], delegate: int) -> tuple[str, tuple[str, str, bool]]:
    """A unique record key for an op event, and its (op type, backend, delegated)."""
    if name.startswith("native_call_"):
        op = name.removeprefix("native_call_").removesuffix(".out")
        return name, (op_types[0] if op_types else f"aten.{op}", "portable", False)
    return f"{name} @d{delegate}", (name.split(" #")[0], "XNNPACK", True)
