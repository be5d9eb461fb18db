"""DTFSal on the tiny test config: shapes, gradients, determinism, audio sensitivity and bad input."""
from __future__ import annotations

import copy

import dataclasses

import pytest
import torch

from edgeav.errors import InputShapeError, UsageError
from edgeav.models.dtfsal.configs import DTFSAL_PAPER, DTFSAL_SMALL
from edgeav.models.dtfsal.model import DTFSal
from edgeav.models.saliency_losses import kl_cc_loss


def _inputs(cfg, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(batch, cfg.frames, 3, cfg.height, cfg.width, generator=g)
    audio = 0.1 * torch.randn(batch, cfg.audio_samples, generator=g)
    return frames, audio


@pytest.fixture(scope="module")
def model() -> DTFSal:
    torch.manual_seed(0)
    return DTFSal(DTFSAL_SMALL).eval()


def test_forward_train_shapes_and_range(model):
    c = DTFSAL_SMALL
    out = model.forward_train(*_inputs(c))
    assert out.saliency.shape == (2, 1, c.height, c.width)
    assert [s.shape for s in out.side_maps] == [(2, 1, c.height, c.width)] * 4
    assert [f.shape[2:] for f in out.features] == [(c.frames // 4, c.height // s, c.width // s) for s in (4, 8, 16, 32)]
    for m in [out.saliency, *out.side_maps]:
        assert float(m.detach().min()) > 0.0 and float(m.detach().max()) < 1.0


def test_forward_is_deterministic_and_matches_forward_train(model):
    inputs = _inputs(DTFSAL_SMALL)
    with torch.no_grad():
        a, b = model(*inputs), model(*inputs)
        c = model.forward_train(*inputs).saliency
    assert torch.equal(a, b) and torch.equal(a, c)


def test_kl_cc_backward_reaches_every_parameter():
    torch.manual_seed(0)
    net = DTFSal(DTFSAL_SMALL).train()
    frames, audio = _inputs(DTFSAL_SMALL)
    target = torch.rand(2, 1, DTFSAL_SMALL.height, DTFSAL_SMALL.width)
    out = net.forward_train(frames, audio)
    loss = kl_cc_loss(out.saliency, target)["loss"] + sum(kl_cc_loss(s, target)["kl"] for s in out.side_maps)
    loss.backward()
    # The deformable offsets start at zero (a plain 3×3 conv), so their gradient may vanish at step 0 only
    # through the weights; every parameter must still be in the graph.
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing, missing


def test_audio_changes_the_map_once_the_gates_listen(model):
    frames, audio = _inputs(DTFSAL_SMALL, batch=1)
    other = torch.roll(audio, 4000, dims=1) * 3
    net = copy.deepcopy(model)
    with torch.no_grad():
        assert torch.equal(net(frames, audio), net(frames, other))  # zero-initialised gates: audio injects nothing yet
        for fuse in net.fusion.values():
            fuse.inject.query.weight.normal_()
        a, b = net(frames, audio), net(frames, other)
    assert (a - b).abs().max() > 1e-6


def test_wrong_frame_count_names_the_config(model):
    frames, audio = _inputs(DTFSAL_SMALL)
    with pytest.raises(InputShapeError, match="paper@"):
        model(frames[:, :4], audio)


def test_wrong_frame_size_names_the_size(model):
    frames, audio = _inputs(DTFSAL_SMALL)
    with pytest.raises(InputShapeError, match=f"resized to {DTFSAL_SMALL.height}×{DTFSAL_SMALL.width}"):
        model(frames[..., :32], audio)


def test_short_audio_names_the_length(model):
    frames, audio = _inputs(DTFSAL_SMALL)
    with pytest.raises(InputShapeError, match=str(DTFSAL_SMALL.audio_samples)):
        model(frames, audio[:, :-1])


def test_at_size_parses_clip_suffix():
    c = DTFSAL_PAPER.at_size("8x128x224")
    assert (c.frames, c.height, c.width, c.token_size) == (8, 128, 224, (4, 7))
    assert DTFSAL_PAPER.audio_samples == 24560 and DTFSAL_PAPER.logmel_frames == 152
    with pytest.raises(UsageError, match="TxHxW"):
        DTFSAL_PAPER.at_size("112")
    with pytest.raises(UsageError, match="frames"):
        DTFSAL_PAPER.at_size("12x128x224")
    with pytest.raises(UsageError, match="multiples of 32"):
        dataclasses.replace(DTFSAL_SMALL, height=70)


def test_reduced_clip_config_runs():
    cfg = dataclasses.replace(DTFSAL_SMALL.at_size("4x64x64"), token_size=(2, 2))
    torch.manual_seed(0)
    out = DTFSal(cfg).forward_train(*_inputs(cfg, batch=1))
    assert out.saliency.shape == (1, 1, 64, 64)


def test_cpu_reference_config_trains():
    from edgeav.models.dtfsal.configs import DTFSAL_CPU

    torch.manual_seed(0)
    net = DTFSal(DTFSAL_CPU).train()
    frames, audio = _inputs(DTFSAL_CPU, batch=1)
    out = net.forward_train(frames, audio)
    kl_cc_loss(out.saliency, torch.rand_like(out.saliency))["loss"].backward()
    assert out.saliency.shape == (1, 1, DTFSAL_CPU.height, DTFSAL_CPU.width)
    assert all(p.grad is not None for p in net.parameters())
