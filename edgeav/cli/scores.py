"""Score tables of the CLI: a task's metrics (in points, as the task prints them) for one or more rows."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from edgeav.tasks import Task


def scores_table(title: str, task: Task, rows: Sequence[tuple[str, Mapping[str, Any]]], label: str = "") -> Table:
    """One row per ``(name, scores)``: the task's metrics present in the first row's scores, then frames.
    ``label``: the title of a first column holding the row names (none when empty)."""
    table = Table(title=escape(title))
    present = [m for m in task.metrics if m.key in rows[0][1]] if rows else []
    for col in ([label] if label else []) + [m.title for m in present] + ["frames"]:
        table.add_column(col, justify="right")
    for name, scores in rows:
        text = task.format(scores)
        table.add_row(*([escape(name)] if label else []), *(text[m.key] for m in present), f"{int(scores['frames'])}")
    return table
