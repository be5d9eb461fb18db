"""The registry: discovery of model folders, config names with an input-size suffix (``paper@128``), and
the card each entry carries (objective, task, float modules, export forms, upstream weights)."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import UsageError
from edgeav.registry import get_model_entry


def test_size_suffix_changes_only_the_input_size():
    entry = get_model_entry("lightavseg")
    base, resized = entry.config("small"), entry.config("small@96")
    assert resized.image_size == 96 and base.image_size != 96
    assert {k: v for k, v in vars(resized).items() if k != "image_size"} == {
        k: v for k, v in vars(base).items() if k != "image_size"
    }
    spec = entry.io_spec(resized)
    assert spec.inputs[0].shape[-2:] == (96, 96)


def test_resized_model_loads_the_base_weights_and_runs():
    entry = get_model_entry("avesformer-r18")
    small, resized = entry.build("small"), entry.build("small@96")
    resized.load_state_dict(small.state_dict())
    inputs = entry.samples(entry.config("small@96"), 1, 0)[0]
    with torch.no_grad():
        out = resized.eval()(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape[-2:] == (96, 96)


@pytest.mark.parametrize("name, needle", [("small@100", "multiple of 32"), ("small@x", "multiple of 32"),
                                          ("nope@64", "no config 'nope'")])
def test_bad_size_suffix_is_one_line(name, needle):
    with pytest.raises(UsageError, match=needle) as err:
        get_model_entry("lightavseg").config(name)
    assert "\n" not in str(err.value)


def test_every_model_folder_with_an_entry_is_discovered_without_a_list_of_modules():
    from edgeav import registry

    assert not hasattr(registry, "_MODEL_MODULES")
    assert {"lightavseg", "avesformer-r18", "avesformer-r50"} <= {e.name for e in registry.list_models()}


def test_a_new_folder_with_one_entry_file_registers_its_model(tmp_path, monkeypatch):
    from edgeav import registry

    package = tmp_path / "toyzoo"
    (package / "toy").mkdir(parents=True)
    (package / "no_entry").mkdir()  # a folder without entry.py (shared code) is not a model
    (package / "__init__.py").write_text("")
    (package / "toy" / "__init__.py").write_text("")
    (package / "no_entry" / "__init__.py").write_text("raise AssertionError('imported')")
    (package / "toy" / "entry.py").write_text(
        "from tests.conftest import TINY_AV\n"
        "import dataclasses\n"
        "from edgeav.registry import register\n"
        "register(dataclasses.replace(TINY_AV, name='toy'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "MODELS_PACKAGE", "toyzoo")
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_discovered", False)
    assert [e.name for e in registry.list_models()] == ["toy"]
    assert registry.get_model_entry("toy").build().training is False


def test_register_twice_is_refused_and_unregister_removes(tiny_av_entry, registry_with_tiny_av):
    from edgeav import registry

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(tiny_av_entry)
    registry.unregister(tiny_av_entry.name)
    with pytest.raises(UsageError, match="unknown model 'tinyav'"):
        registry.get_model_entry(tiny_av_entry.name)


def test_a_model_without_an_objective_says_which_are_trainable(registry_with_tiny_av):
    from edgeav.train.objective import get_objective

    with pytest.raises(UsageError, match="no training objective for 'tinyav'; trainable models: $"):
        get_objective("tinyav")


@pytest.mark.parametrize("name", ["lightavseg", "avesformer-r18", "avesformer-r50"])
def test_entry_card_is_consistent(name):
    from torch import nn

    from edgeav.models.rewrites import rewrite
    from edgeav.tasks import get_task

    entry = get_model_entry(name)
    assert entry.objective is not None and entry.objective.task == entry.task
    get_task(entry.task)
    assert set(entry.wholly_float_modules) <= set(entry.float_modules)
    model = entry.build("small")
    rewrite(model, entry.export_forms)  # some float modules exist only in an export form (the sampling matrix)
    present = {type(m) for m in model.modules()}
    assert all(issubclass(t, nn.Module) and t in present for t in entry.float_modules)


def test_avesformer_upstream_loader_is_reachable_from_its_entry():
    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    source = entry.build("small")
    target = entry.build("small")
    loaded, skipped = entry.upstream["avsegformer"](target, {"audio_proj.weight": source.audio_proj.weight,
                                                            "audio_proj.bias": source.audio_proj.bias,
                                                            "head.query_decoder.x": torch.zeros(1)})
    assert loaded == ["audio_proj.bias", "audio_proj.weight"] and skipped == ["head.query_decoder.x"]
    assert torch.equal(target.audio_proj.weight, source.audio_proj.weight)


def test_lightavseg_loads_a_seaformer_seg_checkpoint_into_its_visual_trunk():
    entry = get_model_entry("lightavseg")
    torch.manual_seed(0)
    source = entry.build("small")
    torch.manual_seed(1)
    target = entry.build("small")
    seg = {"state_dict": {**{"backbone." + k: v for k, v in source.visual.state_dict().items()},
                          "decode_head.conv_seg.weight": torch.zeros(2, 2)}}
    loaded, misfit = entry.upstream["seaformer"](target, seg)
    assert misfit == [] and len(loaded) == len(source.visual.state_dict())
    for key, value in source.visual.state_dict().items():
        assert torch.equal(target.visual.state_dict()[key], value)
    assert not torch.equal(target.decoder_init.weight, source.decoder_init.weight)  # the rest is untouched


def test_avesformer_loads_imagenet_resnet_and_torchvggish_trunks():
    entry = get_model_entry("avesformer-r18")
    torch.manual_seed(0)
    source = entry.build("small")
    torch.manual_seed(1)
    target = entry.build("small")
    imagenet = {**source.backbone.state_dict(), "fc.weight": torch.zeros(1000, 8), "fc.bias": torch.zeros(1000)}
    loaded, misfit = entry.upstream["resnet-imagenet"](target, imagenet)
    assert misfit == [] and len(loaded) == len(source.backbone.state_dict())
    vggish = {**source.vggish.state_dict(), "pproc._pca_matrix": torch.zeros(2, 2)}
    loaded, misfit = entry.upstream["torchvggish"](target, vggish)
    assert misfit == [] and len(loaded) == len(source.vggish.state_dict())
    for part in ("backbone", "vggish"):
        for key, value in getattr(source, part).state_dict().items():
            assert torch.equal(getattr(target, part).state_dict()[key], value)
    assert not torch.equal(target.audio_proj.weight, source.audio_proj.weight)  # the head keeps its own init
