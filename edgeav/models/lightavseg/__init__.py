"""LightAVSeg (ICML 2026): architecture (model.py), configs, objective and registry entry (entry.py)."""
