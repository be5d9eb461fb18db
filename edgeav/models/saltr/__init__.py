"""SalTR: image saliency as set prediction of fixation points (see model.py)."""
