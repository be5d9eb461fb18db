"""The Python API: `import edgeav` stays light; a user's own nn.Module goes through the real export path.

The slow test is the issue's check: a model that is not in the registry, declared by an IOSpec and sample
tensors, exported through ``edgeav.export`` to .pte and .tflite, each verified by parity, with a manifest.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import edgeav
from edgeav.errors import UsageError
from edgeav.files import digest
from edgeav.specs import IOSpec, TensorSpec
from export_targets.manifest_schema import check_manifest


class MyAVNet(nn.Module):
    """Not a registry model: frames [1, 3, 32, 32] + PCM [1, 4000] -> mask probability [1, 1, 32, 32]."""

    def __init__(self) -> None:
        super().__init__()
        self.visual = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, 1, 1))
        self.audio = nn.Sequential(nn.Conv1d(1, 8, 160, stride=80), nn.ReLU())
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, frames: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        a = self.audio(audio.unsqueeze(1)).mean(-1)[:, :, None, None]
        v = self.visual(frames) * torch.sigmoid(a)
        up = nn.functional.interpolate(self.head(v), scale_factor=2.0, mode="bilinear", align_corners=False)
        return torch.sigmoid(up)


SPEC = IOSpec(
    inputs=(TensorSpec("frames", (1, 3, 32, 32), layout="NCHW RGB", value_range=(0.0, 1.0)),
            TensorSpec("audio", (1, 4000), layout="N,samples mono", value_range=(-1.0, 1.0))),
    outputs=(TensorSpec("mask", (1, 1, 32, 32), layout="NCHW", value_range=(0.0, 1.0)),),
    output_reading="per-pixel probability of the sounding object; threshold at 0.5",
    sample_rate=4000, samples_per_frame=4000,
)


def samples(n: int = 3) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(1, 3, 32, 32, generator=g), 2 * torch.rand(1, 4000, generator=g) - 1) for _ in range(n)]


def my_model() -> MyAVNet:
    torch.manual_seed(0)
    return MyAVNet().eval()


def test_import_edgeav_does_not_import_torch() -> None:
    code = "import sys, edgeav; assert 'torch' not in sys.modules, 'torch'; assert callable(edgeav.export)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_cli_refusals_hold_for_the_api(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="^--keep-fp32 applies to --precision int8; drop it or pass --precision int8$"):
        edgeav.export(my_model(), "onnx", tmp_path, keep_fp32=("head",), io_spec=SPEC, samples=samples(), task="segmentation")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "needs io_spec, samples, task"),
    ({"io_spec": SPEC, "samples": samples(), "task": "depth"}, "depth"),
    ({"io_spec": SPEC, "samples": [], "task": "segmentation"}, "samples is empty"),
    ({"io_spec": SPEC, "samples": samples(), "task": "segmentation", "checkpoint": "w.pt"}, "load_state_dict"),
])
def test_a_user_module_must_declare_itself(kwargs: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(Exception, match=message):
        edgeav.export(my_model(), "onnx", tmp_path, **kwargs)


def test_registry_models_refuse_a_second_description(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="io_spec describe your own nn.Module"):
        edgeav.export("lightavseg", "onnx", tmp_path, io_spec=SPEC)


def test_int8_of_a_user_module_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs a registry entry"):
        edgeav.export(my_model(), "executorch", tmp_path, precision="int8", data="synthetic-ms3",
                      io_spec=SPEC, samples=samples(), task="segmentation")


@pytest.mark.converter
def test_a_user_module_exports_to_pte_and_tflite_with_parity_and_a_manifest(tmp_path: Path) -> None:
    model = my_model()
    results = edgeav.export(model, "executorch,litert", tmp_path, io_spec=SPEC, samples=samples(3),
                            task="segmentation", name="myavnet", jobs=1)
    assert [r.path.name for r in results] == ["myavnet_custom_fp32.pte", "myavnet_custom_fp32.tflite"]
    for r in results:
        assert r.parity.status == "passed" and r.parity.samples == 3 and r.parity.sqnr_db > 40, r.parity.summary()
        manifest = json.loads(r.manifest_path.read_text())
        check_manifest(manifest)
        assert manifest["model"] == "myavnet" and manifest["task"] == "segmentation"
        assert (manifest["sha256"], manifest["size_bytes"]) == digest(r.path)
        assert manifest["weights"] == {"source": "user module", "class": f"{__name__}.MyAVNet"}
        assert manifest["rewrites"].get("fold_conv_batchnorm") == 1  # the same rewrites as a registry model
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for r in results for n in (r.path.name, r.manifest_path.name))
    assert not model.training and isinstance(model.visual[1], nn.BatchNorm2d)  # the user's module is left as it was
