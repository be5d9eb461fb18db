"""Architectures and their building blocks (layer 1). A model knows nothing of export targets."""
