"""Still-image fixation data: samples for set prediction, the SALICON and MIT1003 readers on written trees."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat
from torch.utils.data import default_collate

from edgeav.data.saliency import SaliencyConfig, SyntheticSaliencyImages
from edgeav.data.saliency.fixations import DataSkipWarning, FixationSamples, normalised_xy, pad_points
from edgeav.data.saliency.mit1003 import MIT1003Images
from edgeav.data.saliency.salicon import SaliconImages, read_salicon_fixations
from edgeav.errors import DataError

H, W = 48, 64


def _image(path: Path, h: int = H, w: int = W, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path, quality=95)


def _grey(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), "L").save(path, **({"quality": 95} if path.suffix == ".jpg" else {}))


def _gaze(observers: list[np.ndarray]) -> np.ndarray:
    """A SALICON ``gaze`` struct array: one element per observer, 1-based (x, y) fixations."""
    gaze = np.empty((len(observers), 1), dtype=[("location", "O"), ("timestamp", "O"), ("fixations", "O")])
    for i, fix in enumerate(observers):
        gaze[i, 0] = (fix.astype(np.float64), np.arange(len(fix), dtype=np.float64)[:, None], fix.astype(np.float64))
    return gaze


def _salicon(root: Path, fixations: dict[str, list[np.ndarray]], split: str = "train") -> Path:
    for i, (name, observers) in enumerate(fixations.items()):
        _image(root / "images" / split / f"{name}.jpg", seed=i)
        _grey(root / "maps" / split / f"{name}.png", np.full((H, W), 128))
        path = root / "fixations" / split / f"{name}.mat"
        path.parent.mkdir(parents=True, exist_ok=True)
        savemat(path, {"image": name, "resolution": np.array([H, W]), "gaze": _gaze(observers)})
    return root


def test_synthetic_images_give_fixed_shape_samples_with_normalised_points():
    images = SyntheticSaliencyImages(SaliencyConfig(frame_size=(64, 96), observers=4, image_fixations=3), size=3, seed=1)
    samples = FixationSamples(images, size=(32, 48), max_fixations=20)
    item = samples[0]
    raw = images[0]
    assert item["image"].shape == (3, 32, 48) and item["saliency"].shape == (1, 32, 48)
    assert int(item["num_points"]) == len(raw.points) == 12
    expected = (raw.points[0, 1] + 0.5) / 96, (raw.points[0, 0] + 0.5) / 64  # (x, y) of the first fixation
    assert item["points"][0].tolist() == pytest.approx([float(v) for v in expected], abs=1e-6)
    assert float(item["points"][12:].abs().sum()) == 0.0  # padding
    batch = default_collate([samples[0], samples[1]])
    assert batch["points"].shape == (2, 20, 2) and batch["num_points"].tolist() == [12, 12]


def test_a_larger_set_keeps_an_evenly_spaced_subset():
    points = torch.arange(10, dtype=torch.float32)[:, None].repeat(1, 2) / 10
    padded, count = pad_points(points, 4)
    assert count == 4 and padded[:, 0].tolist() == pytest.approx([0.0, 0.3, 0.6, 0.9])


def test_pixel_centres_map_to_the_normalised_frame():
    got = normalised_xy(torch.tensor([[0.0, 0.0], [H - 1.0, W - 1.0]]), H, W).reshape(-1).tolist()
    assert got == pytest.approx([0.5 / W, 0.5 / H, 1 - 0.5 / W, 1 - 0.5 / H])


def test_salicon_reads_pooled_observers_as_zero_based_yx(tmp_path):
    root = _salicon(tmp_path, {"COCO_train2014_000000000009": [np.array([[1, 1], [64, 48]]), np.array([[10, 20]])]})
    data = SaliconImages(root, "train")
    item = data[0]
    assert item.image.shape == (3, H, W)
    assert item.points.tolist() == [[0.0, 0.0], [47.0, 63.0], [19.0, 9.0]]  # (y, x) = (row − 1, col − 1)
    assert item.fixations[0, 19, 9] == 1 and float(item.fixations.sum()) == 3
    resized = SaliconImages(root, "train", size=(24, 32))[0]
    assert resized.points[1].tolist() == pytest.approx([23.5, 31.5])


def test_salicon_skips_an_image_without_fixations_and_drops_points_off_the_image(tmp_path):
    root = _salicon(tmp_path, {
        "COCO_train2014_000000000001": [np.zeros((0, 2))],
        "COCO_train2014_000000000002": [np.array([[5, 5], [500, 5], [5, -20]])],
    })
    data = SaliconImages(root, "train")
    assert len(data) == 1 and data.summary.skipped == ["COCO_train2014_000000000001"]
    assert data.summary.dropped_points == 2
    assert "1 skipped without fixations, 2 fixations outside their image dropped" in data.summary.line()
    with pytest.warns(DataSkipWarning, match="^fixation data: 2 images, 1 skipped without fixations, 2 fixations outside"):
        samples = FixationSamples(data)
    assert int(samples[0]["num_points"]) == 1  # the point on the image is kept, the two off it are not


def test_samples_of_a_reader_without_skips_say_nothing(tmp_path):
    import warnings

    root = _salicon(tmp_path, {"COCO_train2014_000000000003": [np.array([[5, 5]])]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataSkipWarning)
        assert len(FixationSamples(SaliconImages(root, "train"))) == 1


def test_salicon_refuses_a_fixation_file_of_another_layout(tmp_path):
    root = _salicon(tmp_path, {"COCO_train2014_000000000009": [np.array([[3, 3]])]})
    savemat(root / "fixations" / "train" / "COCO_train2014_000000000009.mat", {"eyeData": np.zeros((5, 2))})
    with pytest.raises(DataError, match="not a SALICON fixation file.*eyeData.*mit1003:PATH") as info:
        SaliconImages(root, "train")
    assert "\n" not in str(info.value)


def test_salicon_test_split_has_no_fixations(tmp_path):
    with pytest.raises(Exception, match="use one of train, val"):
        SaliconImages(tmp_path, "test")


def test_salicon_json_fixations_point_to_the_edgeav_layout(tmp_path):
    _image(tmp_path / "images" / "train" / "a.jpg")
    (tmp_path / "fixations" / "train").mkdir(parents=True)
    (tmp_path / "fixations" / "train" / "a.json").write_text('{"points": []}')
    with pytest.raises(DataError, match="saliency-images:"):
        SaliconImages(tmp_path, "train")


def test_read_salicon_mouse_locations(tmp_path):
    path = tmp_path / "x.mat"
    savemat(path, {"gaze": _gaze([np.array([[2, 3]])])})
    assert read_salicon_fixations(path, "location").tolist() == [[2.0, 1.0]]


def _mit(root: Path, names: list[str], points: list[list[tuple[int, int]]]) -> Path:
    for i, (name, pts) in enumerate(zip(names, points)):
        _image(root / "ALLSTIMULI" / f"{name}.jpeg", seed=i)
        dots = np.zeros((H, W))
        for y, x in pts:
            dots[y, x] = 255
        _grey(root / "ALLFIXATIONMAPS" / f"{name}_fixPts.jpg", dots)
        _grey(root / "ALLFIXATIONMAPS" / f"{name}_fixMap.jpg", np.full((H, W), 90))
    return root


def test_mit1003_reads_fixation_points_through_jpeg_and_splits_every_tenth(tmp_path):
    names = [f"i{k:02d}" for k in range(11)]
    root = _mit(tmp_path, names, [[(5, 7), (30, 40), (47, 63)]] * 11)
    train, held_out = MIT1003Images(root, "train"), MIT1003Images(root, "test")
    assert len(train) == 9 and len(held_out) == 2
    assert {r.name for r in held_out.records} == {"i00", "i10"}
    assert sorted(map(tuple, held_out[0].points.tolist())) == [(5.0, 7.0), (30.0, 40.0), (47.0, 63.0)]


def test_mit1003_without_points_names_the_raw_data_route(tmp_path):
    _image(tmp_path / "ALLSTIMULI" / "a.jpeg")
    (tmp_path / "DATA" / "CNG").mkdir(parents=True)
    with pytest.raises(DataError, match="_fixPts.jpg.*checkFixations"):
        MIT1003Images(tmp_path)


def test_mit1003_refuses_a_density_map_as_points(tmp_path):
    root = _mit(tmp_path, ["a"], [[(1, 1)]])
    _grey(root / "ALLFIXATIONMAPS" / "a_fixPts.jpg", np.full((H, W), 200))
    with pytest.raises(DataError, match="density map, not fixation points"):
        MIT1003Images(root, "val")


def test_samples_refuse_an_image_without_fixations():
    class Empty(torch.utils.data.Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            from edgeav.data.clips import SaliencyImage

            return SaliencyImage(torch.zeros(3, 8, 8), torch.zeros(0, 2), torch.zeros(1, 8, 8), torch.zeros(1, 8, 8), {"name": "x"})

    with pytest.raises(DataError, match="image x has no fixations"):
        FixationSamples(Empty())[0]


def test_specs_open_and_detect_both_layouts(tmp_path):
    from edgeav.data import open_dataset
    from edgeav.data.registry import detect_spec

    salicon = _salicon(tmp_path / "sal", {"COCO_val2014_000000000001": [np.array([[3, 3]])]}, split="val")
    mit = _mit(tmp_path / "mit", ["a"], [[(2, 2)]])
    assert detect_spec(salicon).startswith("salicon:") and detect_spec(mit).startswith("mit1003:")
    assert len(open_dataset(f"salicon:{salicon}", "val")) == 1
    assert len(open_dataset(str(mit), "test")) == 1
