"""The manifest's JSON Schema (``docs/manifest.schema.json`` is written from :func:`manifest_schema`) and the
validator the exporter runs on every manifest it writes.

The validator covers the JSON Schema keywords the schema uses (type, enum, const, required, properties,
additionalProperties, items, minItems, minimum, pattern, oneOf, $ref), so no schema library is needed.
Apps read only the fields named in ``APP_FIELDS``; unknown keys are allowed everywhere (forward compatible).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeav.errors import ExportError

# 1: io + prose output_reading. 2: machine-readable preprocess (image, audio window, recurrent state) /
# postprocess / runtime blocks; labels written once, in postprocess.
SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "manifest.schema.json"
TARGETS = ("executorch", "litert", "coreml", "onnx")
TASKS = ("segmentation", "saliency")
APP_FIELDS = ("schema_version", "model", "config_name", "task", "target", "artifact", "sha256", "size_bytes",
              "precision", "io", "artifact_io", "preprocess", "postprocess", "runtime")

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_RANGE = {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2}
_NAMES = {"type": "array", "items": {"type": ["string", "null"]}}


def _object(required: Mapping[str, Any], optional: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


_TENSOR = _object(
    {"name": _STR, "shape": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
     "dtype": {"enum": ["float32", "float16", "int8", "uint8", "int32", "int64"]}, "layout": _STR},
    {"value_range": {"type": ["array", "null"], "items": _NUM}, "description": _STR},
)
_POSTPROCESS = {"oneOf": [
    _object({"kind": {"const": "threshold"}, "output": _STR, "channel": _INT, "value": _NUM}),
    _object({"kind": {"const": "argmax"}, "output": _STR, "axis": _INT, "background": _INT,
             "labels": {"type": "array", "items": _STR, "minItems": 2}}),
    _object({"kind": {"const": "saliency"}, "output": _STR, "channel": _INT,
             "normalize": {"enum": ["min-max", "none"]}, "colormap": {"enum": ["jet"]}}),
]}
_PREPROCESS = _object({}, {
    "image": _object({"input": _STR, "layout": {"const": "NCHW"}, "channels": {"const": "RGB"},
                      "height": {"type": "integer", "minimum": 1}, "width": {"type": "integer", "minimum": 1},
                      "range": _RANGE, "crop": {"enum": ["centre"]}, "resize": {"enum": ["bilinear"]}}),
    "audio": _object({"input": _STR, "sample_rate": {"type": "integer", "minimum": 1},
                      "samples": {"type": "integer", "minimum": 1}, "channels": {"const": 1}, "range": _RANGE,
                      "window": {"enum": ["centred", "trailing"]},
                      "video_delay_samples": {"type": "integer", "minimum": 0}}),
    "state": {"type": "array", "items": _object({"input": _STR, "from_output": _STR, "initial": {"const": "zeros"}})},
    "other_inputs": {"type": "array", "items": _STR},
})


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a manifest, version :data:`SCHEMA_VERSION`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"edgeav artifact manifest, schema_version {SCHEMA_VERSION}",
        "description": "Written beside each artifact as <artifact>.json by `edgeav export`. Apps read "
                       f"{', '.join(APP_FIELDS)} and ignore every other key.",
        **_object({
            "schema_version": {"const": SCHEMA_VERSION}, "model": _STR, "config_name": _STR,
            "config": {}, "task": {"enum": list(TASKS)}, "version": _STR, "target": {"enum": list(TARGETS)},
            "format": _STR, "artifact": _STR, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "sha256_of": _STR, "size_bytes": {"type": "integer", "minimum": 0}, "precision": _STR,
            "requested_precision": _STR,
            "io": _object({"inputs": {"type": "array", "items": _TENSOR, "minItems": 1},
                           "outputs": {"type": "array", "items": _TENSOR, "minItems": 1},
                           "output_reading": _STR, "audio_window": {"enum": ["centred", "trailing"]}},
                          {"sample_rate": {"type": ["integer", "null"]},
                           "samples_per_frame": {"type": ["integer", "null"]}}),
            "artifact_io": _object({"inputs": _NAMES, "outputs": _NAMES}),
            "preprocess": _PREPROCESS, "postprocess": _POSTPROCESS,
            "runtime": _object({"name": {"enum": list(TARGETS)}, "package": {"type": ["string", "null"]},
                                "version": {"type": ["string", "null"]}}),
            "weights": {"type": "object"}, "rewrites": {"type": "object"}, "warnings": {"type": "array"},
            "lowering": {"type": "object"}, "ops": {"type": "array", "items": _STR},
            "parity": _object({"status": _STR}, {"sqnr_db": {"type": ["number", "string", "null"]}}),
            "export_seconds": _NUM, "verify_seconds": _NUM, "tools": {"type": "object"}, "created_utc": _STR,
        }, {"quantization": {"type": "object"}, "accuracy": {"type": "object"}}),
    }


def schema_text() -> str:
    return json.dumps(manifest_schema(), indent=2) + "\n"


_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": Mapping,
          "array": (list, tuple), "null": type(None)}


def _is(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def schema_errors(value: Any, schema: Mapping[str, Any], where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty when it conforms), each as 'path: problem'."""
    if "oneOf" in schema:
        fits = [schema_errors(value, s, where) for s in schema["oneOf"]]
        if sum(not f for f in fits) == 1:
            return []
        return [f"{where}: matches {sum(not f for f in fits)} of the {len(fits)} allowed forms "
                f"(closest: {min(fits, key=len)[0] if all(fits) else 'several'})"]
    types = schema.get("type")
    if types is not None and not any(_is(value, t) for t in ([types] if isinstance(types, str) else types)):
        return [f"{where}: {json.dumps(value)[:60]} is not of type {types}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {json.dumps(value)[:60]} is not {json.dumps(schema['const'])}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {json.dumps(value)[:60]} is not one of {schema['enum']}"]
    errors: list[str] = []
    if isinstance(value, Mapping):
        errors += [f"{where}: '{k}' is missing" for k in schema.get("required", ()) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                errors += schema_errors(value[key], sub, f"{where}.{key}")
    if isinstance(value, (list, tuple)):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            errors.append(f"{where}: {len(value)} items, allowed {schema.get('minItems', 0)}..{schema.get('maxItems', '∞')}")
        for i, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), f"{where}[{i}]")
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        errors.append(f"{where}: {value} is below {schema['minimum']}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{where}: '{value[:60]}' does not match {schema['pattern']}")
    return errors


def _consistency_errors(manifest: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: the post-processing names a real output, argmax has a label per class."""
    post, io = manifest["postprocess"], manifest["io"]
    outputs = {o["name"]: o for o in io["outputs"]}
    if post["output"] not in outputs:
        return [f"$.postprocess.output: '{post['output']}' is none of the outputs {list(outputs)}"]
    shape = outputs[post["output"]]["shape"]
    if post["kind"] == "argmax" and (len(shape) < 2 or len(post["labels"]) != shape[1]):
        return [f"$.postprocess.labels: {len(post['labels'])} labels for an output of shape {shape}"]
    return []


def check_manifest(manifest: Mapping[str, Any]) -> None:
    """ExportError (one line) unless ``manifest`` conforms to the schema and is self-consistent."""
    errors = schema_errors(manifest, manifest_schema())
    if not errors:
        errors = _consistency_errors(manifest)
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ExportError(f"manifest of {manifest.get('artifact', '?')} breaks schema {SCHEMA_VERSION}: "
                          f"{errors[0]}{more}; fix the model's IOSpec/task or docs/manifest.schema.json")
