"""AVESFormer (ICLR 2025 submission): architecture (model.py), configs, objective, export forms, upstream
AVSegFormer weights (weights.py) and registry entry (entry.py)."""
