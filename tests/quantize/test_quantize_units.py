"""Fast checks of the quantization layer's pieces (no capture, no lowering)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeav.errors import CheckpointError, UsageError
from export_targets.formats import check_precision, format_info, resolve_targets
from quantize.checkpoint import read_record
from edgeav.train.distill import (
    DistillConfig,
    WithoutLabels,
    distillation_objective,
    has_labels,
    output_distillation,
)
from quantize.recipes import RECIPES, FloatModules, match_modules, outermost


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.decoder = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1))
        self.head = nn.Conv2d(4, 1, 1)


def test_keep_fp32_globs_match_outermost_modules() -> None:
    assert match_modules(_Net(), ["decoder*"]) == ["decoder"]
    assert match_modules(_Net(), ["decoder.1", "head"]) == ["decoder.1", "head"]


def test_keep_fp32_pattern_matching_nothing_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="matches no module"):
        match_modules(_Net(), ["encoder.*"])


def test_outermost_drops_children_of_listed_modules() -> None:
    assert outermost(["a", "a.b", "c.d", "c"]) == ["a", "c"]


def test_float_modules_are_found_by_exact_type() -> None:
    from edgeav.audio import PANNS_LOGMEL_16K, LogMelFrontEnd

    class _SubFrontEnd(LogMelFrontEnd):  # another module: the card names the types it means
        pass

    net = nn.Module()
    net.frontend = LogMelFrontEnd(PANNS_LOGMEL_16K)
    net.other = _SubFrontEnd(PANNS_LOGMEL_16K)
    floats = FloatModules((LogMelFrontEnd,))
    assert floats.names(net) == ["frontend"] and floats.wholly_names(net) == []


@pytest.mark.parametrize("name,expected", [("lightavseg", ["frontend"]),
                                           ("avesformer-r18", ["frontend", "head.query_generator"])])
def test_the_model_card_names_the_modules_int8_keeps_float(name: str, expected: list[str]) -> None:
    from edgeav.registry import get_model_entry

    entry = get_model_entry(name)
    assert FloatModules.of(entry).names(entry.build("small")) == expected


def test_every_phone_format_has_a_recipe_and_accepts_int8() -> None:
    targets = resolve_targets("executorch,litert,coreml")
    check_precision("int8", targets)
    assert {t.name for t in targets} <= set(RECIPES)
    assert not RECIPES["litert"].fold_quantize  # the LiteRT converter needs float weights + Q/DQ


def test_onnx_rejects_int8() -> None:
    with pytest.raises(UsageError, match="onnx has no int8 export"):
        check_precision("int8", resolve_targets("onnx"))


def test_training_checkpoint_is_not_a_quantization_checkpoint(tmp_path) -> None:
    path = tmp_path / "last.pt"
    torch.save({"model": {}, "optimizer": {}, "step": 1}, path)
    with pytest.raises(CheckpointError, match="not an edgeav quantization checkpoint"):
        read_record(path)


def test_unlabeled_samples_carry_no_mask() -> None:
    item = WithoutLabels([{"frames": torch.zeros(3, 4, 4), "mask": torch.ones(1, 4, 4), "annotated": False}])[0]
    assert item["annotated"] and not has_labels({"mask": item["mask"]})


def test_output_distillation_is_smallest_at_the_teacher() -> None:
    teacher = torch.randn(2, 1, 8, 8)
    assert output_distillation(teacher, teacher) < output_distillation(teacher + 1.0, teacher)


def test_distillation_leaves_the_teachers_parameters_trainable() -> None:
    # A second QAT run prepares (deep-copies) the same model: frozen flags there left nothing to optimise.
    teacher = nn.Conv2d(3, 1, 1)
    distillation_objective(teacher, ["frames"], DistillConfig(), metrics_task="segmentation")
    assert all(p.requires_grad for p in teacher.parameters())


def test_zero_batchnorm_scales_are_nudged_for_qat() -> None:
    from quantize.api import ZERO_BN_SCALE, nudge_zero_batchnorm_scales

    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight[:] = torch.tensor([0.0, 1.0, -2.0])
    assert nudge_zero_batchnorm_scales(nn.Sequential(bn)) == 1
    assert bn.weight.tolist() == pytest.approx([ZERO_BN_SCALE, 1.0, -2.0])


class _Attention(nn.Module):
    """Two softmaxes: one over a quantized linear's output (int8 in TFLite), one over a bmm's (float)."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Linear(8, 8)
        self.value = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.logits(x).softmax(-1)  # linear output is quantized: an int8 SOFTMAX after conversion
        mixed = self.value(weights)
        scores = torch.bmm(x, x.transpose(1, 2)).softmax(-1)  # bmm output stays float: a float SOFTMAX
        return self.value(torch.bmm(scores, mixed))


