"""Losses, trainer and distillation (layer 2)."""
