"""Guest instruction counts: what the ARM device reports instead of latency, whole-inference and per op.

The counting plugin (bench/devices/arm/plugin/edgeav_insns.c) writes ``marker <n> insns <total> delta <d>``
when the guest closes fd 0x7e00+n and ``region <depth> insns <d>`` when it pops a region; the guest program
(the C++ runner, or bench/devices/qemu_guest.py) brackets the counted inferences with markers 1 and 2 and
each operator with a region, and prints the region names in the same (end) order. Zipping the two gives
instructions per operator.

Why instructions and not emulated time: qemu translates NEON/XNNPACK code ~300x slower than native and
scalar code ~6x (shared/design/arm.md), so emulated milliseconds distort even the ratios between ops.
Instruction counts are exact and repeat run to run (fixed ``-cpu`` model, its fake /proc/cpuinfo, one
thread, PYTHONHASHSEED=0), but they are not cycles: no caches, no memory stalls, no issue width.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from edgeav.errors import DeviceError

WHY_NOT_LATENCY = ("no latency under emulation: qemu runs XNNPACK's NEON code ~300x slower than a native core "
                   "and scalar code ~6x, so emulated ms distort even ratios; guest instructions instead")
DETERMINISM = ("guest instructions repeat exactly run to run: fixed -cpu {cpu}, its fake /proc/cpuinfo, "
               "1 thread, PYTHONHASHSEED=0; instructions are not cycles (no caches, no memory stalls)")

_MARKER = re.compile(r"^marker (\d+) insns (\d+) delta (\d+)$")
_REGION = re.compile(r"^region (\d+) insns (\d+)$")
_TOTAL = re.compile(r"^total insns (\d+)$")
START, END = 1, 2  # the markers around the counted inferences


@dataclass(frozen=True)
class PluginLog:
    """The counting plugin's lines: markers (n, running total, delta), regions (depth, count) in pop order."""

    markers: tuple[tuple[int, int, int], ...]
    regions: tuple[tuple[int, int], ...]
    total: int | None

    def counted(self) -> int:
        """Instructions between marker 1 and marker 2; DeviceError when the guest never reached them."""
        totals = {n: total for n, total, _ in self.markers}
        if START not in totals or END not in totals:
            raise DeviceError("the counting plugin saw no start/end markers: the guest program stopped before its "
                              "counted runs, or the plugin did not load (run `edgeav device setup arm` again)")
        return totals[END] - totals[START]


def parse_plugin_log(text: str) -> PluginLog:
    markers, regions, total = [], [], None
    for line in text.splitlines():
        line = line.strip()
        if m := _MARKER.match(line):
            markers.append((int(m[1]), int(m[2]), int(m[3])))
        elif m := _REGION.match(line):
            regions.append((int(m[1]), int(m[2])))
        elif m := _TOTAL.match(line):
            total = int(m[1])
    return PluginLog(tuple(markers), tuple(regions), total)


@dataclass(frozen=True)
class OpCount:
    """One operator's guest instructions per inference (summed over its calls in one inference)."""

    name: str
    op_type: str
    backend: str
    delegated: bool
    instructions: int
    calls: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InstructionCounts:
    """What one ARM run counted for one artifact."""

    cpu: str
    per_inference: int  # instructions between the markers / counted runs
    runs: int  # counted inferences (after the warm-up)
    runtime: str
    ops: tuple[OpCount, ...] = ()
    op_method: str = ""  # how the per-op counts were bracketed
    notes: tuple[str, ...] = ()

    def top(self, n: int) -> list[OpCount]:
        return sorted(self.ops, key=lambda r: -r.instructions)[:n]

    @property
    def op_sum(self) -> int:
        return sum(r.instructions for r in self.ops)

    def to_dict(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "per_inference": self.per_inference, "runs": self.runs, "runtime": self.runtime,
                "determinism": DETERMINISM.format(cpu=self.cpu), "why_not_latency": WHY_NOT_LATENCY,
                "op_method": self.op_method, "op_sum": self.op_sum, "notes": list(self.notes),
                "ops": [r.to_dict() for r in self.ops]}


def per_inference(log: PluginLog, runs: int) -> int:
    return round(log.counted() / max(1, runs))


def named_regions(names: Sequence[str], log: PluginLog) -> list[tuple[str, int, int]]:
    """(name, depth, instructions) per region: the guest's names zipped with the plugin's regions."""
    if len(names) != len(log.regions):
        raise DeviceError(f"the guest named {len(names)} regions but the plugin counted {len(log.regions)}; "
                          "the runner and plugin do not match: run `edgeav device setup arm` again")
    return [(name, depth, count) for name, (depth, count) in zip(names, log.regions)]


_ET_FRAMEWORK = {"Method::init", "Program::load_method", "OPERATOR_CALL"}
ET_METHOD = ("ETDump events (DELEGATE_CALL, portable kernel calls) bracketed by plugin regions; an XNNPACK "
             "delegate call counts all the ops inside it")


def executorch_ops(regions: Sequence[tuple[str, int, int]], runs: int) -> tuple[list[OpCount], list[str]]:
    """Per-op counts from the runner's ETDump-event regions, median over the last ``runs`` executions.

    Events end inner-first, so each execution ends with its ``Method::execute``. ``OPERATOR_CALL`` wraps a
    kernel call that has its own ``native_call_*`` event, so it is skipped (it would count twice).
    """
    executions: list[list[tuple[str, int]]] = []
    totals: list[int] = []
    current: list[tuple[str, int]] = []
    for name, _depth, count in regions:
        if name == "Method::execute":
            executions.append(current)
            totals.append(count)
            current = []
        elif name not in _ET_FRAMEWORK:
            current.append((name, count))
    per_key: dict[str, list[int]] = {}
    calls: dict[str, int] = {}
    for i, execution in enumerate(executions[-runs:]):
        sums = _execution_sums(execution)
        for key, total in sums.items():
            per_key.setdefault(key, []).append(total)
        if i == 0:
            calls = {k: sum(1 for n, _ in _keyed(execution) if n == k) for k in sums}
    ops = [OpCount(k, *_et_kind(k), round(statistics.median(v)), calls.get(k, 1)) for k, v in per_key.items()]
    steady = totals[-runs:]
    notes = []
    if len(set(steady)) > 1:
        notes.append(f"counted runs differ by up to {max(steady) - min(steady):,} instructions within one "
                     "process (allocator state); per-op values are medians, repeated processes count the same")
    return ops, notes


def _keyed(execution: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Delegate calls numbered in execution order (``DELEGATE_CALL @d0``...); kernel calls keep their name."""
    out, delegate = [], 0
    for name, count in execution:
        if name == "DELEGATE_CALL":
            name, delegate = f"DELEGATE_CALL @d{delegate}", delegate + 1
        out.append((name, count))
    return out


def _execution_sums(execution: Sequence[tuple[str, int]]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for key, count in _keyed(execution):
        sums[key] = sums.get(key, 0) + count
    return sums


def _et_kind(key: str) -> tuple[str, str, bool]:
    if key.startswith("DELEGATE_CALL"):
        return "DELEGATE_CALL", "XNNPACK", True
    return f"aten.{key.removeprefix('native_call_').removesuffix('.out')}", "portable", False
