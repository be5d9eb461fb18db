"""DTFSal in the registry: paper figures, size suffixes, the I/O contract, samples and the objective."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import UsageError
from edgeav.modelcard import example_inputs, measure_cost
from edgeav.registry import get_model_entry


@pytest.fixture(scope="module")
def entry():
    return get_model_entry("dtfsal")


def test_paper_size_params_match_the_paper(entry):
    """49.08 M parameters (±5 %)."""
    params = sum(p.numel() for p in entry.build("paper").parameters())
    assert abs(params / 1e6 / entry.paper.params_m - 1) < 0.05, params


@pytest.mark.slow
def test_paper_size_flops_match_the_paper(entry):
    """297.91 GFLOPs in the paper's convention, conv+linear MACs (±10 %); ~20 s, counted on the meta device."""
    cfg = entry.config("paper")
    torch.manual_seed(0)
    cost = measure_cost(entry.builder(cfg), example_inputs(entry.io_spec(cfg)), on_meta=True)
    assert entry.paper.flops_convention == "conv_linear_macs"
    assert abs(cost.conv_linear_macs / 1e9 / entry.paper.gflops - 1) < 0.10, cost.conv_linear_macs
    assert cost.flops > 2 * cost.conv_linear_macs  # all ops (attention matmuls) on top, as 2×MACs


def test_clip_size_suffix(entry):
    cfg = entry.config("paper@8x64x96")
    assert (cfg.frames, cfg.height, cfg.width) == (8, 64, 96)
    spec = entry.io_spec(cfg)
    assert [s.shape for s in spec.inputs] == [(1, 8, 3, 64, 96), (1, cfg.audio_samples)]
    with pytest.raises(UsageError, match="TxHxW"):
        entry.config("paper@x")


def test_samples_fit_the_io_spec_and_the_model(entry):
    cfg = entry.config("small")
    samples = entry.samples(cfg, 2, 0)
    spec = entry.io_spec(cfg)
    for inputs in samples:
        spec.check_inputs(inputs)
    torch.manual_seed(0)
    out = entry.builder(cfg).eval()(*samples[0])
    assert out.shape == spec.outputs[0].shape


def test_objective_on_dataset_batch(entry):
    from edgeav.data.saliency import SaliencyConfig, SaliencyWindows, SyntheticSaliencyClips

    cfg = entry.config("small")
    clips = SyntheticSaliencyClips(SaliencyConfig(frame_size=(cfg.height, cfg.width), frames_per_clip=8), size=2, seed=0)
    windows = SaliencyWindows(clips, frames=cfg.frames, audio_samples=cfg.audio_samples)
    batch = torch.utils.data.default_collate([windows[0], windows[len(windows) - 1]])
    torch.manual_seed(0)
    model = entry.builder(cfg)
    parts = entry.objective.loss(model.forward_train, model, batch)
    assert set(parts) == {"loss", "kl", "cc"} and torch.isfinite(parts["loss"])
    assert torch.allclose(parts["loss"], parts["kl"] - parts["cc"])
    assert entry.objective.logits(model, batch).shape == (2, 1, cfg.height, cfg.width)
