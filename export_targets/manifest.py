"""The manifest that travels beside each artifact (``<artifact>.json``); the demo apps read it."""
from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import edgeav
from edgeav.errors import UsageError
from edgeav.files import digest, write_json_atomically
from edgeav.specs import IOSpec
from edgeav.tasks import get_task
from export_targets.manifest_schema import SCHEMA_VERSION, check_manifest
from export_targets.target import ArtifactStructure, TargetInfo
from export_targets.parity import ParityReport

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

# The runtime an app links to run a format, and the distribution whose version it must match.
RUNTIME_DISTRIBUTIONS = {"executorch": "executorch", "litert": "ai-edge-litert", "coreml": "coremltools",
                         "onnx": "onnxruntime"}


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


@dataclass(frozen=True)
class Manifest:
    """One artifact's manifest (``<artifact>.json``), schema :data:`SCHEMA_VERSION`; ``to_dict`` is the JSON.

    The demo apps read ``target``/``runtime``, ``artifact``/``sha256``, ``io``, ``artifact_io``, ``preprocess``
    and ``postprocess``; everything else is for people and tools (apps ignore unknown keys).
    """

    model: str
    config_name: str
    config: Any  # model-specific: apps must ignore it
    task: str
    target: str
    format: str
    artifact: str
    sha256: str
    sha256_of: str
    size_bytes: int
    precision: str
    requested_precision: str
    io: Mapping[str, Any]
    artifact_io: Mapping[str, Any]
    preprocess: Mapping[str, Any]
    postprocess: Mapping[str, Any]
    runtime: Mapping[str, Any]
    weights: Mapping[str, Any]
    rewrites: Mapping[str, int]
    warnings: tuple[str, ...]
    lowering: Mapping[str, Any]
    ops: tuple[str, ...]
    parity: Mapping[str, Any]
    export_seconds: float
    verify_seconds: float
    tools: Mapping[str, Any]
    created_utc: str
    quantization: Mapping[str, Any] | None = None  # int8 only: scheme, method (ptq/qat), calibration data
    accuracy: Mapping[str, Any] | None = None  # int8 only: the artifact's task metric beside fp32
    version: str = edgeav.__version__
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready manifest, checked against :func:`manifest_schema` (a bug here is the exporter's)."""
        d = json.loads(json.dumps(dataclasses.asdict(self), allow_nan=False))
        for key in ("quantization", "accuracy"):
            if d[key] is None:
                del d[key]
        check_manifest(d)
        return d


def preprocess_block(io_spec: IOSpec) -> dict[str, Any]:
    """How an app turns a camera frame and microphone PCM into the inputs (roles found by layout); an input X
    with an output ``next_X`` of its shape is recurrent state (zeros first, then the last call's output)."""
    block: dict[str, Any] = {}
    outputs = {o.name: o for o in io_spec.outputs}
    for spec in io_spec.inputs:
        following = outputs.get(f"next_{spec.name}")
        if spec.layout.startswith("NCHW") and len(spec.shape) == 4:
            block["image"] = {"input": spec.name, "layout": "NCHW", "channels": "RGB", "height": spec.shape[2],
                              "width": spec.shape[3], "range": list(spec.value_range or (0.0, 1.0)),
                              "crop": "centre", "resize": "bilinear"}
        elif spec.layout.startswith("N, samples") and len(spec.shape) == 2 and io_spec.sample_rate:
            samples = spec.shape[1]
            block["audio"] = {
                "input": spec.name, "sample_rate": io_spec.sample_rate, "samples": samples,
                "channels": 1, "range": list(spec.value_range or (-1.0, 1.0)), "window": io_spec.audio_window,
                # A centred model heard half its window after the frame: a live app runs the frame that late.
                "video_delay_samples": samples // 2 if io_spec.audio_window == "centred" else 0,
            }
        elif following is not None and following.shape == spec.shape:
            block.setdefault("state", []).append({"input": spec.name, "from_output": following.name, "initial": "zeros"})
        else:
            block.setdefault("other_inputs", []).append(spec.name)
    return block


def postprocess_block(task: str, io_spec: IOSpec) -> dict[str, Any]:
    """The task's machine-readable output rule for the first output; labels live here, once."""
    out = io_spec.outputs[0]
    channels = out.shape[1] if len(out.shape) == 4 else 1
    return get_task(task).output_reading(out.name, channels, io_spec.labels)


def runtime_block(target: str, tools: Mapping[str, Any]) -> dict[str, Any]:
    dist = RUNTIME_DISTRIBUTIONS.get(target)
    return {"name": target, "package": dist, "version": tools.get(dist) if dist else None}


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
    """Everything an app or a reviewer needs to know about one artifact, as JSON-ready (validated) data."""
    sha, size = digest(artifact)
    tools = tool_versions()
    io = io_spec.to_dict()
    io.pop("labels", None)  # written once, in postprocess (argmax heads)
    return Manifest(
        model=model_name, config_name=config_name, config=_config_dict(config), task=task, target=info.name,
        format=info.title, artifact=artifact.name, sha256=sha,
        sha256_of="directory tree (sorted 'path\\0sha256\\n' lines)" if artifact.is_dir() else "file",
        size_bytes=size, precision=info.precisions[requested_precision], requested_precision=requested_precision,
        io=io,
        # The artifact's own names for the inputs/outputs, in IOSpec order (None: positional only).
        artifact_io={"inputs": [t.name for t in structure.inputs], "outputs": [t.name for t in structure.outputs]},
        preprocess=preprocess_block(io_spec), postprocess=postprocess_block(task, io_spec),
        runtime=runtime_block(info.name, tools), weights=dict(weights), rewrites=dict(rewrites),
        warnings=tuple(warnings), lowering=dict(lowering), ops=tuple(ops), parity=parity.to_dict(),
        export_seconds=round(export_seconds, 2), verify_seconds=round(verify_seconds, 2), tools=tools,
        created_utc=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        quantization=None if quantization is None else dict(quantization),
        accuracy=None if accuracy is None else dict(accuracy),
    ).to_dict()


def manifest_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def write_manifest(manifest: Mapping[str, Any], path: Path) -> None:
    """Validate ``manifest`` against the schema, then write it atomically."""
    check_manifest(manifest)
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
