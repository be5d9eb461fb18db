"""An artifact against the manifest written beside it, checked every time an artifact is opened.

The manifest is the artifact's contract with bench, ``edgeav eval`` and the apps: which model and config made it,
its bytes' sha256 and size, and its inputs and outputs. A manifest that does not describe the bytes beside it
(copied from another artifact, left over from an earlier export, or beside a file corrupted since) would make
every reader silently wrong, so opening refuses it, in one line naming both files and the fix:

- the manifest names this artifact (``artifact``) and its format (``target``);
- the bytes (the tree, for an .mlpackage) have the manifest's ``sha256`` and ``size_bytes``;
- the I/O the manifest declares (names, shapes, dtypes) is the I/O the artifact itself declares, and the I/O of
  the model the caller will feed it (its IOSpec), when the caller has one.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeav.errors import ExportError
from edgeav.files import digest
from edgeav.specs import IOSpec
from export_targets.manifest import manifest_path, read_manifest
from export_targets.target import ArtifactStructure, TargetInfo

_FIX = "re-export the artifact (`edgeav export` writes both), or remove the stale manifest"


def verified_manifest(artifact: Path | str, info: TargetInfo, io_spec: IOSpec | None = None) -> dict[str, Any]:
    """The manifest beside ``artifact`` once it is shown to describe it (see the module doc); ExportError if not."""
    artifact = Path(artifact)
    manifest = read_manifest(artifact)
    check_identity(artifact, manifest, info)
    check_bytes(artifact, manifest)
    if io_spec is not None:
        check_io_spec(artifact, manifest, io_spec)
    return manifest


def _refuse(artifact: Path, problem: str) -> ExportError:
    return ExportError(f"{manifest_path(artifact)} does not describe {artifact}: {problem}; {_FIX}")


def check_identity(artifact: Path, manifest: Mapping[str, Any], info: TargetInfo) -> None:
    """The manifest is this artifact's, of this format (not another artifact's manifest copied beside it)."""
    named = manifest.get("artifact")
    if named != artifact.name:
        raise _refuse(artifact, f"it is the manifest of '{named}'")
    if manifest.get("target") != info.name:
        raise _refuse(artifact, f"it describes a {manifest.get('target')} artifact, this is {info.name}")


def check_bytes(artifact: Path, manifest: Mapping[str, Any]) -> None:
    """The artifact's sha256 and size are the manifest's (a replaced, truncated or corrupted file is refused)."""
    sha, size = digest(artifact)
    if sha != manifest.get("sha256"):
        declared = str(manifest.get("sha256"))[:12]
        raise _refuse(artifact, f"sha256 {sha[:12]}… of {size} bytes, the manifest says {declared}… of "
                                f"{manifest.get('size_bytes')} bytes (changed or corrupted since export)")
    if size != manifest.get("size_bytes"):
        raise _refuse(artifact, f"{size} bytes, the manifest says {manifest.get('size_bytes')}")


def check_io_spec(artifact: Path, manifest: Mapping[str, Any], io_spec: IOSpec) -> None:
    """The manifest's I/O is the IOSpec's the caller will feed (e.g. the registry config it names, today)."""
    io = manifest.get("io") or {}
    for kind, specs in (("inputs", io_spec.inputs), ("outputs", io_spec.outputs)):
        wanted = [(t.name, tuple(t.shape), t.dtype) for t in specs]
        problem = _difference(kind, _declared(io.get(kind, [])), wanted, "the model takes")
        if problem:
            model = f"{manifest.get('model')} [{manifest.get('config_name')}]"
            raise _refuse(artifact, f"{problem} ({model} today; exported from another config or version?)")


def check_declared_io(artifact: Path, manifest: Mapping[str, Any], structure: ArtifactStructure) -> None:
    """The manifest's I/O is what the artifact's own bytes declare (its names: the manifest's ``artifact_io``)."""
    io, own = manifest.get("io") or {}, manifest.get("artifact_io") or {}
    for kind, found in (("inputs", structure.inputs), ("outputs", structure.outputs)):
        declared = _declared(io.get(kind, []))
        names = list(own.get(kind) or [None] * len(declared))
        renamed = sorted(map(str, names)) != sorted(str(d[0]) for d in declared)
        if renamed and len(names) == len(declared):  # compare with the artifact's own names (Core ML renames some)
            declared = [(name if name is not None else d[0], d[1], d[2]) for name, d in zip(names, declared)]
        actual = [(t.name, tuple(t.shape), t.dtype) for t in found]
        if _same_names(declared, actual):  # a runtime may list them in its own order (LiteRT sorts outputs)
            declared, actual = sorted(declared), sorted(actual)
        problem = _difference(kind, declared, actual, "the artifact declares")
        if problem:
            raise _refuse(artifact, problem)


def _same_names(declared: list, actual: list) -> bool:
    names, found = [d[0] for d in declared], [a[0] for a in actual]
    if None in names or None in found or len(set(names)) != len(names):
        return False
    return sorted(names) == sorted(found)


def _declared(tensors: Sequence[Mapping[str, Any]]) -> list[tuple[str | None, tuple[int, ...], str]]:
    return [(t.get("name"), tuple(t.get("shape") or ()), str(t.get("dtype"))) for t in tensors]


def _difference(kind: str, declared: list, actual: list, actual_is: str) -> str:
    """How the manifest's tensors (``declared``) differ from ``actual``, or "" (a None name matches any)."""
    if len(declared) != len(actual):
        return f"it declares {len(declared)} {kind}, {actual_is} {len(actual)}"
    for (d_name, d_shape, d_dtype), (a_name, a_shape, a_dtype) in zip(declared, actual):
        if d_name is not None and a_name is not None and d_name != a_name:
            return f"it declares {kind[:-1]} '{d_name}' where {actual_is} '{a_name}'"
        if d_shape != a_shape or d_dtype != a_dtype:
            return (f"it declares {kind[:-1]} '{d_name or a_name}' as {d_dtype} {d_shape}, {actual_is} "
                    f"{a_dtype} {a_shape}")
    return ""
