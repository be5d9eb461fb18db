"""Task metrics: AVSBench Jaccard / F-score for segmentation, per-category IoU / F for semantic AVS; CC, NSS, AUC-Judd, SIM, KLD for saliency."""
from edgeav.metrics.saliency import (
    SALIENCY_METRICS,
    SaliencyMeter,
    auc_judd,
    cc,
    kld,
    nss,
    saliency_scores,
    sim,
)
from edgeav.metrics.segmentation import (
    SegmentationMeter,
    fscore,
    fscore_curves,
    jaccard,
    jaccard_per_frame,
)
from edgeav.metrics.semantic import SemanticSegmentationMeter

__all__ = [
    "SALIENCY_METRICS",
    "SaliencyMeter",
    "SegmentationMeter",
    "SemanticSegmentationMeter",
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
