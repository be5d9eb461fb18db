"""SalTR-S: the dense-map phone student of SalTR (see model.py)."""
