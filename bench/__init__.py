"""The shared benchmark harness (layer 5): devices, runners reused from export_targets, per-op tables.

Planned by the benchmark issue; the runners it will reuse live in export_targets (load_artifact).
"""