def _softmax_output_observers(sim, op: str = "softmax") -> list[tuple[float, int] | None]:
    """(scale, zero point) of the observer right after each ``op`` (softmax, sigmoid); None where there is none."""
    graph = sim.network.graph
    out = []
    for node in graph.nodes:
        if node.op == "call_function" and str(node.target).split(".")[1] in (op, f"_{op}", f"_safe_{op}"):
            (user,) = node.users
            if user.op == "call_module":
                observer = sim.network.get_submodule(user.target)
                scale, zero_point = observer.calculate_qparams()
                out.append((float(scale), int(zero_point)))
            else:
                out.append(None)
    return out


@pytest.mark.parametrize("method", ["ptq", "qat"])
def test_softmax_with_int8_input_gets_tflite_fixed_output_grid(method) -> None:
    # TFLite's int8 SOFTMAX refuses any output scale but 1/256 (zero point -128): the deformable attention's
    # weights observed at their own range made the AVESFormer int8 .tflite fail to load.
    from quantize.api import calibrate, prepare
    from quantize.recipes import SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT

    torch.manual_seed(0)
    x = torch.randn(2, 4, 8)
    sim = prepare(_Attention().eval(), (x,), method, floats=FloatModules())
    calibrate(sim, [(torch.randn(2, 4, 8),) for _ in range(3)])
    fixed, floating = _softmax_output_observers(sim)
    assert fixed == (pytest.approx(SOFTMAX_OUTPUT_SCALE), SOFTMAX_OUTPUT_ZERO_POINT)
    assert floating is None or floating[0] != pytest.approx(SOFTMAX_OUTPUT_SCALE)  # float softmax: untouched


class _SigmoidGate(nn.Module):
    """conv → sigmoid gate × features → conv, the shape of DTFSal-S's audio gates; the hardsigmoid stays as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1), nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.a(x)
        return self.c(f * torch.sigmoid(self.b(f))) + nn.functional.hardsigmoid(f).mean()


def test_sigmoid_with_int8_input_gets_tflite_fixed_output_grid() -> None:
    # TFLite's int8 LOGISTIC refuses any output scale but 1/256: DTFSal-S's int8 .tflite ran under XNNPACK
    # but TFLite's own kernels (`edgeav bench --per-op`) refused node LOGISTIC at load.
    from quantize.api import calibrate, prepare
    from quantize.recipes import SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT

    torch.manual_seed(0)
    sim = prepare(_SigmoidGate().eval(), (torch.randn(1, 3, 4, 4),), "ptq", floats=FloatModules())
    calibrate(sim, [(torch.randn(1, 3, 4, 4),) for _ in range(3)])
    assert _softmax_output_observers(sim, "sigmoid") == [(pytest.approx(SOFTMAX_OUTPUT_SCALE), SOFTMAX_OUTPUT_ZERO_POINT)]
    hard = _softmax_output_observers(sim, "hardsigmoid")
    assert all(h is None or h[0] != pytest.approx(SOFTMAX_OUTPUT_SCALE) for h in hard)


class _DeformableLayer(nn.Module):
    """One export-form deformable attention over fixed levels, called like a model (inputs only)."""

    SHAPES = ((4, 4), (2, 2))

    def __init__(self) -> None:
        super().__init__()
        from edgeav.models.layers.deformable import (
            MSDeformSelfAttention,
            MSDeformSelfAttentionMatmul,
        )

        torch.manual_seed(0)
        self.attn = MSDeformSelfAttentionMatmul(MSDeformSelfAttention(16, 2, 2, 2, self.SHAPES))

    def forward(self, query: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        return self.attn(query, value, self.SHAPES)


def _observed(node) -> bool:
    """Whether an observer reads ``node``'s output in a prepared graph."""
    return any(u.op == "call_module" and "activation_post_process" in str(u.target) for u in node.users)


def _module_path(node) -> str:
    """The innermost module a captured node came from ("" for graph inputs and observers)."""
    stack = list(node.meta.get("nn_module_stack", {}).values())
    return stack[-1][0] if stack and node.op == "call_function" else ""


