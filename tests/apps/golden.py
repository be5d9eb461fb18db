"""The demo apps' golden vectors, one source: ``python -m tests.apps.golden`` writes them to
``tests/apps/golden/`` and the byte-identical copy in ``ios_demo/Tests/EdgeAVCoreTests/Golden/``.

* a real picture (docs/images/synthetic-ms3.png, subsampled) as RGBA and as YUV_420_888 (padded rows,
  interleaved and planar chroma) → the frame tensor the model gets, for several rotations and input sizes;
* model outputs (mask probabilities, class probabilities, a saliency map) → the overlay's ARGB pixels;
* int16 PCM chunks → the audio window after each chunk;
* manifests written by the real ``build_manifest`` for ExecuTorch, LiteRT and Core ML, binary and semantic
  segmentation, and saliency.

``cases.json`` indexes every vector; binaries are little-endian (float32, uint32, int16, uint8).
``tests/apps/test_golden.py`` regenerates everything and fails on drift; android_demo/core's JUnit tests
and ios_demo's XCTest tests read the same files.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.apps import reference as ref

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "apps" / "golden"
SWIFT_GOLDEN = ROOT / "ios_demo" / "Tests" / "EdgeAVCoreTests" / "Golden"
PHOTO = ROOT / "docs" / "images" / "synthetic-ms3.png"
FIXED_TIME = "2026-01-01T00:00:00+00:00"  # manifests' created_utc, so that regenerating is deterministic


def photo_rgba() -> np.ndarray:
    """A 40×30 RGBA crop of the README's synthetic-scene figure (every 8th pixel, no resampling library)."""
    rgba = np.asarray(Image.open(PHOTO).convert("RGBA"))
    return np.ascontiguousarray(rgba[120 : 120 + 30 * 8 : 8, 60 : 60 + 40 * 8 : 8])


