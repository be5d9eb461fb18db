"""Opening a ``.tflite`` interpreter and reading its signature in call order (runner, profiler, inspect)."""
from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgeav.errors import ExportError, MissingDependencyError
from edgeav.files import one_line


def interpreter_class() -> tuple[type, str]:
    """``ai_edge_litert.interpreter.Interpreter``, else ``tflite_runtime.interpreter.Interpreter``."""
    for module in ("ai_edge_litert.interpreter", "tflite_runtime.interpreter"):
        try:
            return importlib.import_module(module).Interpreter, module.split(".")[0]
        except ImportError:
            continue
    raise MissingDependencyError("no LiteRT runtime; install it with: pip install 'edgeav[tflite]'")


def open_interpreter(path: Path, num_threads: int | None = None) -> Any:
    """An allocated interpreter (default XNNPACK delegate), or a one-line ExportError naming the fix."""
    cls, _ = interpreter_class()
    try:
        interpreter = cls(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise ExportError(f"LiteRT cannot load {Path(path).name} ({one_line(exc)}); re-export it") from exc
    return interpreter


def signature_order(details: dict[str, Any], preferred: Sequence[str] | None = None) -> list[str]:
    """Signature names in call order: ``preferred`` when it names them all, else by tensor index.

    Signature maps are keyed by name, and name order is not call order (``output_10`` < ``output_2``).
    """
    if preferred and set(preferred) == set(details):
        return list(preferred)
    numbered = [re.fullmatch(r"(?:args|output)_(\d+)", k) for k in details]
    if all(numbered):
        return [m.group(0) for m in sorted(numbered, key=lambda m: int(m.group(1)))]
    return sorted(details, key=lambda k: int(details[k]["index"]))