def test_deformable_sampling_matrix_stays_float_and_its_value_product_sees_int8_values() -> None:
    # An int8 sampling matrix made LiteRT's value product an int8 BATCH_MATMUL, which its XNNPACK delegate
    # does not take (37 % of the paper-size int8 .tflite's time on TFLite's own kernel).
    from quantize.api import prepare

    from edgeav.registry import get_model_entry

    layer = _DeformableLayer()
    floats = FloatModules.of(get_model_entry("avesformer-r18"))
    assert floats.names(layer) == floats.wholly_names(layer) == ["attn.sampler"]
    tokens = sum(h * w for h, w in _DeformableLayer.SHAPES)
    sim = prepare(layer, (torch.randn(1, tokens, 16), torch.randn(1, tokens, 16)), "ptq", floats=floats)

    graph = sim.network.graph
    # one value product per level (S_l @ V_l, summed), outside the sampler
    value_products = [n for n in graph.nodes
                      if n.op == "call_function" and "bmm" in str(n.target) and "sampler" not in _module_path(n)]
    assert len(value_products) == len(_DeformableLayer.SHAPES)
    for product in value_products:
        sampling, values = product.args
        assert "sampler" in _module_path(sampling) and not _observed(sampling)  # float sampling matrix
        assert values.op == "call_module" and "activation_post_process" in str(values.target)  # int8 values
    linears = {_module_path(n).rsplit(".", 1)[-1]: _observed(n) for n in graph.nodes
               if n.op == "call_function" and "linear" in str(n.target)}
    # the projections around it are still int8; the tent-distance linears inside the sampler are not
    assert linears == {"sampling_offsets": True, "attention_weights": True, "value_proj": True,
                       "output_proj": True, "sampler": False}
    assert not any(_observed(n) for n in graph.nodes if "sampler" in _module_path(n))


def test_only_the_deformable_sampler_is_stripped_of_every_observer() -> None:
    # wholly_float_modules: the sampler carries no observer at all. The other float modules keep what the
    # XNNPACK quantizer annotates past its filter (view ops and cat after an int8 input): stripping them
    # too made LightAVSeg's QAT diverge, and LiteRT quantizes the query generator's concat on its int8
    # input's grid whatever the graph says (float in the graph only, the paper@96 .tflite failed parity).
    from edgeav.registry import get_model_entry
    from edgeav.models.rewrites import rewrite_for_target
    from quantize.api import prepare

    observed_in: dict[str, set[str]] = {}
    for name in ("lightavseg", "avesformer-r18"):
        entry = get_model_entry(name)
        torch.manual_seed(0)
        model = entry.build("small").eval()
        inputs = tuple(torch.rand(t.shape) for t in entry.io_spec(entry.config("small")).inputs)
        rewrites = format_info("executorch").rewrites
        sim = prepare(model, inputs, "ptq", rewrite=lambda m: rewrite_for_target(m, rewrites)[0],
                      floats=FloatModules.of(entry))
        for node in sim.network.graph.nodes:
            path = _module_path(node)
            for float_module in ("frontend", "query_generator", "sampler"):
                if f".{float_module}" in f".{path}" and _observed(node):
                    observed_in.setdefault(f"{name}:{float_module}", set()).add(str(node.target).split(".")[1])
    assert observed_in == {
        "avesformer-r18:frontend": {"reshape"},  # its output, read by the int8 VGGish: the module's boundary
        "avesformer-r18:query_generator": {"cat", "expand", "slice"},
        "lightavseg:frontend": {"linear", "cat", "reshape"},  # the reflect padding's pieces, the boundary
    }  # nothing in the deformable samplers


@pytest.mark.parametrize(("record", "version", "expected"), [
    ({"model": "dtfsal", "config": "small", "method": "qat"}, 3,
     "--qat-checkpoint was made for dtfsal [small], not lightavseg [small]; pass the matching --model/--config"),
    ({"model": "lightavseg", "config": "small", "method": "qat"}, 2,
     "is quantization checkpoint version 2, this edgeav reads 3; re-run `edgeav quantize`"),
])
def test_a_qat_checkpoint_of_another_model_or_version_is_one_line(tmp_path, capsys, record, version, expected) -> None:
    from edgeav.cli.main import main
    from quantize.checkpoint import FORMAT, VERSION

    assert VERSION == 3  # the expected message names it
    path = tmp_path / "quantized.pt"
    torch.save({"format": FORMAT, "version": version, "record": record, "state": {}}, path)
    args = ["export", "--model", "lightavseg", "--config", "small", "--precision", "int8", "--qat-checkpoint", str(path),
            "--target", "executorch", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert expected in err[-1]
    assert not any(tmp_path.rglob("*.pte"))
