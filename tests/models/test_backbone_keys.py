"""Upstream checkpoints load into the backbones: torchvision ResNet-18/50, AVSegFormer's B2_ResNet, torchvggish.

The upstream state dicts are built here from the upstream layouts (names and shapes written out from the
architectures), not from edgeav's modules, so a renamed or reshaped module fails these tests.
"""
from __future__ import annotations

import pytest
import torch

from edgeav.models.backbones.resnet import (
    RESNET18,
    RESNET50,
    ResNet,
    resnet_state_dict_from_upstream,
)
from edgeav.models.backbones.vggish import VGGISH, VGGish, vggish_state_dict_from_upstream


def _bn(prefix: str, c: int, counters: bool) -> dict[str, tuple[int, ...]]:
    keys = {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,), f"{prefix}.running_var": (c,)}
    if counters:
        keys[f"{prefix}.num_batches_tracked"] = ()
    return keys


def torchvision_resnet_shapes(bottleneck: bool, layers: tuple[int, ...], counters: bool = True,
                              layer_names: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4")) -> dict[str, tuple[int, ...]]:
    """torchvision.models.resnet{18,50}().state_dict() names and shapes, fc included."""
    shapes = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64, counters)}
    exp, in_ch = (4 if bottleneck else 1), 64
    for i, (name, depth) in enumerate(zip(layer_names, layers)):
        planes = 64 * 2**i
        for j in range(depth):
            p = f"{name}.{j}"
            if bottleneck:
                convs = [(planes, in_ch, 1), (planes, planes, 3), (planes * exp, planes, 1)]
            else:
                convs = [(planes, in_ch, 3), (planes, planes, 3)]
            for k, (o, c, ks) in enumerate(convs, start=1):
                shapes[f"{p}.conv{k}.weight"] = (o, c, ks, ks)
                shapes.update(_bn(f"{p}.bn{k}", o, counters))
            if j == 0 and (i > 0 or in_ch != planes * exp):
                shapes[f"{p}.downsample.0.weight"] = (planes * exp, in_ch, 1, 1)
                shapes.update(_bn(f"{p}.downsample.1", planes * exp, counters))
            in_ch = planes * exp
    shapes["fc.weight"], shapes["fc.bias"] = (1000, in_ch), (1000,)
    return shapes


def _random_state(shapes: dict[str, tuple[int, ...]], prefix: str = "") -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {prefix + k: (torch.tensor(7) if k.endswith("num_batches_tracked") else torch.randn(s, generator=g))
            for k, s in shapes.items()}


@pytest.mark.parametrize("cfg,bottleneck,layers,params", [
    (RESNET18, False, (2, 2, 2, 2), 11_689_512 - 513_000),  # torchvision's count minus fc
    (RESNET50, True, (3, 4, 6, 3), 25_557_032 - 2_049_000),
])
def test_torchvision_resnet_loads_strictly(cfg, bottleneck, layers, params) -> None:
    model = ResNet(cfg)
    assert sum(p.numel() for p in model.parameters()) == params
    upstream = _random_state(torchvision_resnet_shapes(bottleneck, layers))
    model.load_state_dict(resnet_state_dict_from_upstream(upstream), strict=True)
    assert torch.equal(model.layer2[0].downsample[0].weight, upstream["layer2.0.downsample.0.weight"])
    assert torch.equal(model.layer4[-1].bn1.running_var, upstream[f"layer4.{layers[3] - 1}.bn1.running_var"])


def test_pre_0_4_checkpoint_without_bn_counters_loads() -> None:
    """resnet50-19c8e357.pth predates num_batches_tracked; the map adds the counters."""
    upstream = _random_state(torchvision_resnet_shapes(True, (3, 4, 6, 3), counters=False))
    ResNet(RESNET50).load_state_dict(resnet_state_dict_from_upstream(upstream), strict=True)


def test_avsegformer_b2_resnet_loads_branch_one() -> None:
    names = ("layer1", "layer2", "layer3_1", "layer4_1")
    shapes = torchvision_resnet_shapes(False, (2, 2, 2, 2), layer_names=names)
    branch2 = {k.replace("_1.", "_2."): s for k, s in shapes.items() if "_1." in k}
    shapes = {k: s for k, s in shapes.items() if not k.startswith("fc.")} | branch2
    upstream = _random_state(shapes, prefix="backbone.")
    model = ResNet(RESNET18)
    model.load_state_dict(resnet_state_dict_from_upstream(upstream), strict=True)
    assert torch.equal(model.layer3[1].conv2.weight, upstream["backbone.layer3_1.1.conv2.weight"])
    assert not torch.equal(model.layer3[1].conv2.weight, upstream["backbone.layer3_2.1.conv2.weight"])


TORCHVGGISH_SHAPES = {
    "features.0.weight": (64, 1, 3, 3), "features.0.bias": (64,),
    "features.3.weight": (128, 64, 3, 3), "features.3.bias": (128,),
    "features.6.weight": (256, 128, 3, 3), "features.6.bias": (256,),
    "features.8.weight": (256, 256, 3, 3), "features.8.bias": (256,),
    "features.11.weight": (512, 256, 3, 3), "features.11.bias": (512,),
    "features.13.weight": (512, 512, 3, 3), "features.13.bias": (512,),
    "embeddings.0.weight": (4096, 12288), "embeddings.0.bias": (4096,),
    "embeddings.2.weight": (4096, 4096), "embeddings.2.bias": (4096,),
    "embeddings.4.weight": (128, 4096), "embeddings.4.bias": (128,),
}


@pytest.mark.parametrize("prefix,extra", [("", {}), ("vggish.", {"vggish.pproc.pca_means": (128, 1)})])
def test_torchvggish_and_avsegformer_vggish_load_strictly(prefix, extra) -> None:
    upstream = _random_state(TORCHVGGISH_SHAPES, prefix) | _random_state(extra)
    model = VGGish(VGGISH)
    assert sum(p.numel() for p in model.parameters()) == 72_141_184
    model.load_state_dict(vggish_state_dict_from_upstream(upstream), strict=True)
    assert torch.equal(model.features[13].weight, upstream[prefix + "features.13.weight"])


def test_vggish_flattens_in_torchvggish_order() -> None:
    """torchvggish: transpose(1, 3), transpose(1, 2), view — NHWC, which the released head expects."""
    torch.manual_seed(0)
    model = VGGish(VGGISH).eval()
    x = torch.randn(2, 1, 96, 64)
    with torch.no_grad():
        f = model.features(x)
        expected = model.embeddings(torch.transpose(torch.transpose(f, 1, 3), 1, 2).contiguous().view(2, -1))
        assert torch.equal(model(x), expected)
