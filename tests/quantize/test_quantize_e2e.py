"""quantize → export → run → metric on the small LightAVSeg config, through the CLI, one test per recipe.

Slow (capture, QAT prepare and int8 lowering each take a minute or more on two shared cores): marked
``slow``. The weights are the registry's initialisation saved as a checkpoint; the gate compares the
artifact with that same fp32 model, so what is tested is the plumbing and the numbers' presence and
consistency, not accuracy (bench/studies/int8_table.py measures that on a trained model).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from edgeav.cli.main import main
from edgeav.registry import get_model_entry

DATA = "synthetic-ms3:scenes=5,image_size=64"


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ck") / "small.pt"
    torch.save(get_model_entry("lightavseg").build("small").state_dict(), path)
    return path


@pytest.fixture(scope="module")
def qat_checkpoint(small_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("q")
    code = main(["quantize", "--model", "lightavseg", "--config", "small", "--checkpoint", str(small_checkpoint),
                 "--data", DATA, "--method", "qat", "--steps", "2", "--batch-size", "2",
                 "--calibration-batches", "1", "--eval-limit", "4", "--out", str(out)])
    assert code == 0
    record = json.loads((out / "quantize.json").read_text())
    assert record["qat"]["freeze_bn_step"] == 1 and record["scores"]["int8_simulated"]["frames"] == 4
    assert {"distill", "task"} <= set(record["qat"]["last_step"])  # with masks: distillation + task loss
    return out / "quantized.pt"


@pytest.mark.slow
@pytest.mark.parametrize("target,suffix,runs_here", [("executorch", ".pte", True), ("litert", ".tflite", True),
                                                     ("coreml", ".mlpackage", False)])
def test_qat_checkpoint_exports_int8_and_gates_on_the_artifact(small_checkpoint, qat_checkpoint, tmp_path, target, suffix, runs_here):
    out = tmp_path / "dist"
    code = main(["export", "--model", "lightavseg", "--config", "small", "--checkpoint", str(small_checkpoint),
                 "--precision", "int8", "--qat-checkpoint", str(qat_checkpoint), "--target", target,
                 "--eval-limit", "4", "--samples", "1", "--out", str(out)])
    assert code == 0
    (artifact,) = [p for p in out.iterdir() if p.name.endswith(suffix)]
    manifest = json.loads((out / (artifact.name + ".json")).read_text())
    assert manifest["quantization"]["method"] == "qat"
    assert manifest["quantization"]["scheme"]["weights"].startswith("int8")
    accuracy = manifest["accuracy"]
    if runs_here:
        assert accuracy["status"] == "passed" and accuracy["frames"] == 4
        assert abs(accuracy["drop_points"] - (accuracy["fp32"]["miou"] - accuracy["int8"]["miou"])) < 1e-2
        assert manifest["parity"]["status"] == "passed"
    else:
        assert accuracy["status"] == "skipped"


def test_int8_export_without_weights_is_refused(capsys) -> None:
    code = main(["export", "--model", "lightavseg", "--config", "small", "--precision", "int8", "--data", DATA,
                 "--target", "executorch", "--out", "unused"])
    assert code == 2
    assert "untrained weights" in capsys.readouterr().err


@pytest.mark.slow
def test_ptq_export_calibrates_runs_and_scores_the_artifact(trained_lightavseg_small, tmp_path) -> None:
    # No --qat-checkpoint: the exporter calibrates PTQ on --data itself and gates the .pte it wrote, on a
    # trained model (an untrained one scores ~0 whatever quantization does).
    out = tmp_path / "dist"
    code = main(["export", "--model", "lightavseg", "--config", "small", "--checkpoint", str(trained_lightavseg_small.checkpoint),
                 "--precision", "int8", "--data", trained_lightavseg_small.data, "--calibration-batches", "1", "--target", "executorch",
                 "--eval-limit", "12", "--samples", "1", "--out", str(out)])
    assert code == 0
    (artifact,) = out.glob("*.pte")
    manifest = json.loads((out / (artifact.name + ".json")).read_text())
    assert manifest["quantization"]["method"] == "ptq"
    assert manifest["quantization"]["calibration"]["samples"] == 8  # one batch of 8
    accuracy = manifest["accuracy"]
    assert accuracy["status"] == "passed" and accuracy["frames"] == 12
    assert accuracy["fp32"]["miou"] > 2.0  # the gate compares a model that segments something
    assert manifest["parity"]["status"] == "passed"


@pytest.mark.slow
def test_gate_fails_a_badly_calibrated_int8_model_and_force_publishes_it(trained_lightavseg_small, tmp_path, capsys,
                                                                         monkeypatch) -> None:
    """Calibration on near-black frames and near-silent audio: activation ranges far too small, so real inputs
    saturate the int8 grid. The gate must catch it on the artifact (nothing published) and --force must publish
    it with the failure recorded."""
    import quantize.api

    real_batches = quantize.api.input_batches

    def dim_batches(*args, **kwargs):
        for frames, audio in real_batches(*args, **kwargs):
            yield frames * 0.02, audio * 0.001

    monkeypatch.setattr(quantize.api, "input_batches", dim_batches)
    argv = ["export", "--model", "lightavseg", "--config", "small", "--checkpoint", str(trained_lightavseg_small.checkpoint),
            "--precision", "int8", "--data", trained_lightavseg_small.data, "--calibration-batches", "1", "--target", "litert",
            "--eval-limit", "12", "--samples", "1"]
    refused = tmp_path / "refused"
    assert main([*argv, "--out", str(refused)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("edgeav: error:")]
    assert len(errors) == 1 and "int8 artifact loses" in errors[0] and "--force" in errors[0]
    assert not refused.exists() or not any(refused.iterdir())  # nothing published
    forced = tmp_path / "forced"
    assert main([*argv, "--force", "--out", str(forced)]) == 0
    (artifact,) = forced.glob("*.tflite")
    accuracy = json.loads((forced / (artifact.name + ".json")).read_text())["accuracy"]
    assert accuracy["status"] == "forced" and accuracy["drop_points"] > 2.0


@pytest.mark.slow
def test_label_free_qat_trains_on_distillation_alone_and_exports(small_checkpoint, tmp_path) -> None:
    q = tmp_path / "q"
    code = main(["quantize", "--model", "lightavseg", "--config", "small", "--checkpoint", str(small_checkpoint),
                 "--data", DATA, "--method", "qat", "--label-free", "--steps", "2", "--batch-size", "2",
                 "--calibration-batches", "1", "--eval-limit", "4", "--out", str(q)])
    assert code == 0
    record = json.loads((q / "quantize.json").read_text())
    assert record["qat"]["label_free"] is True and record["scores"]["int8_simulated"]["frames"] == 4
    assert "distill" in record["qat"]["last_step"] and "task" not in record["qat"]["last_step"]  # no masks seen
    out = tmp_path / "dist"
    assert main(["export", "--model", "lightavseg", "--config", "small", "--checkpoint", str(small_checkpoint),
                 "--precision", "int8", "--qat-checkpoint", str(q / "quantized.pt"), "--target", "litert",
                 "--eval-limit", "4", "--samples", "1", "--out", str(out)]) == 0
    (artifact,) = out.glob("*.tflite")
    manifest = json.loads((out / (artifact.name + ".json")).read_text())
    assert manifest["quantization"]["qat"]["label_free"] is True and manifest["accuracy"]["status"] == "passed"


@pytest.mark.slow
def test_avesformer_int8_exports_run_with_the_deformable_attention_in_xnnpack(tmp_path) -> None:
    # PTQ at export on the small config: the int8 capture rewrites the deformable attention to matmuls and
    # unties the shared depthwise weight (a shared quantized depthwise weight fails XNNPACK's compile); the
    # attention-weight softmax gets TFLite's fixed output grid (any other scale fails the .tflite's load).
    ck = tmp_path / "aves.pt"
    torch.manual_seed(0)
    torch.save(get_model_entry("avesformer-r18").build("small").state_dict(), ck)
    out = tmp_path / "dist"
    code = main(["export", "--model", "avesformer-r18", "--config", "small", "--checkpoint", str(ck),
                 "--precision", "int8", "--data", "synthetic-s4:scenes=5,image_size=64", "--calibration-batches", "1",
                 "--target", "executorch,litert", "--eval-limit", "4", "--samples", "1", "--force", "--out", str(out)])
    assert code == 0
    for suffix in (".pte", ".tflite"):
        (artifact,) = out.glob(f"*{suffix}")
        manifest = json.loads((out / (artifact.name + ".json")).read_text())
        assert manifest["parity"]["status"] == "passed" and manifest["accuracy"]["frames"] == 4
        assert {"deformable_attention_to_matmul", "untie_level_depthwise_conv"} <= set(manifest["quantization"]["rewrites"])
    delegation = json.loads((out / "avesformer-r18_small_int8.pte.json").read_text())["lowering"]["delegation"]
    # Every op inside XNNPACK, the matmul form of the sampling (batched matmuls, tent weights 1 - |d|,
    # products) included; the queries' batch expand, a no-op at batch 1, is dropped before lowering.
    assert delegation["portable"] == {} and delegation["delegated_subgraphs"] >= 1
    assert delegation["delegated"].get("aten.bmm.default", 0) > 0 and "aten.abs.default" in delegation["delegated"]
    # Every BATCH_MATMUL of the .tflite is float: the deformable value product reads the float sampling
    # matrix (an int8 BATCH_MATMUL of two activations stays outside LiteRT's XNNPACK delegate).
    from export_targets.litert.interpreter import interpreter_class

    interpreter = interpreter_class()[0](model_path=str(next(out.glob("*.tflite"))))
    dtypes = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
    bmm_inputs = [dtypes[i] for op in interpreter._get_ops_details() if op["op_name"] == "BATCH_MATMUL"
                  for i in op["inputs"]]
    assert bmm_inputs and all(d == np.float32 for d in bmm_inputs)
