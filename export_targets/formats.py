"""The table of export formats and target presets; every --target / --precision check reads it, and
every saved artifact opens through it (:func:`open_artifact`).

Each format is a folder (``export_targets/<name>/``) whose ``__init__`` holds its row (``INFO``); its
converter is imported only when that format lowers, so listing formats or rejecting a bad option never
imports one.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from edgeav.errors import EdgeAVError, ExportError, MissingDependencyError, UsageError
from edgeav.files import one_line
from edgeav.specs import IOSpec
from export_targets.coreml import INFO as COREML
from export_targets.executorch import INFO as EXECUTORCH
from export_targets.litert import INFO as LITERT
from export_targets.onnx import INFO as ONNX
from export_targets.integrity import check_declared_io, verified_manifest
from export_targets.runtime import ArtifactRunner
from export_targets.target import ExportTarget, TargetInfo

T = TypeVar("T")

FORMATS: tuple[TargetInfo, ...] = (EXECUTORCH, LITERT, COREML, ONNX)

PRESETS: dict[str, tuple[str, ...]] = {
    "android": ("executorch", "litert"),
    "ios": ("coreml", "executorch"),
    "all": ("executorch", "litert", "coreml", "onnx"),
}

# Precisions that exist in edgeav but are not produced by `edgeav export`, with what to do instead.
_DEFERRED_PRECISIONS = {
    "fp16": "fp16 is what Core ML computes in already; use --precision fp32 (other targets export fp32)",
}

_BY_NAME = {f.name: f for f in FORMATS}


def export_formats() -> list[dict[str, object]]:
    """The table of formats as rows (name, title, suffix, precisions, requires, installed, runs here)."""
    rows: list[dict[str, object]] = []
    for f in FORMATS:
        skip = f.run_skip_reason()
        rows.append(
            {
                "format": f.name,
                "title": f.title,
                "suffix": f.suffix,
                "precisions": ", ".join(f"{k}->{v}" if k != v else k for k, v in f.precisions.items()),
                "requires": ", ".join(f.requires),
                "installed": not f.missing_modules(),
                "runs_here": skip is None,
                "note": skip or f.notes,
            }
        )
    return rows


def format_info(name: str) -> TargetInfo:
    if name not in _BY_NAME:
        raise UsageError(_unknown_target(name))
    return _BY_NAME[name]


def resolve_targets(spec: str | list[str] | tuple[str, ...], precision: str | None = None) -> tuple[TargetInfo, ...]:
    """Turn "android", "ios", "all", a format name or a comma list of them into formats, in order.

    With ``precision``, a preset keeps only its formats that export it (``all`` at int8 is every format with
    an int8 export: ONNX is left out); a format named explicitly is kept, for check_precision to refuse.
    """
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[TargetInfo] = []
    for raw in names:
        name = raw.strip().lower()
        formats = [format_info(fmt) for fmt in PRESETS.get(name, (name,))]
        able = [f for f in formats if precision in f.precisions]
        if name in PRESETS and able:  # none able (or an unknown precision): check_precision says why
            formats = able
        out += [f for f in formats if f not in out]
    if not out:
        raise UsageError(_unknown_target(str(spec)))
    return tuple(out)


def check_precision(precision: str, targets: tuple[TargetInfo, ...]) -> None:
    """Raise UsageError unless every target can export ``precision``."""
    if precision in _DEFERRED_PRECISIONS:
        raise UsageError(_DEFERRED_PRECISIONS[precision])
    known = {p for f in FORMATS for p in f.precisions}
    if precision not in known:
        raise UsageError(f"unknown precision '{precision}'; choose one of: {', '.join(sorted(known))}")
    for t in targets:
        if precision not in t.precisions:
            able = [f.name for f in targets if precision in f.precisions]
            fix = f"export {precision} with --target {','.join(able)}" if able else "choose another --target"
            raise UsageError(
                f"{t.name} has no {precision} export (it writes {', '.join(t.precisions)}); {fix}"
            )


def check_installed(targets: tuple[TargetInfo, ...]) -> None:
    """Raise MissingDependencyError naming the pip extra for the first target that cannot lower here."""
    for t in targets:
        missing = t.missing_modules()
        if missing:
            raise MissingDependencyError(
                f"target {t.name} needs {', '.join(missing)}; install it with: pip install 'edgeav[{t.pip_extra}]'"
            )


def get_target(name: str) -> ExportTarget:
    """The format's ExportTarget (its converter is imported when a step runs)."""
    info = format_info(name)
    check_installed((info,))
    return ExportTarget(info)


def format_of(path: Path | str) -> TargetInfo:
    """The format of an artifact, from its suffix."""
    name = Path(path).name
    for info in FORMATS:
        if name.endswith(info.suffix):
            return info
    raise UsageError(f"'{path}' is not an artifact edgeav knows; suffixes: {', '.join(f.suffix for f in FORMATS)}")


def open_artifact(path: Path | str, io_spec: IOSpec | None = None, threads: int | None = None) -> ArtifactRunner:
    """A runner for a saved artifact of any format, with ``threads`` threads (None: the runtime's default).

    The one opener ``bench``, ``edgeav eval`` and scripts use. The artifact is verified against the manifest
    beside it first (export_targets/integrity.py: its name, sha256, size and declared I/O, and ``io_spec`` when
    given); bytes its runtime cannot read, or a runtime that is missing or broken, are one line too. Export
    verification loads the artifact it has just written through the same ``ExportTarget.load``.
    """
    path = Path(path)
    info = format_of(path)
    if info.runtime_module() is None:  # opening needs the runtime only, not the converter
        raise MissingDependencyError(_no_runtime(info, path))
    manifest = verified_manifest(path, info, io_spec)
    target = ExportTarget(info)
    check_declared_io(path, manifest, _opened(info, path, lambda: target.inspect(path)))
    return _opened(info, path, lambda: target.load(path, io_spec, threads))


def _opened(info: TargetInfo, path: Path, step: Callable[[], T]) -> T:
    """``step()`` (inspect or load ``path``), with a broken runtime or unreadable bytes as one line."""
    try:
        return step()
    except ImportError as exc:  # installed but broken (a missing shared library, a partial upgrade)
        raise MissingDependencyError(f"{_no_runtime(info, path)} ({one_line(exc)})") from exc
    except EdgeAVError:
        raise
    except Exception as exc:  # bytes that match their manifest but that this runtime cannot read
        raise ExportError(f"{info.title} cannot read {path} ({one_line(exc)}); its bytes match the manifest, so "
                          "the export wrote a file this runtime refuses: re-export it, or update the runtime to "
                          "the version in the manifest's tools") from exc


def _no_runtime(info: TargetInfo, path: Path) -> str:
    return f"no {info.title} runtime to open {path.name}; install it with: pip install 'edgeav[{info.pip_extra}]'"


def _unknown_target(name: str) -> str:
    return (
        f"unknown target '{name}'; choose one of: {', '.join(PRESETS)} (presets) or "
        f"{', '.join(_BY_NAME)} (formats), comma-separated for several"
    )
