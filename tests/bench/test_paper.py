import pytest
import torch

from bench.studies import paper_latencies as paper
from bench.calibration import Calibration
from bench.cost import OpCost
from bench.studies.paper_latencies import (
    PUBLISHED,
    PublishedRow,
    Variant,
    build_variant,
    check_rows,
    main,
    markdown,
)
from bench.profiles import get_profile
from edgeav.models.backbones.seaformer import SEAFORMER_L, SEAFORMER_T, SeaFormer
from edgeav.models.backbones.seaformer_variants import SEAFORMER_VARIANTS


def test_every_published_row_is_estimated_or_says_why_not() -> None:
    assert {r.table for r in PUBLISHED} == {"Table 1", "Table 3", "Table 4"}
    assert all(r.variant or r.missing for r in PUBLISHED)
    text = markdown(check_rows(tuple(r for r in PUBLISHED if r.variant is None)))
    assert text.count("not built:") == sum(r.variant is None for r in PUBLISHED)


# Backbone parameters without a head, measured on the upstream code (shared/design/models.md §1.3).
@pytest.mark.parametrize(("name", "params_m"), [("tiny", 1.62), ("small", 3.91), ("base", 8.49), ("large", 13.73)])
def test_upstream_seaformer_variants_have_the_published_parameter_counts(name: str, params_m: float) -> None:
    model = SeaFormer(SEAFORMER_VARIANTS[name])
    assert sum(p.numel() for p in model.parameters()) / 1e6 == pytest.approx(params_m, abs=0.006)


def test_two_transformer_variants_return_the_upstream_seg_pyramid() -> None:
    feats = SeaFormer(SEAFORMER_VARIANTS["tiny"], input_size=224).eval()(torch.zeros(1, 3, 224, 224))
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 28, 28), (128, 7, 7), (160, 4, 4)]  # strides 8/32/64
    assert SEAFORMER_VARIANTS["large"] is SEAFORMER_L


@pytest.mark.slow  # builds the full VGGish (72 M parameters)
def test_vggish_variant_feeds_its_embedding_to_the_encoder() -> None:
    model, inputs = build_variant(Variant(visual=SEAFORMER_T, audio="vggish"))
    assert type(model.audio).__name__ == "VGGish" and model.encoder[0].audio_proj.in_channels == 128
    with torch.no_grad():
        assert model(*inputs).shape == (1, 1, 224, 224)


def test_calibrated_column_reports_its_error_against_the_published_row(tmp_path, capsys, monkeypatch) -> None:
    costs = (OpCost("convolution", flops=1e9, bytes=1e6, kind="gemm"),)
    monkeypatch.setattr(paper, "variant_costs", lambda variant: costs)
    row = PublishedRow("Table 3", "test row", 100.0, None, Variant())
    # a whole-model calibration with 25% efficiency: the estimate is 4× the floor without dispatch overhead
    cal = Calibration(artifact="a.pte", model="lightavseg", config="paper", runtime="executorch", precision="fp32",
                      threads=1, clock="thread CPU time", measured_ms=4.0, host={"title": "t"},
                      floor_ms={}, class_ms={}, efficiency={}, whole_efficiency=0.25, method="whole-model")
    (check,) = check_rows((row,), calibration=cal)
    prime = get_profile("sd8elite").peak_gops("fp32", 1)
    assert check.cal_ms == pytest.approx(4 * 1e9 / (prime * 1e9) * 1e3)
    text = markdown([check], cal)
    assert f"{check.cal_ms:.1f} ({100 * check.error(check.cal_ms):+.0f}%)" in text and "host-calibrated" in text
    assert main(["--calibration", str(tmp_path / "missing.json")]) == 2
    assert "python -m bench.calibrate" in capsys.readouterr().err


@pytest.mark.slow
def test_paper_size_lightavseg_is_estimated_against_163_ms() -> None:
    (check,) = check_rows(tuple(r for r in PUBLISHED if r.row.startswith("SeaFormer-Large")))
    assert check.our_gflops == pytest.approx(2.70 + 0.056, rel=0.03)  # + the in-graph log-mel front end
    assert 0 < check.est_all_ms < check.est_1t_ms < check.row.ms  # a roofline floor is below any measurement
    assert check.error(check.est_1t_ms) < 0


@pytest.mark.slow
@pytest.mark.parametrize(("row", "rel"), [("SeaFormer-Base", 0.06), ("VGGish (audio)", 0.02)])
def test_backbone_swaps_reproduce_the_published_flops(row: str, rel: float) -> None:
    (check,) = check_rows(tuple(r for r in PUBLISHED if r.row == row))
    assert check.our_gflops - 0.056 == pytest.approx(check.row.gflops, rel=rel)  # ours includes the log-mel
