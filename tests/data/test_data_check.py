"""Datasets are validated: every damaged file is reported in one line naming it (at open when headers show
it, when read otherwise), `edgeav data check` lists all problems, and WAVs of any common format are read."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeav.cli.main import main
from edgeav.data.registry import open_dataset
from edgeav.data.wav import load_wav
from edgeav.errors import DataError


def _val(root: Path):
    return open_dataset(f"avsbench-ms3:{root}", "val")


@pytest.mark.parametrize(("name", "expected"), [
    ("deleted_wav", r"missing audio: expected .*ms3_val_000001.wav; restore it"),
    ("random_bytes_wav", r"ms3_val_000001.wav: not a readable audio file .*re-export it as a 16-bit PCM WAV"),
    ("short_wav", r"ms3_val_000001.wav: 0.30 s of audio, but its clip needs 5 s"),
    ("mask_size", r"ms3_val_000001_2.png: mask is 48x32 but its frame is 64x64; write the mask at the frame's size"),
])
def test_opening_a_dataset_names_a_damaged_file_seen_in_its_header(corrupted, name, expected) -> None:
    root, _ = corrupted(name)
    with pytest.raises(DataError, match=expected + r".*edgeav data check") as err:
        _val(root)
    assert "\n" not in str(err.value) and "no raw audio" not in str(err.value)


def test_a_split_whose_every_wav_was_deleted_is_not_taken_for_a_log_mel_only_tree(corrupted) -> None:
    root, (bad,) = corrupted("deleted_wav")
    (bad.parent / "ms3_val_000000.wav").unlink()  # no wav left in val: the other splits still have theirs
    with pytest.raises(DataError, match=r"missing audio: expected .*ms3_val_000000.wav; restore it.* \(and 1 more\)"):
        _val(root)


@pytest.mark.parametrize(("name", "expected"), [
    ("truncated_png", r"ms3_val_000001.mp4_3.png: cannot decode the frame \(OSError: image file is truncated"),
    ("nan_wav", r"ms3_val_000001.wav: 1 audio samples are NaN or infinite"),
    ("loud_wav", r"ms3_val_000001.wav: float audio samples reach \d+(\.\d+)?, outside \[-1, 1\]"),
])
def test_reading_a_clip_names_a_file_that_does_not_decode(corrupted, name, expected) -> None:
    root, _ = corrupted(name)
    data = _val(root)  # headers are fine: the damage is in the pixels / samples
    data[0]  # the other clip reads
    with pytest.raises(DataError, match=expected):
        data[1]


def test_data_check_lists_every_problem_one_line_each(corrupted, capsys) -> None:
    root, damaged = corrupted("truncated_png", "nan_wav", "mask_size")
    assert main(["data", "check", str(root)]) == 2
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 3 and all(any(str(p) in line for line in lines) for p in damaged), lines
    assert "val: 2 clips, 3 problems" in err and "train: 10 clips, 0 problems" in err
    assert err.strip().splitlines()[-1].startswith("edgeav: error: 3 problems in") and damaged[0].name in err.splitlines()[-1]


def test_data_check_of_a_sound_dataset_passes(made_ms3, capsys) -> None:
    assert main(["data", "check", str(made_ms3)]) == 0
    assert "every file of train, val, test is readable" in capsys.readouterr().err


def test_data_make_refuses_a_non_empty_folder_without_overwrite(made_ms3, tmp_path, capsys) -> None:
    out = tmp_path / "ds"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["data", "make", "synthetic-s4:image_size=32", "--out", str(out), "--scenes", "1", "--split", "val"]) == 2
    assert "is not empty" in capsys.readouterr().err and (out / "notes.txt").exists()
    assert main(["data", "make", "synthetic-s4:image_size=32", "--out", str(out), "--scenes", "1", "--split", "val", "--overwrite"]) == 2
    assert "will not delete it" in capsys.readouterr().err and (out / "notes.txt").exists()
    made = tmp_path / "made"
    args = ["data", "make", "synthetic-s4:image_size=32", "--out", str(made), "--scenes", "1", "--split", "val"]
    assert main(args) == 0 and main(args) == 2
    assert main(args + ["--overwrite"]) == 0
    assert (made / "Single-source" / "s4_meta_data.csv").read_text().count("\n") == 2


# ---------------------------------------------------------------- WAV formats
def _tone(rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize(("subtype", "rate", "channels"), [
    ("PCM_16", 16000, 1), ("PCM_16", 44100, 1), ("PCM_16", 16000, 2), ("FLOAT", 16000, 1), ("PCM_24", 48000, 2),
])
def test_wavs_of_common_formats_read_as_mono_16k(tmp_path, subtype, rate, channels) -> None:
    import soundfile

    path = tmp_path / "a.wav"
    tone = _tone(rate)
    soundfile.write(str(path), np.stack([tone] * channels, 1), rate, subtype=subtype)
    x = load_wav(path, 16000)
    assert x.shape == (16000,) and x.dtype == np.float32
    np.testing.assert_allclose(x[100:-100], _tone(16000)[100:-100], atol=2e-3)


def test_clipped_int16_audio_is_refused(tmp_path) -> None:
    import soundfile

    path = tmp_path / "loud.wav"
    soundfile.write(str(path), np.clip(_tone(16000) * 1000, -1, 1), 16000, subtype="PCM_16")
    with pytest.raises(DataError, match=r"loud.wav: \d+% of the audio samples are at full scale"):
        load_wav(path, 16000)
