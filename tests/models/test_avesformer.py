"""AVESFormer: shapes, paper-size budget, audio wiring, AVSegFormer checkpoints, loss, a training signal."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from edgeav.models.avesformer.configs import AVESFORMER_R18, AVESFORMER_SMALL
from edgeav.models.avesformer.model import AVESFormer, AVESFormerHead, decoder_level_shapes
from edgeav.models.avesformer.objective import avesformer_loss
from edgeav.models.avesformer.weights import load_avsegformer_weights
from edgeav.models.layers.pos_embed import sine_position_embedding
from edgeav.models.losses import dice_loss
from edgeav.registry import get_model_entry


@pytest.fixture(scope="module")
def small_model() -> AVESFormer:
    torch.manual_seed(0)
    return AVESFormer(AVESFORMER_SMALL).eval()


def _inputs(batch: int = 1, seed: int = 0, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(16000) / 16000
    pcm = 0.3 * torch.sin(2 * torch.pi * (200 + 500 * seed) * t) + 0.05 * torch.randn(batch, 16000, generator=g)
    return torch.rand(batch, 3, size, size, generator=g), pcm


def test_forward_gives_probabilities_at_input_size(small_model) -> None:
    with torch.no_grad():
        out = small_model(*_inputs(batch=2))
    assert out.shape == (2, 1, 64, 64)
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0


def test_training_outputs_mask_feature_at_stride_4(small_model) -> None:
    out = small_model.forward_train(*_inputs(batch=2))
    assert out.logits.shape == (2, 1, 64, 64)
    assert out.mask_feature.shape == (2, AVESFORMER_SMALL.dim, 16, 16)


def test_decoder_levels_are_strides_8_16_32() -> None:
    assert decoder_level_shapes(224) == ((28, 28), (14, 14), (7, 7))
    assert decoder_level_shapes(64) == ((8, 8), (4, 4), (2, 2))


def test_prompt_query_generator_keeps_the_learnable_queries_and_depends_on_audio(small_model) -> None:
    pqg = small_model.head.query_generator
    a, b = torch.randn(2, 1, AVESFORMER_SMALL.dim), torch.randn(2, 1, AVESFORMER_SMALL.dim)
    with torch.no_grad():
        qa, qb = pqg(a), pqg(b)
    assert qa.shape == (2, AVESFORMER_SMALL.num_queries, AVESFORMER_SMALL.dim)  # the audio token is dropped
    assert not torch.allclose(qa, qb)


def test_audio_changes_the_mask(small_model) -> None:
    frames, pcm_a = _inputs(seed=1)
    _, pcm_b = _inputs(seed=2)
    with torch.no_grad():
        assert (small_model(frames, pcm_a) - small_model(frames, pcm_b)).abs().max() > 1e-4


def test_other_input_sizes_run_through_the_reference_path(small_model) -> None:
    """The eager model follows any size (positions and reference points computed); export fixes one."""
    with torch.no_grad():
        assert small_model(*_inputs(size=96)).shape == (1, 1, 96, 96)


def test_position_buffer_equals_the_computed_embedding(small_model) -> None:
    head: AVESFormerHead = small_model.head
    computed = sine_position_embedding(head.level_shapes, AVESFORMER_SMALL.dim)
    assert torch.equal(head.pos_embed, computed)
    # the first token's x half: sin/cos of 1/10000^(2i/d) (DETR's unnormalised sine embedding)
    half = AVESFORMER_SMALL.dim // 2
    assert computed[0, half] == pytest.approx(torch.sin(torch.tensor(1.0)).item())


def test_paper_size_budget_and_the_gap_to_the_paper() -> None:
    """96.1 M: VGGish 72.14 + ResNet-18 11.18 + head 12.75. The paper's 108 M fits AVSegFormer's
    B2_ResNet, which keeps an unused second layer3/layer4 (10.5 M for ResNet-18)."""
    model = AVESFormer(AVESFORMER_R18)
    parts = {n: sum(p.numel() for p in c.parameters()) for n, c in model.named_children()}
    assert parts["vggish"] == 72_141_184 and parts["backbone"] == 11_176_512
    total = sum(parts.values())
    assert total == pytest.approx(96.10e6, rel=2e-3)
    dead_branch = sum(p.numel() for n, p in model.backbone.named_parameters() if n.startswith(("layer3", "layer4")))
    assert (total + dead_branch) / 1e6 == pytest.approx(get_model_entry("avesformer-r18").paper.params_m, rel=0.02)


def test_vggish_is_frozen_and_the_rest_trains() -> None:
    model = AVESFormer(AVESFORMER_SMALL)
    assert not any(p.requires_grad for p in model.vggish.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    thawed = AVESFormer(dataclasses.replace(AVESFORMER_SMALL, freeze_audio=False))
    assert all(p.requires_grad for p in thawed.vggish.parameters())


def test_avsegformer_checkpoint_fills_the_shared_parts(small_model) -> None:
    """An AVSegFormer-layout state dict (B2_ResNet branches, vggish., head.transformer.encoder.layers.k, the
    query generator/decoder AVESFormer lacks) loads into the backbone, VGGish, projections, ELF stages, mask head."""
    own = small_model.state_dict()
    g = torch.Generator().manual_seed(3)
    rnd = {k: torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone() for k, v in own.items()}
    upstream = {}
    for k, v in rnd.items():
        k = k.replace("backbone.layer3.", "backbone.layer3_1.").replace("backbone.layer4.", "backbone.layer4_1.")
        k = k.replace("head.mlp.", "head.mlp.layers.")
        for stage in (1, 2):  # attention stages: MSDeformAttn, norm1 and the FFN come from encoder layer k
            for ours, theirs in (("self_attn", "self_attn"), ("norm1", "norm1"), ("ffn.linear1", "linear1"),
                                 ("ffn.linear2", "linear2"), ("ffn.norm", "norm2")):
                k = k.replace(f"head.stages.{stage}.{ours}.", f"head.transformer.encoder.layers.{stage}.{theirs}.")
        upstream[k] = v
    upstream["head.query_generator.layers.0.self_attn.in_proj_weight"] = torch.randn(96, 32)
    upstream["head.transformer.decoder.layers.0.cross_attn.in_proj_weight"] = torch.randn(96, 32)
    upstream["backbone.layer4_2.0.conv1.weight"] = torch.randn(128, 64, 3, 3)
    upstream["head.mlp.layers.0.weight"] = torch.randn(64, 300, 1, 1)  # 300 queries: does not fit
    model = AVESFormer(AVESFORMER_SMALL)
    loaded, skipped = load_avsegformer_weights(model, upstream)
    assert "head.transformer.decoder.layers.0.cross_attn.in_proj_weight" in skipped
    assert "head.mlp.0.weight" in skipped and "backbone.layer4_2.0.conv1.weight" in skipped
    state = model.state_dict()
    for key in ("backbone.layer4.0.conv1.weight", "vggish.embeddings.4.weight", "audio_proj.weight",
                "head.stages.1.self_attn.sampling_offsets.weight", "head.stages.2.ffn.norm.weight",
                "head.level_embed", "head.fc.4.weight", "head.mlp.1.weight"):
        assert key in loaded and torch.equal(state[key], rnd[key])
    assert not torch.equal(state["head.stages.1.cross_attn.q_proj.weight"], rnd["head.stages.1.cross_attn.q_proj.weight"])


def test_loss_weights_follow_the_paper(small_model) -> None:
    out = small_model.forward_train(*_inputs(batch=2))
    target = (torch.rand(2, 1, 64, 64) > 0.7).float()
    parts = avesformer_loss(out, target, 1.8, 1.0, 0.1)
    assert torch.allclose(parts["loss"], 1.8 * parts["bce"] + parts["dice"] + 0.1 * parts["aux"])
    assert torch.allclose(parts["dice"], dice_loss(out.logits, target))


def test_loss_goes_down_on_synthetic_s4() -> None:
    from edgeav.train.samples import FrameSamples

    samples = FrameSamples.from_spec("synthetic-s4:scenes=4,image_size=64", "train", image_size=64)
    batch = {k: torch.stack([samples[i][k] for i in range(4)]) for k in ("frames", "audio", "mask")}
    torch.manual_seed(0)
    model = AVESFormer(AVESFORMER_SMALL).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    cfg = model.cfg
    losses = []
    for _ in range(12):
        loss = avesformer_loss(model.forward_train(batch["frames"], batch["audio"]), batch["mask"],
                               cfg.iou_weight, cfg.dice_weight, cfg.aux_weight)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.7 * losses[0]
