"""`edgeav train` on a dataset with a damaged validation file: the file is named, its samples skipped and
counted, the run kept (and not overwritten by the next call)."""
from __future__ import annotations

import json
from pathlib import Path

from edgeav.cli.main import main


def _train(out: Path, data: str) -> list[str]:
    return ["train", "--model", "lightavseg", "--config", "small", "--data", data, "--steps", "1", "--batch-size", "2",
            "--out", str(out)]


def test_a_bad_validation_file_is_skipped_and_the_run_kept(corrupted, tmp_path, capsys) -> None:
    root, (bad,) = corrupted("truncated_png")  # in the second val clip: clip 0 reads fine
    out = tmp_path / "run"
    assert main(_train(out, f"avsbench-ms3:{root}")) == 0
    err = capsys.readouterr().err
    assert "warning: 5 samples skipped" in err and str(bad) in err
    assert (out / "last.pt").exists() and json.loads((out / "evals.jsonl").read_text())["skipped"] == 5
    assert main(_train(out, f"avsbench-ms3:{root}")) == 2  # the run is not overwritten
    assert f"--out {out} already holds a run (last.pt" in capsys.readouterr().err


