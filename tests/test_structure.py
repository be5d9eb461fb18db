"""The tree's shape, checked by parsing it: the layer order, no import circle, small files and functions.

Layers (PLAN.md; a module may import only from its own layer or the ones above it):
    1 edgeav.{files, errors, specs, tasks, registry, checkpoints, models, data, metrics, audio, ...}
    2 edgeav.train   3 quantize   4 export_targets   5 bench   6 edgeav.cli and edgeav.api
Every import counts, deferred ones inside functions too: a deferred import is how a circle hides.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("edgeav", "quantize", "export_targets", "bench")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

# Imports that run against the order on purpose: `import edgeav` re-exports the API lazily (PEP 562).
ALLOWED_UPWARD = {("edgeav", "edgeav.api")}


def layer(module: str) -> int:
    """The layer of a module of the tree (see the docstring)."""
    top = module.split(".")[0]
    if top == "edgeav":
        if module == "edgeav.api" or module.startswith(("edgeav.api.", "edgeav.cli")):
            return 6
        return 2 if module == "edgeav.train" or module.startswith("edgeav.train.") else 1
    return {"quantize": 3, "export_targets": 4, "bench": 5}[top]


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def known_modules() -> frozenset[str]:
    return frozenset(module_name(p) for p in source_files())


def imported_modules(path: Path) -> Iterator[str]:
    """The tree's modules ``path`` imports (``from pkg import mod`` names the module ``pkg.mod``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known_modules() else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known_modules():  # `import a.b.c` of a non-module attribute
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the modules it imports, less the allowed lazy re-export (it runs on attribute access only)."""
    graph = {module_name(p): set(imported_modules(p)) for p in source_files()}
    for src, dst in ALLOWED_UPWARD:
        graph[src].discard(dst)
    return {k: frozenset(v) for k, v in graph.items()}


def test_the_tree_is_parsed() -> None:
    graph = import_graph()
    assert {"edgeav.files", "edgeav.registry", "export_targets.pipeline", "bench.harness", "edgeav.cli.main"} <= set(graph)
    assert "edgeav.files" in graph["edgeav.checkpoints"]  # from-import of a name
    assert "export_targets.request" in graph["edgeav.cli.export_cmd"]
    assert "quantize.plan" in graph["export_targets.request"]  # a deferred import counts


def test_no_import_runs_against_the_layer_order() -> None:
    wrong = [
        f"{src} (layer {layer(src)}) imports {dst} (layer {layer(dst)})"
        for src, targets in import_graph().items()
        for dst in sorted(targets)
        if layer(dst) > layer(src)
    ]
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_circle() -> None:
    circles = [" -> ".join([*c, c[0]]) for c in strongly_connected(import_graph()) if len(c) > 1]
    assert not circles, "import circles:\n" + "\n".join(circles)


def strongly_connected(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative: the graph is deeper than the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in graph), None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def test_circles_are_found() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]


def test_layers_are_what_plan_md_says() -> None:
    assert [layer(m) for m in ("edgeav.files", "edgeav.models.lightavseg.model", "edgeav.train.trainer",
                               "quantize.plan", "export_targets.pipeline", "bench.studies.int8_table",
                               "edgeav.cli.main", "edgeav.api")] == [1, 1, 2, 3, 4, 5, 6, 6]


def long_functions(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}() has {lines} lines"


def test_no_file_over_400_lines() -> None:
    long = [f"{p.relative_to(ROOT)} has {n} lines" for p in source_files()
            if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES]
    assert not long, f"files over {MAX_FILE_LINES} lines:\n" + "\n".join(long)


def test_no_function_over_60_lines() -> None:
    long = [f for p in source_files() for f in long_functions(p)]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


@pytest.mark.parametrize("lines", [MAX_FUNCTION_LINES, MAX_FUNCTION_LINES + 1])
def test_function_length_is_measured_from_def_to_last_line(lines: int, tmp_path: Path, monkeypatch) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(lines - 1))
    path = tmp_path / "m.py"
    path.write_text(f"def f():\n{body}\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert len(list(long_functions(path))) == (lines > MAX_FUNCTION_LINES)


def test_architecture_md_lists_at_most_8_files_to_follow_an_android_export() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Following `edgeav export --model lightavseg --target android`", 1)[1].split("\n## ", 1)[0]
    files = [line.split("`")[1] for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert 1 <= len(files) <= 8, files
    missing = [f for f in files if not (ROOT / f).is_file()]
    assert not missing, f"docs/architecture.md names files that moved: {missing}"
