"""Export targets: one folder per format behind one protocol, plus rewrites, parity and manifests.

    from export_targets import ExportRequest, ExportSubject, export_model
    export_model(ExportSubject.from_registry(load_model("lightavseg", "small")), ExportRequest("android", "dist/"))
"""
from export_targets.formats import (
    FORMATS,
    PRESETS,
    export_formats,
    format_of,
    get_target,
    open_artifact,
    resolve_targets,
)
from export_targets.parity import ParityReport, measure_parity
from export_targets.pipeline import ExportResult, export_model
from export_targets.request import ExportRequest, ExportSubject
from edgeav.models.rewrites import list_checks, list_rewrites
from export_targets.runtime import ArtifactRunner, OpProfile, OpRecord, Runner
from export_targets.target import (
    ArtifactStructure,
    ExportTarget,
    LoweringReport,
    TargetInfo,
    TensorInfo,
)

__all__ = [
    "FORMATS",
    "PRESETS",
    "ArtifactRunner",
    "ArtifactStructure",
    "ExportRequest",
    "ExportResult",
    "ExportSubject",
    "ExportTarget",
    "LoweringReport",
    "OpProfile",
    "OpRecord",
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
    "measure_parity",
    "open_artifact",
    "resolve_targets",
]
