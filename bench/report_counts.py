"""Rendering what an emulated device counted: instructions per inference and per op, and ARM parity.

Used by bench/report.py in place of the millisecond columns when a measurement holds instruction counts
(``--device arm``), so the same summary table, JSON and CSV carry both kinds of device.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from rich.markup import escape
from rich.table import Table

from bench.devices.base import Measurement
from bench.devices.counts import DETERMINISM, WHY_NOT_LATENCY

COUNT_COLUMNS = ("instr./inference", "ARM vs host (max abs / SQNR)", "ARM vs eager")


def counted(measurements: Sequence[Measurement]) -> bool:
    return any(m.instructions is not None for m in measurements)


def count_cells(m: Measurement) -> tuple[str, ...]:
    """The summary row's cells for COUNT_COLUMNS."""
    c = m.instructions
    parity = {p.against: p.summary() for p in m.parity}
    return (f"{c.per_inference:,}" if c else "—", parity.get("host", "—"), parity.get("eager", "—"))


def count_caption(measurements: Sequence[Measurement]) -> str:
    cpu = next(m.instructions.cpu for m in measurements if m.instructions)
    return f"{WHY_NOT_LATENCY}; {DETERMINISM.format(cpu=cpu)}; parity ✓/✗ against " + \
        "; ".join(sorted({f'{p.against}: {p.limit}' for m in measurements for p in m.parity}))


def counts_table(m: Measurement, top: int = 10, name: Callable[[str], str] = str) -> Table:
    """The top ops by guest instructions per inference, with their share of the whole inference
    (``name`` shortens converter op names, as bench.report.short_name does for the ms tables)."""
    c = m.instructions
    assert c is not None
    table = Table(title=f"{escape(m.target.label)} — top {top} ops by ARM instructions ({escape(c.runtime)}, "
                        f"-cpu {escape(c.cpu)})",
                  caption=escape(f"{c.op_method}; shares of the whole inference ({c.per_inference:,} instructions)")
                  + "".join(f"\n{escape(n)}" for n in c.notes), caption_justify="left")
    for col, justify in (("#", "right"), ("op", "left"), ("type", "left"), ("backend", "left"),
                         ("calls", "right"), ("instructions", "right"), ("share", "right")):
        table.add_column(col, justify=justify, overflow="fold" if col == "op" else "ellipsis")
    base = max(c.per_inference, 1)
    for i, r in enumerate(c.top(top), 1):
        table.add_row(str(i), escape(name(r.name)), escape(r.op_type), escape(r.backend), str(r.calls),
                      f"{r.instructions:,}", f"{100 * r.instructions / base:.1f}%")
    table.add_section()
    table.add_row("", f"{len(c.ops)} ops", "", "", "", f"{c.op_sum:,}", f"{100 * c.op_sum / base:.1f}%")
    return table


def counts_csv(measurements: Sequence[Measurement]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["label", "cpu", "runtime", "op", "op_type", "backend", "delegated", "calls", "instructions", "share"])
    for m in measurements:
        c = m.instructions
        assert c is not None
        for r in c.top(len(c.ops)):
            w.writerow([m.target.label, c.cpu, c.runtime, r.name, r.op_type, r.backend, r.delegated, r.calls,
                        r.instructions, f"{r.instructions / max(c.per_inference, 1):.6f}"])
    return buf.getvalue()
