"""DTFSal-S: the streaming graph equals the training window, it is export-clean, within budget, and its
objective and samples have the contract the trainer, calibration and the gate read."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.utils.data import default_collate
from torch.utils.flop_counter import FlopCounterMode

from edgeav.errors import InputShapeError, UsageError
from edgeav.models.dtfsal_s.configs import PAPER, SMALL
from edgeav.models.dtfsal_s.model import DTFSalS
from edgeav.models.dtfsal_s.samples import dtfsal_s_dataset
from edgeav.registry import get_model_entry

DATA = "synthetic-saliency:clips=3,frames_per_clip=12,frame_size=64-96,num_categories=6"


@pytest.fixture(scope="module")
def small() -> DTFSalS:
    torch.manual_seed(0)
    model = DTFSalS(SMALL).eval()
    for gate in model.gates.values():  # leave the identity initialisation so that audio changes the map
        torch.nn.init.normal_(gate.film.weight, 0.0, 0.5)
    return model


def _inputs(cfg, k: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    h, w = cfg.frame_size
    return torch.rand(1, k, 3, h, w, generator=g), 0.1 * torch.randn(1, cfg.audio_samples, generator=g)


def test_streaming_from_a_zero_state_equals_the_training_window(small):
    frames, audio = _inputs(SMALL, SMALL.history)
    state = small.initial_state()
    with torch.no_grad():
        for k in range(SMALL.history):
            out, state = small(frames[:, k], audio, state)
        window = small.forward_train(frames, audio)
        assert torch.allclose(out, torch.sigmoid(window.logits), atol=1e-5)
        assert torch.allclose(state, window.next_context, atol=1e-5)
        assert torch.allclose(small.state_from_frames(frames[:, 1:]), state, atol=1e-5)


def test_the_state_carries_the_previous_frames(small):
    frames, audio = _inputs(SMALL, SMALL.history)
    other, _ = _inputs(SMALL, SMALL.history, seed=1)
    with torch.no_grad():
        a = small.forward_train(frames, audio)
        b = small.forward_train(torch.cat([other[:, :1], frames[:, 1:]], 1), audio)
        tone = 0.5 * torch.sin(torch.arange(audio.shape[-1]) * 2 * torch.pi * 440 / 16000)[None]
        c = small.forward_train(frames, tone)
    # an older frame changes today's stride-32 context (and so the map); so does the sound
    assert (a.features[3] - b.features[3]).abs().max() > 1e-2 and not torch.equal(a.logits, b.logits)
    assert (a.features[3] - c.features[3]).abs().max() > 1e-2 and not torch.equal(a.logits, c.logits)
    assert torch.equal(a.features[0], b.features[0])  # the finer levels are this frame's alone


def test_export_clean_graph_no_conv3d_no_5d_no_runtime_shapes(small):
    entry = get_model_entry("dtfsal-s")
    inputs = entry.samples(SMALL, 1, 0)[0]
    program = torch.export.export(small, inputs)
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not any("conv3d" in t or "deform" in t or "grid_sampler" in t for t in targets)
    for node in program.graph.nodes:
        val = node.meta.get("val")
        if isinstance(val, torch.Tensor):
            assert val.dim() <= 4, f"{node.name} is {val.dim()}-D"
            assert all(isinstance(d, int) for d in val.shape), f"{node.name} has a symbolic shape"
    spec = entry.io_spec(SMALL)
    outs = small(*inputs)
    assert [tuple(o.shape) for o in outs] == [s.shape for s in spec.outputs]
    spec.check_inputs(inputs)


def test_paper_size_is_within_the_phone_budget():
    model = DTFSalS(PAPER).eval()
    params = sum(p.numel() for p in model.parameters())
    inputs = get_model_entry("dtfsal-s").samples(PAPER, 1, 0)[0]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs)
    assert params <= 6e6 and counter.get_total_flops() <= 3e9  # per output map (students.md A2)
    assert params >= 1.5e6  # a real MobileNetV2-class student, not a toy


def test_bad_inputs_are_one_line_errors(small):
    frames, audio = _inputs(SMALL, SMALL.history)
    with pytest.raises(InputShapeError, match="consecutive frames"):
        small.forward_train(frames[:, :1], audio)
    with pytest.raises(InputShapeError, match="paper@32x96"):
        small.forward_train(frames[..., :32, :], audio)
    with pytest.raises(InputShapeError, match="16000"):
        small.forward_train(frames, audio[:, :8000])
    with pytest.raises(UsageError, match="multiples of 32"):
        dataclasses.replace(SMALL, frame_size=(100, 96))


def test_config_size_suffix():
    cfg = PAPER.at_size("96x160")
    assert cfg.frame_size == (96, 160) and cfg.state_shape == (1, 3 * 128, 3, 5)
    with pytest.raises(UsageError, match="HxW"):
        PAPER.at_size("96")


def test_samples_feed_both_forwards_and_the_objective(small):
    entry = get_model_entry("dtfsal-s")
    data = dtfsal_s_dataset(SMALL, DATA, "train", model=small)
    batch = default_collate([data[i] for i in range(3)])
    assert batch["history"].shape == (3, SMALL.history, 3, 64, 96) and batch["frames"].shape == (3, 3, 64, 96)
    with torch.no_grad():  # the deployable graph on (frames, audio, state) gives the training window's map
        deployed = torch.cat([small(batch["frames"][i : i + 1], batch["audio"][i : i + 1], batch["context"][i : i + 1])[0]
                              for i in range(3)])
        trained = entry.objective.logits(small, batch)
    assert torch.allclose(deployed, trained, atol=1e-5)
    model = DTFSalS(SMALL).train()
    parts = entry.objective.loss(lambda *x: model.forward_train(*x), model, batch)
    parts["loss"].backward()
    assert torch.isfinite(parts["loss"]) and model.decoder.fuse.weight.grad.abs().sum() > 0


def test_unlabelled_samples_are_left_out_of_the_ground_truth_loss(small):
    entry = get_model_entry("dtfsal-s")
    batch = default_collate([dtfsal_s_dataset(SMALL, DATA, "train")[i] for i in range(2)])
    full = entry.objective.loss(lambda *x: small.forward_train(*x), small, batch)["loss"]
    batch["labelled"] = torch.tensor([True, False])
    batch["saliency"][1] = torch.rand_like(batch["saliency"][1])  # garbage where unlabelled: must not matter
    one = entry.objective.loss(lambda *x: small.forward_train(*x), small, batch)["loss"]
    only = {k: (v[:1] if torch.is_tensor(v) and v.dim() else v) for k, v in batch.items()}
    assert torch.allclose(one, entry.objective.loss(lambda *x: small.forward_train(*x), small, only)["loss"])
    assert not torch.allclose(full, one)
