"""Export targets: one module per format behind one protocol, plus rewrites, parity and manifests.

    from export_targets import export_formats, export_model
    export_model(entry, model, "small", "android", "dist/")
"""
from export_targets.base import (
    ArtifactStructure,
    ExportTarget,
    LoweringReport,
    Runner,
    TargetInfo,
    TensorInfo,
)
from export_targets.formats import (
    FORMATS,
    PRESETS,
    export_formats,
    format_of,
    get_target,
    load_artifact,
    resolve_targets,
)
from export_targets.parity import ParityReport, measure_parity
from export_targets.pipeline import ExportResult, export_model
from export_targets.rewrites import list_checks, list_rewrites

__all__ = [
    "FORMATS",
    "PRESETS",
    "ArtifactStructure",
    "ExportResult",
    "ExportTarget",
    "LoweringReport",
    "ParityReport",
    "Runner",
    "TargetInfo",
    "TensorInfo",
    "export_formats",
    "export_model",
    "format_of",
    "get_target",
    "list_checks",
    "list_rewrites",
    "load_artifact",
    "measure_parity",
    "resolve_targets",
]
