"""`edgeav models` in an 80-column terminal: every model name on one line, whole; nothing cut with an ellipsis."""
from __future__ import annotations

import pytest

from edgeav.cli.main import main
from edgeav.registry import list_models


@pytest.mark.parametrize("columns", ["80", "60"])
def test_names_never_wrap_or_truncate(columns: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    first_cells = {line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")}
    names = {e.name for e in list_models()}
    assert names <= first_cells, names - first_cells
