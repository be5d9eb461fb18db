"""The estimators against the LightAVSeg paper's published mobile latencies (Tables 1, 3, 4).

The paper measures on a Snapdragon 8 Elite CPU with TNN (thread count not stated), fp32. Every row whose
architecture is defined is built here as a LightAVSeg variant (the paper's ablations swap one backbone
and keep the rest), costed per op, and estimated on the 8 Elite profile: the roofline floor with one
thread (prime core) and all eight cores, and, given a calibration file (``python -m bench.calibrate``),
the host-calibrated estimate at the calibration's thread count. The error is (estimate − published) /
published. Rows whose architecture is not defined are listed with the reason, not estimated.

How the variants are built (the paper says only which backbone is swapped):
- Table 3 SeaFormer-Tiny/Base: the upstream configs (edgeav.models.backbones.seaformer), whose seg pyramid is
  strides 8/32/64 (3 levels), so the reciprocal encoder and the decoder have three stages instead of four;
  decoder width and everything else as in the paper config.
- Table 4 VGGish: torchvggish's trunk and head (edgeav.models.backbones.vggish) on its own log-mel front end
  (first 0.96 s, 96×64), in place of the PANNs front end and MobileNetV2; the 128-d embedding is the
  initial audio state.

    python -m bench.studies.paper_latencies                                   # floor only
    python -m bench.studies.paper_latencies --calibration calibration.json --markdown docs/paper_rows.md
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from bench.calibration import CAL_LABEL, Calibration
from bench.cost import OpCost, deployed_costs
from bench.estimate import LABEL, estimate
from bench.profiles import get_profile
from edgeav.errors import EdgeAVError
from edgeav.files import write_text_atomically
from edgeav.models.backbones.seaformer import SEAFORMER_L, SeaFormerConfig
from edgeav.models.backbones.seaformer_variants import SEAFORMER_BASE, SEAFORMER_TINY

PAPER = "LightAVSeg (ICML 2026)"
PAPER_DEVICE = "sd8elite"


@dataclass(frozen=True)
class AudioTrunk:
    """An audio backbone that replaces LightAVSeg's front end + MobileNetV2: builder, log-mel, embedding width."""

    build: Callable[[], nn.Module]
    logmel: str  # name of an edgeav.audio config
    embedding_dim: int


def _vggish() -> nn.Module:
    from edgeav.models.backbones.vggish import VGGISH, VGGish

    return VGGish(VGGISH)


AUDIO_TRUNKS: dict[str, AudioTrunk] = {"vggish": AudioTrunk(_vggish, "VGGISH_LOGMEL", 128)}


@dataclass(frozen=True)
class Variant:
    """LightAVSeg (paper config) with the visual backbone and/or the audio trunk swapped."""

    visual: SeaFormerConfig = SEAFORMER_L
    audio: str = "mobilenetv2"  # the paper's own, or a key of AUDIO_TRUNKS


