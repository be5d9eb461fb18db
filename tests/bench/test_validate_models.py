"""The reference architectures of the validation rows: parameter counts against their sources (meta tensors)."""
import pytest
import torch

from bench.reference_models import REFERENCE_MODELS, build_reference, get_reference
from bench.reference_models.mobilenet import MobileNetV3Config, mobilenet_v3
from edgeav.errors import UsageError


def _params_m(name: str) -> float:
    with torch.device("meta"):
        model = get_reference(name).build()
    return sum(p.numel() for p in model.parameters()) / 1e6


@pytest.mark.parametrize(("name", "published"), [
    ("mobilenet_v2", 3.5), ("mobilenet_v3_large", 5.4), ("efficientnet_lite0", 4.7), ("resnet50", 25.6),
])
def test_the_four_reference_architectures_have_their_published_parameter_counts(name: str, published: float) -> None:
    assert _params_m(name) == pytest.approx(published, rel=0.02)


@pytest.mark.parametrize("name", sorted(REFERENCE_MODELS))
def test_every_reference_model_is_within_two_percent_of_its_source(name: str) -> None:
    assert _params_m(name) == pytest.approx(get_reference(name).published_params_m, rel=0.02)


def test_minimalistic_drops_squeeze_excite_and_hard_swish() -> None:
    with torch.device("meta"):
        full, minimal = mobilenet_v3(), mobilenet_v3(MobileNetV3Config(minimalistic=True))
    kinds = lambda m: {type(x).__name__ for x in m.modules()}  # noqa: E731
    assert {"SqueezeExcite", "Hardswish"} <= kinds(full)
    assert not {"SqueezeExcite", "Hardswish"} & kinds(minimal)


def test_a_reference_model_classifies_a_batch_at_its_input_size() -> None:
    ref = get_reference("efficientnet_lite4")
    assert ref.image_size == 300
    with torch.device("meta"):
        out = ref.build().eval()(ref.example_input(2).to("meta"))
    assert out.shape == (2, 1000)


def test_reference_models_stay_out_of_the_model_zoo() -> None:
    from edgeav.registry import list_models

    assert not {e.name for e in list_models()} & set(REFERENCE_MODELS)
    with pytest.raises(UsageError, match="choose one of"):
        build_reference("mobilenet_v4")
