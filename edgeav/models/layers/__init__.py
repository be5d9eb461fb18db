"""Building blocks shared by the architectures: convolutions, attention, position embeddings, token layouts,
deformable attention (with its export form) and the two ends of a deployable graph."""
