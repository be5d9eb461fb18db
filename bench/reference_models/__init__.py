"""Reference architectures of published phone latency rows (bench.validate), outside the model zoo.

They live under bench/, not edgeav/models/, on purpose: they are classification networks that only the
estimator's validation builds (no task, no data, no weights: latency needs none), so neither the registry
nor `edgeav models` sees them. ``REFERENCE_MODELS`` maps a name to its builder, input size and the
parameter count its source publishes (checked by tests/bench/test_validate_models.py).
"""
from __future__ import annotations

from bench.reference_models.zoo import REFERENCE_MODELS, ReferenceModel, build_reference, get_reference

__all__ = ["REFERENCE_MODELS", "ReferenceModel", "build_reference", "get_reference"]
