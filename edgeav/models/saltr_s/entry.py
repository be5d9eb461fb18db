"""SalTR-S's registry entry: the same image-in contract as SalTR, one map out."""
from __future__ import annotations

from edgeav.models.saltr.entry import image_saliency_io_spec, saltr_dataset, still_image_samples
from edgeav.models.saltr_s.configs import CONFIGS
from edgeav.models.saltr_s.model import SalTRS
from edgeav.models.saltr_s.objective import SALTR_S_OBJECTIVE
from edgeav.registry import ModelEntry, PaperFigures, register

register(
    ModelEntry(
        name="saltr-s",
        task="saliency",
        summary="SalTR student: MobileNetV3-Large taps, 2-D side-map decoder, distilled from SalTR's rendered map",
        builder=SalTRS,
        configs=CONFIGS,
        io_spec=image_saliency_io_spec,
        samples=still_image_samples,
        paper=PaperFigures(
            params_m=5.0, gflops=1.5, gflops_input="256×320 image",
            source="design budget (shared/design/students.md A2): ≤ 1.5 GFLOPs, ≤ 5 M params, ≥ 95 % of SalTR's CC",
        ),
        objective=SALTR_S_OBJECTIVE,
        dataset=saltr_dataset,
    )
)
