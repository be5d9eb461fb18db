"""SalTR-S: the budget, the deployable map, torchvision key layout, the objective."""
from __future__ import annotations

import pytest
import torch

from edgeav.modelcard import measure_cost
from edgeav.models.saltr_s.configs import CONFIGS
from edgeav.models.saltr_s.model import SalTRS
from edgeav.registry import get_model_entry


def test_paper_size_fits_the_phone_budget():
    cfg = CONFIGS["paper"]
    cost = measure_cost(SalTRS(cfg), (torch.zeros(1, 3, *cfg.image_size),))
    assert cost.params <= 5e6 and cost.flops <= 1.5e9
    # torchvision's mobilenet_v3_large().features has 2,971,952 parameters; the last 1×1 conv to 960 and its
    # BatchNorm (155,520) are left out.
    assert cost.params_by_part["encoder"] == 2_971_952 - 155_520


def test_encoder_keys_follow_torchvision():
    keys = set(SalTRS(CONFIGS["paper"]).encoder.state_dict())
    assert {"features.0.0.weight", "features.4.block.2.fc1.weight", "features.15.block.3.1.running_var"} <= keys


def test_map_is_a_sigmoid_of_the_fused_logits_at_input_size():
    torch.manual_seed(0)
    model = SalTRS(CONFIGS["small"]).eval()
    image = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        out, train = model(image), model.forward_train(image)
    assert out.shape == (2, 1, 64, 96) and len(train.side_logits) == 4
    torch.testing.assert_close(out, torch.sigmoid(train.logits))


def test_objective_fits_ground_truth_maps():
    from torch.utils.data import default_collate

    from edgeav.data import open_dataset
    from edgeav.data.saliency.fixations import FixationSamples
    from edgeav.train.objective import TrainingForward

    entry = get_model_entry("saltr-s")
    cfg = entry.config("small")
    data = FixationSamples(open_dataset("synthetic-saliency-images:images=4,observers=4", "train"), size=cfg.image_size)
    batch = default_collate([data[i] for i in range(4)])
    torch.manual_seed(0)
    model = entry.build("small")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        parts = entry.objective.loss(TrainingForward(model), model, batch)
        opt.zero_grad()
        parts["loss"].backward()
        opt.step()
        losses.append(float(parts["loss"]))
    assert losses[-1] < losses[0] - 0.1
    assert entry.io_spec(cfg).outputs[0].name == "saliency" and len(entry.io_spec(cfg).outputs) == 1
