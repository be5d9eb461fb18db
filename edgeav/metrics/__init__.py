"""Task metrics: AVSBench Jaccard / F-score for segmentation; CC, NSS, AUC-Judd, SIM, KLD for saliency."""
from edgeav.metrics.saliency import SALIENCY_METRICS, auc_judd, cc, kld, nss, saliency_scores, sim
from edgeav.metrics.segmentation import SegmentationMeter, fscore, fscore_curves, jaccard, jaccard_per_frame

__all__ = [
    "SALIENCY_METRICS",
    "SegmentationMeter",
    "auc_judd",
    "cc",
    "fscore",
    "fscore_curves",
    "jaccard",
    "jaccard_per_frame",
    "kld",
    "nss",
    "saliency_scores",
    "sim",
]