def _save(out: Path, name: str, array: np.ndarray) -> str:
    (out / name).write_bytes(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
    return name


def frame_cases(out: Path) -> list[dict[str, Any]]:
    rgba = photo_rgba()
    h, w = rgba.shape[:2]
    cases: list[dict[str, Any]] = [{"name": "photo", "file": _save(out, "photo_rgba.u8", rgba), "width": w, "height": h}]
    for rotation, ow, oh in ((0, 24, 24), (90, 24, 24), (270, 16, 12), (180, 12, 16)):
        tensor = ref.rgba_to_nchw(rgba, rotation, ow, oh)
        cases.append({"name": f"rgba_r{rotation}_{ow}x{oh}", "kind": "rgba", "source": "photo_rgba.u8",
                      "width": w, "height": h, "rotation": rotation, "out_width": ow, "out_height": oh,
                      "expected": _save(out, f"rgba_r{rotation}_{ow}x{oh}.f32", tensor)})
    for rotation, pixel_stride, pad, ow, oh in ((0, 1, 0, 24, 24), (90, 2, 8, 24, 24), (270, 2, 4, 16, 12)):
        planes = ref.rgb_to_yuv420(rgba[..., :3], row_pad=pad, pixel_stride=pixel_stride)
        stem = f"yuv_r{rotation}_ps{pixel_stride}_{ow}x{oh}"
        tensor = ref.yuv420_to_nchw(planes, w, h, rotation, ow, oh)
        cases.append({"name": stem, "kind": "yuv420", "width": w, "height": h, "rotation": rotation,
                      "out_width": ow, "out_height": oh, "y": _save(out, f"{stem}.y.u8", planes["y"]),
                      "u": _save(out, f"{stem}.u.u8", planes["u"]), "v": _save(out, f"{stem}.v.u8", planes["v"]),
                      "y_row_stride": planes["y_row_stride"], "uv_row_stride": planes["uv_row_stride"],
                      "uv_pixel_stride": planes["uv_pixel_stride"], "expected": _save(out, f"{stem}.f32", tensor)})
    return cases


def overlay_cases(out: Path) -> list[dict[str, Any]]:
    rng = np.random.default_rng(18)
    h, w = 12, 10
    mask = rng.uniform(0, 1, (1, 1, h, w)).astype(np.float32)
    mask[0, 0, 0, 0] = 0.5  # exactly the threshold: not in the mask (p > value)
    classes = rng.dirichlet(np.ones(5), (h, w)).transpose(2, 0, 1)[None].astype(np.float32)
    classes[0, :, 0, 1] = 0.2  # a tie: the first class wins
    saliency = rng.gamma(2.0, 1.5, (1, 1, h, w)).astype(np.float32)
    rules = (
        ("threshold", mask, {"kind": "threshold", "output": "mask", "channel": 0, "value": 0.5},
         ref.threshold_overlay(mask, 0, 0.5)),
        ("argmax", classes, {"kind": "argmax", "output": "mask", "axis": 1, "background": 0,
                             "labels": ["background", "a", "b", "c", "d"]}, ref.argmax_overlay(classes, 0)),
        ("saliency", saliency, {"kind": "saliency", "output": "saliency", "channel": 0, "normalize": "min-max",
                                "colormap": "jet"}, ref.saliency_overlay(saliency, 0, "min-max")),
    )
    return [{"name": name, "postprocess": rule, "shape": list(x.shape), "output": _save(out, f"overlay_{name}.f32", x),
             "expected": _save(out, f"overlay_{name}.argb", argb.astype(np.uint32))}
            for name, x, rule, argb in rules]


def pcm_cases(out: Path) -> list[dict[str, Any]]:
    rng = np.random.default_rng(16000)
    samples, sizes = 16, (5, 7, 20, 3)
    chunks = [rng.integers(-32768, 32768, n).astype(np.int16) for n in sizes]
    chunks[0][0] = -32768  # the extremes map to -1 and 32767/32768
    chunks[1][0] = 32767
    windows = ref.pcm_windows(chunks, samples)
    return [{"name": "pcm_ring", "samples": samples, "chunk_sizes": list(sizes),
             "chunks": _save(out, "pcm_chunks.i16", np.concatenate(chunks)),
             "windows": _save(out, "pcm_windows.f32", np.stack(windows))}]


def _saliency_specs():
    """Saliency students' contracts as edgeav exports them: a streaming audio-visual one (frame + the second
    ending at it + its recurrent state → map + next state, like DTFSal-S) and an image-only one (like SalTR-S)."""
    from edgeav.specs import IOSpec, TensorSpec

    frames = TensorSpec("frames", (1, 3, 96, 160), "float32", "NCHW, RGB", (0.0, 1.0), "one frame")
    saliency = TensorSpec("saliency", (1, 1, 96, 160), "float32", "NCHW", (0.0, 1.0), "saliency map")
    state = TensorSpec("state", (1, 16, 3, 5), "float32", "N, C, H/32, W/32", None, "previous frames' features")
    reading = "a saliency map: stretch to [0, 1] and colour it"
    streaming = IOSpec(
        inputs=(frames, TensorSpec("audio", (1, 16000), "float32", "N, samples (mono PCM)", (-1.0, 1.0), "last second"),
                state),
        outputs=(saliency, dataclasses.replace(state, name="next_state")), output_reading=reading,
        sample_rate=16000, samples_per_frame=1600, audio_window="trailing",
    )
    return streaming, IOSpec(inputs=(dataclasses.replace(frames, name="image"),), outputs=(saliency,), output_reading=reading)


def manifests(out: Path) -> list[str]:
    """Manifests from the real build_manifest: every app format × binary / semantic segmentation × saliency."""
    from edgeav.registry import get_model_entry
    from export_targets.formats import format_info
    from export_targets.manifest import build_manifest, manifest_path
    from export_targets.parity import ParityReport
    from export_targets.target import ArtifactStructure, TensorInfo

    entry = get_model_entry("lightavseg")
    subjects = [("lightavseg", "small", "segmentation", dataclasses.replace(entry.io_spec(entry.config("small")),
                                                                           audio_window="trailing")),
                ("lightavseg", "small-avss", "segmentation", entry.io_spec(entry.config("small-avss"))),
                ("saliency-student", "golden", "saliency", _saliency_specs()[0]),
                ("saliency-image", "golden", "saliency", _saliency_specs()[1])]
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, config, task, spec in subjects:
            for target in ("executorch", "litert", "coreml"):
                info = format_info(target)
                precision = info.precisions["fp32"]
                artifact = Path(tmp) / f"{model}_{config}_{precision}{info.suffix}"
                artifact.write_bytes(f"edgeav golden placeholder for {artifact.name}\n".encode())
                names = lambda specs: tuple(TensorInfo(s.name, s.shape, s.dtype) for s in specs)  # noqa: E731
                manifest = build_manifest(
                    model_name=model, config_name=config, config={"note": "golden"}, task=task, info=info,
                    requested_precision="fp32", artifact=artifact, io_spec=spec,
                    structure=ArtifactStructure(names(spec.inputs), names(spec.outputs), ("conv2d",)),
                    weights={"source": "golden"}, rewrites={}, warnings=[], lowering={}, ops=("conv2d",),
                    parity=ParityReport.skipped("golden manifest: no artifact was run"),
                    export_seconds=0.0, verify_seconds=0.0,
                )
                manifest["created_utc"] = FIXED_TIME
                name = manifest_path(artifact).name
                (out / "manifests").mkdir(exist_ok=True)
                (out / "manifests" / name).write_text(json.dumps(manifest, indent=2) + "\n")
                written.append(f"manifests/{name}")
    return written


def write_all(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cases = {"frames": frame_cases(out), "overlays": overlay_cases(out), "pcm": pcm_cases(out),
             "manifests": manifests(out), "overlay_colours": {"mask": ref.MASK_ARGB, "alpha": ref.OVERLAY_ALPHA,
                                                              "saliency_max_alpha": ref.SALIENCY_MAX_ALPHA}}
    (out / "cases.json").write_text(json.dumps(cases, indent=2) + "\n")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--out"] and len(argv) == 2:  # fresh vectors elsewhere (make test feeds them to the Kotlin core)
        out = Path(argv[1])
        shutil.rmtree(out, ignore_errors=True)
        write_all(out)
        return 0
    if argv:
        print("usage: python -m tests.apps.golden [--out DIR]", file=sys.stderr)
        return 2
    shutil.rmtree(GOLDEN, ignore_errors=True)
    write_all(GOLDEN)
    shutil.rmtree(SWIFT_GOLDEN, ignore_errors=True)
    shutil.copytree(GOLDEN, SWIFT_GOLDEN)
    print(f"wrote {sum(1 for p in GOLDEN.rglob('*') if p.is_file())} files to {GOLDEN} and {SWIFT_GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
