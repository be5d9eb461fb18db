"""`edgeav data make | show | stats` through the real entry point."""
from __future__ import annotations

from edgeav.cli.main import main


def test_make_show_stats(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["data", "make", "synthetic-s4:image_size=48", "--out", str(out), "--scenes", "2", "--split", "train"]) == 0
    assert (out / "Single-source" / "s4_meta_data.csv").read_text().count("\n") == 3
    assert main(["data", "show", str(out), "--count", "2"]) == 0
    assert (out / "preview.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["data", "stats", str(out)]) == 0
    assert "mask coverage" in capsys.readouterr().out


def test_stats_with_oracles_on_a_spec(capsys):
    assert main(["data", "stats", "synthetic-ms3:scenes=2,image_size=32", "--oracles", "--oracle-scenes", "2"]) == 0
    assert "sounding objects" in capsys.readouterr().out


def test_make_refuses_a_reader_spec(tmp_path, capsys):
    assert main(["data", "make", f"avsbench-s4:{tmp_path}", "--out", str(tmp_path / "x")]) == 2
    assert "writes synthetic data" in capsys.readouterr().err


def test_show_of_a_missing_folder_is_a_clean_error(tmp_path, capsys):
    assert main(["data", "show", str(tmp_path / "nothing")]) == 2
    assert "unknown dataset" in capsys.readouterr().err
