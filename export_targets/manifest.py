"""The manifest that travels beside each artifact (``<artifact>.json``); the demo apps read it."""
from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import edgeav
from edgeav.errors import UsageError
from edgeav.files import digest, write_json_atomically
from edgeav.specs import IOSpec
from export_targets.base import ArtifactStructure, TargetInfo
from export_targets.parity import ParityReport

SCHEMA_VERSION = 1

# Distribution names whose versions every manifest records (None when not installed).
TOOL_DISTRIBUTIONS = (
    "torch",
    "executorch",
    "litert-torch",
    "ai-edge-litert",
    "tflite-runtime",
    "coremltools",
    "onnx",
    "onnxscript",
    "onnxsim",
    "onnxruntime",
    "numpy",
)


def tool_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"edgeav": edgeav.__version__, "python": platform.python_version()}
    for dist in TOOL_DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def _config_dict(config: Any) -> Any:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return json.loads(json.dumps(dataclasses.asdict(config), default=str))
    if isinstance(config, Mapping):
        return json.loads(json.dumps(dict(config), default=str))
    return repr(config)


def build_manifest(
    *,
    model_name: str,
    config_name: str,
    config: Any,
    task: str,
    info: TargetInfo,
    requested_precision: str,
    artifact: Path,
    io_spec: IOSpec,
    structure: ArtifactStructure,
    weights: Mapping[str, Any],
    rewrites: Mapping[str, int],
    warnings: list[str],
    lowering: Mapping[str, Any],
    ops: tuple[str, ...],
    parity: ParityReport,
    export_seconds: float,
    verify_seconds: float,
    quantization: Mapping[str, Any] | None = None,
    accuracy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything an app or a reviewer needs to know about one artifact, as JSON-ready data."""
    sha, size = digest(artifact)
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model_name,
        "config_name": config_name,
        "config": _config_dict(config),
        "task": task,
        "version": edgeav.__version__,
        "target": info.name,
        "format": info.title,
        "artifact": artifact.name,
        "sha256": sha,
        "sha256_of": "directory tree (sorted 'path\\0sha256\\n' lines)" if artifact.is_dir() else "file",
        "size_bytes": size,
        "precision": info.precisions[requested_precision],
        "requested_precision": requested_precision,
        "io": io_spec.to_dict(),
        # The artifact's own names for the inputs/outputs, in IOSpec order (None: positional only).
        "artifact_io": {
            "inputs": [t.name for t in structure.inputs],
            "outputs": [t.name for t in structure.outputs],
        },
        "labels": list(io_spec.labels),
        "weights": dict(weights),
        "rewrites": dict(rewrites),
        "warnings": list(warnings),
        "lowering": dict(lowering),
        "ops": list(ops),
        "parity": parity.to_dict(),
        # int8 only: the scheme, method (ptq/qat) and calibration data; the artifact's task metric beside fp32.
        **({"quantization": dict(quantization)} if quantization is not None else {}),
        **({"accuracy": dict(accuracy)} if accuracy is not None else {}),
        "export_seconds": round(export_seconds, 2),
        "verify_seconds": round(verify_seconds, 2),
        "tools": tool_versions(),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def manifest_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def write_manifest(manifest: Mapping[str, Any], path: Path) -> None:
    write_json_atomically(path, manifest, allow_nan=False)


def read_manifest(artifact: Path) -> dict[str, Any]:
    """The manifest written beside ``artifact`` by ``edgeav export``, or a one-line error saying what to do."""
    path = manifest_path(Path(artifact))
    if not Path(artifact).exists():
        raise UsageError(f"{artifact} does not exist; pass an artifact written by `edgeav export`")
    if not path.is_file():
        raise UsageError(f"{path.name} is missing beside {Path(artifact).name}; re-export with `edgeav export`, "
                         "which writes the manifest that names the model and its config")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); re-export the artifact") from None
    if not isinstance(manifest, dict) or "model" not in manifest or "config_name" not in manifest:
        raise UsageError(f"{path} is not an edgeav manifest (no 'model'/'config_name'); re-export the artifact")
    return manifest
