"""Upstream weights: an mmaction2 MViTv2-S K400 checkpoint and torchvggish load into DTFSal (layouts written here)."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import CheckpointError
from edgeav.models.dtfsal.configs import DTFSAL_PAPER
from edgeav.models.dtfsal.model import DTFSal
from edgeav.models.dtfsal.weights import load_mmaction2_mvit, load_torchvggish, resize_rel_pos


def mmaction2_mvit_small_shapes() -> dict[str, tuple[int, ...]]:
    """Key → shape of ``mvit-small-p244_16x4x1_kinetics400-rgb.pth``, from mmaction2's construction rules
    (``MViT(arch='small')`` at temporal_size 16, spatial_size 224; out_scales=-1 so only norm3)."""
    shapes: dict[str, tuple[int, ...]] = {
        "backbone.cls_token": (1, 1, 96),
        "backbone.patch_embed.projection.weight": (96, 3, 3, 7, 7),
        "backbone.patch_embed.projection.bias": (96,),
        "backbone.norm3.weight": (768,), "backbone.norm3.bias": (768,),
        "cls_head.fc_cls.weight": (400, 768), "cls_head.fc_cls.bias": (400,),
    }
    dim, heads, kv, size, t = 96, 1, 8, 56, 8
    for i in range(16):
        q, out = 1, dim
        if i in (1, 3, 14):
            heads, q, out, kv = heads * 2, 2, dim * 2, max(kv // 2, 1)
        hd, p = out // heads, f"backbone.blocks.{i}."
        shapes.update({p + "norm1.weight": (dim,), p + "norm1.bias": (dim,),
                       p + "attn.qkv.weight": (3 * out, dim), p + "attn.qkv.bias": (3 * out,),
                       p + "attn.proj.weight": (out, out), p + "attn.proj.bias": (out,),
                       p + "attn.rel_pos_h": (2 * max(size // q, size // kv) - 1, hd),
                       p + "attn.rel_pos_w": (2 * max(size // q, size // kv) - 1, hd),
                       p + "attn.rel_pos_t": (2 * t - 1, hd),
                       p + "norm2.weight": (out,), p + "norm2.bias": (out,),
                       p + "mlp.fc1.weight": (4 * out, out), p + "mlp.fc1.bias": (4 * out,),
                       p + "mlp.fc2.weight": (out, 4 * out), p + "mlp.fc2.bias": (out,)})
        for n in "qkv":
            shapes[p + f"attn.pool_{n}.weight"] = (hd, 1, 3, 3, 3)
            shapes[p + f"attn.norm_{n}.weight"] = shapes[p + f"attn.norm_{n}.bias"] = (hd,)
        if out != dim:
            shapes[p + "proj.weight"], shapes[p + "proj.bias"] = (out, dim), (out,)
        dim, size = out, size // q
    return shapes


@pytest.fixture(scope="module")
def model() -> DTFSal:
    torch.manual_seed(0)
    return DTFSal(DTFSAL_PAPER.at_size("4x64x96"))


def _random_state(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {k: torch.randn(s, generator=g) for k, s in shapes.items()}


def test_mmaction2_mvit_small_loads(model):
    state = _random_state(mmaction2_mvit_small_shapes())
    norm0 = model.visual.norm0.weight.detach().clone()
    loaded, skipped = load_mmaction2_mvit(model, {"state_dict": state, "meta": {}})
    assert sorted(skipped) == ["cls_head.fc_cls.bias", "cls_head.fc_cls.weight"]
    assert len(loaded) == len(state) - 2
    own = model.state_dict()
    assert torch.equal(own["visual.blocks.3.attn.qkv.weight"], state["backbone.blocks.3.attn.qkv.weight"])
    assert torch.equal(own["visual.patch_embed.projection.weight"], state["backbone.patch_embed.projection.weight"])
    # Built for 16×224²; this clip (4×64×96) has other q/k sizes: the tables are interpolated as mmaction2 does.
    table = own["visual.blocks.0.attn.rel_pos_w"]
    assert table.shape[0] == 2 * 24 - 1 and state["backbone.blocks.0.attn.rel_pos_w"].shape[0] == 111
    assert torch.allclose(table, resize_rel_pos(state["backbone.blocks.0.attn.rel_pos_w"], 47))
    assert torch.equal(model.visual.norm0.weight, norm0)  # not in the checkpoint: keeps its init


def test_other_mvit_arch_is_refused(model):
    state = _random_state(mmaction2_mvit_small_shapes())
    state["backbone.blocks.16.norm1.weight"] = torch.ones(768)  # MViTv2-B has 24 blocks
    with pytest.raises(CheckpointError, match="another architecture"):
        load_mmaction2_mvit(model, {"state_dict": state})


def test_not_an_mmaction2_checkpoint(model):
    with pytest.raises(CheckpointError, match="mmaction2"):
        load_mmaction2_mvit(model, {"features.0.weight": torch.zeros(64, 1, 3, 3)})


def test_torchvggish_loads_trunk_and_skips_head_and_pca(model):
    widths = [(1, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512)]
    state = {}
    for idx, (cin, cout) in zip((0, 3, 6, 8, 11, 13), widths):
        state[f"features.{idx}.weight"], state[f"features.{idx}.bias"] = torch.randn(cout, cin, 3, 3), torch.randn(cout)
    state.update({"embeddings.0.weight": torch.zeros(4096, 12288), "embeddings.0.bias": torch.zeros(4096),
                  "pproc._pca_matrix": torch.zeros(128, 128)})
    loaded, skipped = load_torchvggish(model, state)
    assert len(loaded) == 12 and sorted(skipped) == ["embeddings.0.bias", "embeddings.0.weight", "pproc._pca_matrix"]
    assert torch.equal(model.audio.vggish[13].weight, state["features.13.weight"])


def test_vggish_of_another_width_is_refused(model):
    with pytest.raises(CheckpointError, match="paper"):
        load_torchvggish(model, {"features.0.weight": torch.zeros(8, 1, 3, 3)})
