"""`edgeav models`: the zoo as a table; `--detail NAME` adds parameters and FLOPs beside the paper's."""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgeav.modelcard import example_inputs, measure_cost
from edgeav.registry import get_model_entry, list_models
from edgeav.tasks import get_task


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the model zoo", description="List the models edgeav can build and export.")
    p.add_argument("--detail", metavar="MODEL", help="count parameters and FLOPs of MODEL's configs")
    p.set_defaults(func=run)


def _fmt_inputs(entry, config_name: str) -> str:
    spec = entry.io_spec(entry.config(config_name))
    return ", ".join(f"{s.name} {'×'.join(map(str, s.shape))}" for s in spec.inputs)


def run(args: argparse.Namespace) -> int:
    console = Console()
    if args.detail:
        return _detail(console, args.detail)
    entries = list_models()
    table = Table(title="edgeav model zoo")
    # Names are what one types next: never wrapped or cut ("avesformer…"); the prose columns wrap, folding a
    # word longer than the column instead of cutting it.
    for col, longest in (("model", max(len(e.name) for e in entries)), ("task", len("segmentation")), ("metric", 0)):
        table.add_column(col, no_wrap=True, min_width=max(len(col), longest))
    for col in ("configs", "inputs (default config)", "summary"):
        table.add_column(col, overflow="fold")
    for entry in entries:
        table.add_row(
            entry.name, entry.task, get_task(entry.task).title, ", ".join(entry.configs), _fmt_inputs(entry, entry.default_config), entry.summary
        )
    console.print(table)
    return 0


def _detail(console: Console, name: str) -> int:
    entry = get_model_entry(name)
    for config_name in entry.configs:
        model = entry.build(config_name)
        cost = measure_cost(model, example_inputs(entry.io_spec(entry.config(config_name))), on_meta=True)
        table = Table(title=escape(f"{entry.name} [{config_name}] — {_fmt_inputs(entry, config_name)}"))
        table.add_column("part")
        table.add_column("params (M)", justify="right")
        table.add_column("GFLOPs", justify="right")
        for part, n in cost.params_by_part.items():
            table.add_row(part, f"{n / 1e6:.3f}", f"{cost.flops_by_part[part] / 1e9:.3f}")
        table.add_row("total", f"{cost.params / 1e6:.3f}", f"{cost.flops / 1e9:.3f}", style="bold")
        paper = entry.paper
        if config_name == entry.default_config and paper.params_m:
            dp = 100 * (cost.params / 1e6 / paper.params_m - 1)
            total, by_part = cost.flops, cost.flops_by_part
            if paper.flops_convention == "conv_linear_macs":
                total, by_part = cost.conv_linear_macs, cost.conv_linear_macs_by_part
            comparable = total - sum(by_part.get(p, 0) for p in paper.flops_excludes)
            table.add_row("paper", f"{paper.params_m:.2f} ({dp:+.1f}%)", _paper_flops(comparable, entry), style="dim")
            notes = [f"paper FLOPs compared without: {', '.join(paper.flops_excludes)}"] if paper.flops_excludes else []
            if paper.flops_convention == "conv_linear_macs":
                notes.append(f"the paper counts conv+linear MACs (ours {comparable / 1e9:.2f} G); all ops, 2×MACs: "
                             f"{cost.flops / 1e9:.2f} GFLOPs")
            table.caption = "; ".join(notes) or None
        console.print(table)
    if entry.paper.source:
        console.print(f"paper figures: {entry.paper.source}")
    return 0


def _paper_flops(measured: int, entry) -> str:
    if not entry.paper.gflops:
        return "—"
    return f"{entry.paper.gflops:.2f} ({100 * (measured / 1e9 / entry.paper.gflops - 1):+.1f}%)"
