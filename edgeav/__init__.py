"""edgeav: audio-visual segmentation and saliency models from a PyTorch checkpoint to a phone."""

__version__ = "0.1.0"
