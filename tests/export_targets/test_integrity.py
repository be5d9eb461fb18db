"""Opening an artifact verifies it against its manifest: identity, sha256/size, declared I/O; corrupt bytes of each
format, a missing or broken runtime and a stale manifest are one line naming both files and the fix."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from edgeav.errors import ExportError, MissingDependencyError
from edgeav.files import digest
from export_targets.formats import format_of, open_artifact
from export_targets.integrity import verified_manifest
from export_targets.manifest import manifest_path
from export_targets.target import ExportTarget
from stand_ins import export, stand_ins, standin_structure  # noqa: F401  (fixtures)

FORMATS = ("executorch", "litert", "coreml", "onnx")
FIX = "re-export the artifact (`edgeav export` writes both), or remove the stale manifest"


@pytest.fixture
def artifacts(tiny_av_entry, stand_ins, tmp_path) -> dict[str, Path]:
    """TinyAV 'exported' (stand-in bytes, real manifests) to every format."""
    return {r.format: r.path for r in export(tiny_av_entry, tmp_path / "dist", "all")}


def rehash(artifact: Path) -> None:
    """Make the manifest match the artifact's current bytes (as if the export had written them)."""
    mpath = manifest_path(artifact)
    manifest = json.loads(mpath.read_text())
    manifest["sha256"], manifest["size_bytes"] = digest(artifact)
    mpath.write_text(json.dumps(manifest))


def corrupt(artifact: Path) -> None:
    target = next(p for p in sorted(artifact.rglob("*")) if p.is_file()) if artifact.is_dir() else artifact
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))


def test_a_fresh_export_opens(artifacts, standin_structure, tiny_av_entry) -> None:
    spec = tiny_av_entry.io_spec(tiny_av_entry.config("small"))
    assert all(open_artifact(p, spec) == ("runner", None) for p in artifacts.values())
    assert open_artifact(artifacts["executorch"], threads=3) == ("runner", 3)  # threads reach the format's runner


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_bytes_of_each_format_are_one_line_naming_both_files(artifacts, fmt) -> None:
    path = artifacts[fmt]
    corrupt(path)
    with pytest.raises(ExportError) as err:
        open_artifact(path)
    msg = str(err.value)
    assert msg.startswith(f"{manifest_path(path)} does not describe {path}: sha256 ")
    assert "changed or corrupted since export" in msg and msg.endswith(FIX) and "\n" not in msg


@pytest.mark.converter  # imports each runtime: ~70 s on one core
@pytest.mark.parametrize("fmt", FORMATS)
def test_bytes_the_runtime_cannot_read_are_one_line_for_each_format(artifacts, fmt) -> None:
    path = artifacts[fmt]  # stand-in bytes with a manifest that matches them: each real runtime's reader refuses
    with pytest.raises(ExportError) as err:
        open_artifact(path)
    msg = str(err.value)
    assert path.name in msg and "re-export" in msg and "\n" not in msg and "Traceback" not in msg


def test_another_artifacts_manifest_beside_a_pte_is_refused(artifacts) -> None:
    other = artifacts["executorch"].with_name("other.pte")
    shutil.copy(artifacts["executorch"], other)
    shutil.copy(manifest_path(artifacts["executorch"]), manifest_path(other))
    with pytest.raises(ExportError, match=rf"other\.pte\.json does not describe .*other\.pte: it is the manifest "
                                          rf"of 'tinyav_small_fp32\.pte'; {re.escape(FIX)}$"):
        open_artifact(other)


def test_a_manifest_of_another_format_is_refused(artifacts) -> None:
    manifest = json.loads(manifest_path(artifacts["onnx"]).read_text())
    manifest["artifact"] = artifacts["executorch"].name
    manifest_path(artifacts["executorch"]).write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="it describes a onnx artifact, this is executorch"):
        open_artifact(artifacts["executorch"])


def test_a_size_that_disagrees_is_refused(artifacts) -> None:
    mpath = manifest_path(artifacts["onnx"])
    manifest = json.loads(mpath.read_text())
    manifest["size_bytes"] += 1
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r": 16 bytes, the manifest says 17;"):
        open_artifact(artifacts["onnx"])


