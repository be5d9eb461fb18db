"""The apps' contract: the golden vectors are what the exporter and the reference arithmetic produce today,
the Swift tests hold byte-identical copies, and the reference itself behaves (android_demo/core's JUnit tests,
run by `make test`, reproduce the same files)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from export_targets.manifest_schema import APP_FIELDS, check_manifest
from tests.apps import golden
from tests.apps import reference as ref


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    golden.write_all(out)
    return out


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_committed_vectors_are_what_python_writes_now(fresh: Path) -> None:
    assert _files(fresh) == _files(golden.GOLDEN), "run `python -m tests.apps.golden` and commit the result"
    for name in _files(fresh):
        if name.startswith("manifests/"):
            continue  # compared on the app-read fields below
        assert (fresh / name).read_bytes() == (golden.GOLDEN / name).read_bytes(), (
            f"{name} drifted: run `python -m tests.apps.golden`, check the apps still pass, commit")


def test_the_committed_manifests_match_the_exporter_on_what_apps_read(fresh: Path) -> None:
    names = json.loads((fresh / "cases.json").read_text())["manifests"]
    assert len(names) == 12
    for name in names:
        now, committed = (json.loads((root / name).read_text()) for root in (fresh, golden.GOLDEN))
        check_manifest(committed)
        drift = [k for k in APP_FIELDS if now.get(k) != committed.get(k)]
        assert not drift, f"{name}: the exporter now writes other {drift}; run `python -m tests.apps.golden`"


def test_the_swift_tests_hold_byte_identical_copies() -> None:
    assert _files(golden.SWIFT_GOLDEN) == _files(golden.GOLDEN)
    for name in _files(golden.GOLDEN):
        assert (golden.SWIFT_GOLDEN / name).read_bytes() == (golden.GOLDEN / name).read_bytes(), name


def test_resizing_to_the_crop_size_returns_the_pixels_themselves() -> None:
    rgba = golden.photo_rgba()  # 40×30: a 30×30 centre crop at x 5 needs no interpolation
    tensor = ref.rgba_to_nchw(rgba, 0, 30, 30)
    assert np.array_equal(tensor[0], rgba[:, 5:35, :3].transpose(2, 0, 1).astype(np.float32) / np.float32(255))


def test_rotations_turn_the_image_clockwise() -> None:
    rgba = golden.photo_rgba()[:, 5:35]  # square, so every rotation keeps every pixel
    for rotation, k in ((90, -1), (180, 2), (270, 1)):
        turned = np.rot90(rgba, k)  # np.rot90 turns counter-clockwise for k > 0
        assert np.array_equal(ref.rgba_to_nchw(rgba, rotation, 30, 30), ref.rgba_to_nchw(turned, 0, 30, 30))


def test_yuv_frames_decode_to_the_photo_within_chroma_subsampling() -> None:
    rgba = golden.photo_rgba()
    planes = ref.rgb_to_yuv420(rgba[..., :3], row_pad=8, pixel_stride=2)
    rgb = ref.yuv420_to_nchw(planes, 40, 30, 0, 30, 30)
    expected = rgba[:, 5:35, :3].transpose(2, 0, 1)[None].astype(np.float32) / 255
    assert np.abs(rgb - expected).mean() < 0.05  # 2×2 chroma on a cartoon image
    assert np.abs(rgb - expected).mean() > 0.0


def test_overlays_follow_their_rules() -> None:
    p = np.array([[[[0.2, 0.5], [0.51, 0.9]]]], np.float32)
    assert ref.threshold_overlay(p, 0, 0.5).tolist() == [[0, 0], [ref.MASK_ARGB, ref.MASK_ARGB]]
    classes = np.zeros((1, 3, 1, 2), np.float32)
    classes[0, 2, 0, 1] = 1
    assert ref.argmax_overlay(classes, 0).tolist() == [[0, ref.class_colour(2)]]
    assert ref.class_colour(1) == 0x8C800000 and ref.class_colour(2) == 0x8C008000  # VOC: dark red, dark green
    sal = ref.saliency_overlay(np.array([[[[1.0, 3.0]]]], np.float32), 0, "min-max")
    assert sal.tolist() == [[ref.jet(np.array(0)).item(), ref.jet(np.array(255)).item()]]
    assert ref.jet(np.array(255)).item() >> 24 == ref.SALIENCY_MAX_ALPHA


def test_the_pcm_ring_is_silence_then_the_last_samples() -> None:
    chunks = [np.array([16384, -16384], np.int16), np.arange(1, 6, dtype=np.int16)]
    w = ref.pcm_windows(chunks, 4)
    assert w[0].tolist() == [0, 0, 0.5, -0.5]
    assert (w[1] * 32768).tolist() == [2, 3, 4, 5]
