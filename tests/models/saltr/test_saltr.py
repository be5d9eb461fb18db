"""SalTR: paper size, deployable outputs, the in-graph map, the deformable config and its export form."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from edgeav.models.rewrites import rewrite
from edgeav.models.saltr.configs import CONFIGS, SalTRConfig
from edgeav.models.saltr.model import SalTR
from edgeav.models.saltr.render import GaussianFixationMap
from edgeav.registry import get_model_entry


def _small(name: str = "small") -> tuple[SalTR, torch.Tensor]:
    torch.manual_seed(0)
    cfg = CONFIGS[name]
    return SalTR(cfg).eval(), torch.rand(2, 3, *cfg.image_size)


def test_paper_size_has_detr_r50_parameters():
    params = sum(p.numel() for p in SalTR(CONFIGS["paper"]).parameters()) / 1e6
    assert params == pytest.approx(41.3, rel=0.02)  # DETR-R50's 41.3 M; the class head has 2 outputs, not 92


def test_paper_config_is_detr():
    cfg = CONFIGS["paper"]
    assert (cfg.dim, cfg.encoder_layers, cfg.decoder_layers, cfg.heads, cfg.ffn_dim, cfg.num_queries) == (256, 6, 6, 8, 2048, 100)
    assert cfg.sigma_px == (19.0, 19.0) and SalTRConfig(image_size=(240, 320)).sigma_px == (9.5, 9.5)


def test_deployable_outputs_are_a_map_and_every_query_point():
    model, image = _small()
    with torch.no_grad():
        saliency, fixations = model(image)
        train = model.forward_train(image)
    assert saliency.shape == (2, 1, 64, 96) and fixations.shape == (2, 16, 3)
    assert float(saliency.amax(dim=(1, 2, 3)).min()) == pytest.approx(1.0, abs=1e-4) and float(saliency.min()) >= 0
    assert train.logits.shape == (2, 2, 16, 2)  # one set of outputs per decoder layer (aux losses)
    assert torch.allclose(fixations[..., :2], train.points[-1]) and torch.allclose(fixations[..., 2], train.fixation_probability)


def test_rendered_map_is_the_probability_weighted_sum_of_gaussians():
    h, w, sy, sx = 20, 30, 2.0, 3.0
    render = GaussianFixationMap(h, w, sy, sx)
    points = torch.tensor([[[0.25, 0.525], [0.75, 0.25], [0.5, 0.9]]])
    prob = torch.tensor([[1.0, 0.5, 0.0]])
    got = render(points, prob)[0, 0].numpy()
    yy, xx = np.mgrid[0:h, 0:w]
    ref = np.zeros((h, w))
    for (x, y), p in zip(points[0].tolist(), prob[0].tolist()):
        ref += p * np.exp(-0.5 * (((xx - (x * w - 0.5)) / sx) ** 2 + ((yy - (y * h - 0.5)) / sy) ** 2))
    np.testing.assert_allclose(got, ref / ref.max(), atol=1e-5)
    assert np.unravel_index(got.argmax(), got.shape) == (10, 7)  # the p = 1 point at (x, y) = (7, 10) px


def test_deformable_config_uses_the_project_attention_and_its_matmul_form_is_equal():
    model, image = _small("small-deformable")
    assert len(model.level_shapes) == 4  # strides 8, 16, 32, 64
    exported = copy.deepcopy(model)
    counts = rewrite(exported, ["deformable_attention_to_matmul"])
    assert counts == {"deformable_attention_to_matmul": CONFIGS["small-deformable"].encoder_layers}
    with torch.no_grad():
        a, b = model(image[:1]), exported(image[:1])
    torch.testing.assert_close(a[0], b[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(a[1], b[1], atol=1e-4, rtol=1e-4)


def test_the_graph_has_static_shapes():
    model, image = _small()
    program = torch.export.export(model, (image[:1],), strict=False)
    outs = [n for n in program.graph.nodes if n.op == "output"][0].args[0]
    assert [tuple(o.meta["val"].shape) for o in outs] == [(1, 1, 64, 96), (1, 16, 3)]
    ops = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert not any("nonzero" in op or "topk" in op or "sort" in op for op in ops)
    # index selects and zeros_like stay outside XNNPACK (portable kernels on ExecuTorch)
    assert not any(k in op for k in ("select", "full_like", "zeros_like") for op in ops), ops


def test_registry_entry_and_sized_configs():
    entry = get_model_entry("saltr")
    spec = entry.io_spec(entry.config("small@64"))
    assert [s.name for s in spec.inputs] == ["image"] and spec.inputs[0].shape == (1, 3, 64, 64)
    assert [s.shape for s in spec.outputs] == [(1, 1, 64, 64), (1, 16, 3)]
    assert entry.task == "saliency" and entry.objective.task == "saliency"
    (sample,) = entry.samples(entry.config("small"), 1, 0)[0]
    assert sample.shape == (1, 3, 64, 96)


def test_objective_trains_on_synthetic_fixations():
    from torch.utils.data import default_collate

    from edgeav.models.saltr.entry import saltr_dataset
    from edgeav.registry import Objective
    from edgeav.train.objective import TrainingForward

    entry = get_model_entry("saltr")
    cfg = entry.config("small")
    data = saltr_dataset(cfg, "synthetic-saliency-images:images=4,observers=4", "train")
    batch = default_collate([data[i] for i in range(4)])
    torch.manual_seed(0)
    model = SalTR(cfg)
    objective: Objective = entry.objective
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(15):
        parts = objective.loss(TrainingForward(model), model, batch)
        opt.zero_grad()
        parts["loss"].backward()
        opt.step()
        losses.append(float(parts["loss"]))
    assert losses[-1] < 0.7 * losses[0]
    assert objective.logits(model.eval(), batch).shape == (4, 1, 64, 96)


def test_map_loss_adds_kl_minus_cc_of_the_rendered_map_only_when_weighted():
    import dataclasses

    from torch.utils.data import default_collate

    from edgeav.models.saliency_losses import kl_cc_loss
    from edgeav.models.saltr.entry import saltr_dataset
    from edgeav.train.objective import TrainingForward

    entry = get_model_entry("saltr")
    plain = entry.config("small")
    data = saltr_dataset(plain, "synthetic-saliency-images:images=2,observers=4", "train")
    batch = default_collate([data[i] for i in range(2)])
    assert CONFIGS["paper"].map_weight == 0 and CONFIGS["cpu-deformable-map"].map_weight == 1.0
    torch.manual_seed(0)
    model = SalTR(dataclasses.replace(plain, map_weight=0.5)).eval()
    with_map = entry.objective.loss(TrainingForward(model), model, batch)
    model.cfg = plain
    without = entry.objective.loss(TrainingForward(model), model, batch)
    assert "map_cc" not in without
    rendered = kl_cc_loss(model.forward_train(batch["image"]).saliency, batch["saliency"])
    torch.testing.assert_close(with_map["loss"], without["loss"] + 0.5 * rendered["loss"])
    with pytest.raises(ValueError, match="map_weight"):
        SalTRConfig(map_weight=-1.0)