def build_variant(variant: Variant) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The variant's model (seed 0) and zero example inputs of the deployed graph's shapes."""
    import edgeav.audio
    from edgeav.audio import LogMelFrontEnd
    from edgeav.modelcard import example_inputs
    from edgeav.models.lightavseg.configs import LIGHTAVSEG_PAPER
    from edgeav.models.lightavseg.model import LightAVSeg
    from edgeav.models.segmentation import frame_audio_io_spec

    trunk = AUDIO_TRUNKS.get(variant.audio)
    cfg = replace(LIGHTAVSEG_PAPER, visual=variant.visual)
    if trunk is not None:
        cfg = replace(cfg, audio=replace(cfg.audio, embedding_dim=trunk.embedding_dim))
    torch.manual_seed(0)
    model = LightAVSeg(cfg)
    if trunk is not None:  # same interface: log-mel [B,1,T,F] → embedding [B, embedding_dim]
        model.frontend = LogMelFrontEnd(getattr(edgeav.audio, trunk.logmel))
        model.audio = trunk.build()
    return model.eval(), example_inputs(frame_audio_io_spec(cfg))


@lru_cache(maxsize=8)
def variant_costs(variant: Variant) -> tuple[OpCost, ...]:
    return deployed_costs(*build_variant(variant))


@dataclass(frozen=True)
class PublishedRow:
    table: str
    row: str
    ms: float  # published mobile latency
    gflops: float | None  # published FLOPs, when the table gives them
    variant: Variant | None = None  # how to build it; None when the architecture is not defined
    missing: str = ""  # why it cannot be built, when variant is None


_NO_R50 = "the paper builds it as AVSegFormer with ResNet-50; AVSegFormer is not in edgeav"
PUBLISHED: tuple[PublishedRow, ...] = (
    PublishedRow("Table 1", "Ours (Sea + MNetV2)", 163.4, None, Variant()),
    PublishedRow("Table 1", "AVSBench (Sea + MNetV2)", 237.1, None, missing="AVSBench decoder not in edgeav"),
    PublishedRow("Table 1", "AVSegFormer (Sea + MNetV2)", 432.6, None, missing="AVSegFormer not in edgeav"),
    PublishedRow("Table 1", "SelM (Sea + MNetV2)", 308.6, None, missing="SelM not in edgeav"),
    PublishedRow("Table 3", "SeaFormer-Large", 163.4, 2.70, Variant()),
    PublishedRow("Table 3", "SeaFormer-Base", 80.2, 1.01, Variant(visual=SEAFORMER_BASE)),
    PublishedRow("Table 3", "SeaFormer-Tiny", 22.1, 0.30, Variant(visual=SEAFORMER_TINY)),
    PublishedRow("Table 3", "ResNet-50", 675.0, 81.27, missing=_NO_R50),
    PublishedRow("Table 4", "MobileNetV2 (audio)", 163.4, 2.70, Variant()),
    PublishedRow("Table 4", "YamNet (audio)", 150.4, 2.77, missing="YamNet is not in edgeav (its layout is not in the notes)"),
    PublishedRow("Table 4", "VGGish (audio)", 659.1, 4.37, Variant(audio="vggish")),
)


@dataclass(frozen=True)
class RowCheck:
    row: PublishedRow
    our_gflops: float | None = None
    est_1t_ms: float | None = None  # roofline floor, prime core
    est_all_ms: float | None = None  # roofline floor, every core
    cal_ms: float | None = None  # host-calibrated, at the calibration's thread count

    def error(self, est: float | None) -> float | None:
        return None if est is None else (est - self.row.ms) / self.row.ms


def check_rows(rows: tuple[PublishedRow, ...] = PUBLISHED, profile_key: str = PAPER_DEVICE,
               calibration: Calibration | None = None) -> list[RowCheck]:
    profile = get_profile(profile_key)
    out = []
    for row in rows:
        if row.variant is None:
            out.append(RowCheck(row))
            continue
        costs = variant_costs(row.variant)
        one, every = estimate(costs, profile, 1), estimate(costs, profile, profile.cores)
        cal = calibration.apply(costs, profile, calibration.threads).ms if calibration else None
        out.append(RowCheck(row, one.gflops, one.ms, every.ms, cal))
    return out


def _cell(ms: float | None, err: float | None) -> str:
    return "—" if ms is None or err is None else f"{ms:.1f} ({100 * err:+.0f}%)"


def markdown(checks: list[RowCheck], calibration: Calibration | None = None) -> str:
    cal_head = (f"{CAL_LABEL}, {calibration.threads} thread(s) ms (error)" if calibration
                else f"{CAL_LABEL} ms (error)")
    lines = [
        (f"| {PAPER} row | published ms (8 Elite, TNN) | GFLOPs paper / ours | {LABEL} 1 thread ms (error) | "
         f"floor 8 threads ms (error) | {cal_head} |"),
        "|---|---|---|---|---|---|",
    ]
    for c in checks:
        r = c.row
        if c.est_1t_ms is None:
            lines.append(f"| {r.table}: {r.row} | {r.ms} | {r.gflops or '—'} / — | not built: {r.missing} | — | — |")
            continue
        lines.append(f"| {r.table}: {r.row} | {r.ms} | {r.gflops or '—'} / {c.our_gflops:.2f} | "
                     f"{_cell(c.est_1t_ms, c.error(c.est_1t_ms))} | {_cell(c.est_all_ms, c.error(c.est_all_ms))} | "
                     f"{_cell(c.cal_ms, c.error(c.cal_ms)) if calibration else 'no calibration given'} |")
    notes = ["", "Ours: GFLOPs include the in-graph log-mel front end (≈0.06 G), which the paper's count leaves out."]
    if calibration:
        notes.append(f"Calibration: {calibration.artifact} ({calibration.runtime}, {calibration.precision}) measured "
                     f"{calibration.measured_ms:.1f} ms ({calibration.clock}) on {calibration.host['title']}, "
                     f"{calibration.method} efficiencies, {calibration.created_utc}.")
    return "\n".join(lines + notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.paper_latencies", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibration", type=Path, help="a calibration JSON from python -m bench.calibrate")
    parser.add_argument("--markdown", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        calibration = Calibration.load(args.calibration) if args.calibration else None
        text = markdown(check_rows(calibration=calibration), calibration)
    except EdgeAVError as exc:
        print(f"bench.studies.paper_latencies: error: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.markdown:
        write_text_atomically(args.markdown, text + "\n")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