def test_a_stale_manifest_of_another_input_size_is_refused(artifacts, standin_structure) -> None:
    path = artifacts["litert"]
    mpath = manifest_path(path)
    manifest = json.loads(mpath.read_text())
    manifest["io"]["inputs"][0]["shape"] = [1, 3, 96, 96]
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r"it declares input 'frames' as float32 \(1, 3, 96, 96\), the artifact "
                                          r"declares float32 \(1, 3, 64, 64\); re-export"):
        open_artifact(path)


def test_a_manifest_unlike_the_model_the_caller_feeds_is_refused(artifacts, standin_structure, tiny_av_entry) -> None:
    spec = tiny_av_entry.io_spec(type(tiny_av_entry.config("small"))(size=96))
    with pytest.raises(ExportError, match=r"it declares input 'frames' as float32 \(1, 3, 64, 64\), the model takes "
                                          r"float32 \(1, 3, 96, 96\) \(tinyav \[small\] today"):
        open_artifact(artifacts["onnx"], spec)


def test_a_missing_runtime_names_the_extra(artifacts, monkeypatch) -> None:
    real = __import__("importlib").util.find_spec
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "executorch" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"^no ExecuTorch \(XNNPACK\) runtime to open tinyav_small_fp32\.pte; "
                                                     r"install it with: pip install 'edgeav\[executorch\]'$"):
        open_artifact(artifacts["executorch"])


def test_a_broken_runtime_install_names_the_extra(artifacts, monkeypatch) -> None:
    def broken(self, module):
        raise ImportError("libxnnpack.so: cannot open shared object file")

    monkeypatch.setattr(ExportTarget, "_part", broken)
    with pytest.raises(MissingDependencyError, match=r"pip install 'edgeav\[tflite\]' \(ImportError: libxnnpack"):
        open_artifact(artifacts["litert"])


def test_verification_reads_the_tree_of_a_package(artifacts) -> None:
    pkg = artifacts["coreml"]
    assert verified_manifest(pkg, format_of(pkg))["sha256"] == digest(pkg)[0]
    (pkg / "extra.bin").write_bytes(b"x")
    with pytest.raises(ExportError, match="sha256"):
        verified_manifest(pkg, format_of(pkg))


def test_an_artifact_without_a_manifest_is_refused(tmp_path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(Exception, match=r"m\.onnx\.json is missing beside m\.onnx; re-export"):
        open_artifact(tmp_path / "m.onnx")


def test_outputs_the_runtime_lists_in_its_own_order_still_match_by_name(tmp_path) -> None:
    """LiteRT sorts a two-output signature (fixations before saliency): same names, shapes and dtypes pass;
    a real difference under that reordering is still refused."""
    from export_targets.integrity import check_declared_io
    from export_targets.target import ArtifactStructure, TensorInfo

    manifest = {"io": {"inputs": [{"name": "image", "shape": [1, 3, 8, 8], "dtype": "float32"}],
                       "outputs": [{"name": "saliency", "shape": [1, 1, 8, 8], "dtype": "float32"},
                                   {"name": "fixations", "shape": [1, 5, 3], "dtype": "float32"}]},
                "artifact_io": {"inputs": ["image"], "outputs": ["fixations", "saliency"]}}
    inputs = (TensorInfo("image", (1, 3, 8, 8), "float32"),)
    sorted_outputs = (TensorInfo("fixations", (1, 5, 3), "float32"), TensorInfo("saliency", (1, 1, 8, 8), "float32"))
    check_declared_io(tmp_path / "m.tflite", manifest, ArtifactStructure(inputs, sorted_outputs, ()))
    wrong = (TensorInfo("fixations", (1, 6, 3), "float32"), TensorInfo("saliency", (1, 1, 8, 8), "float32"))
    with pytest.raises(ExportError, match="fixations"):
        check_declared_io(tmp_path / "m.tflite", manifest, ArtifactStructure(inputs, wrong, ()))
