"""`load_checkpoint` and `edgeav export --checkpoint`: each broken checkpoint is a one-line error with a fix."""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from edgeav.checkpoints import load_checkpoint
from edgeav.cli.main import main
from edgeav.errors import CheckpointError


@pytest.fixture
def model(tiny_av_entry):
    return tiny_av_entry.build()


def save(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


def error_of(model, path: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(model, path)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_raw_state_dict_loads(model, tmp_path: Path, tiny_av_entry) -> None:
    other = tiny_av_entry.build()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    info = load_checkpoint(model, save(tmp_path / "w.pt", other.state_dict()))
    assert info.key is None and info.tensors == len(other.state_dict())
    assert torch.equal(model.head.weight, other.head.weight)


@pytest.mark.parametrize("key", ["state_dict", "model", "state_dict_ema"])
def test_nested_state_dicts_load(model, tmp_path: Path, key: str) -> None:
    info = load_checkpoint(model, save(tmp_path / "w.pt", {key: model.state_dict(), "epoch": 1}))
    assert info.key == key


def test_ema_weights_are_preferred(model, tmp_path: Path) -> None:
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in model.state_dict().items()}
    info = load_checkpoint(model, save(tmp_path / "w.pt", {"state_dict": model.state_dict(), "state_dict_ema": ema}))
    assert info.key == "state_dict_ema" and torch.equal(model.head.bias, ema["head.bias"])


def test_dataparallel_prefix_is_removed(model, tmp_path: Path) -> None:
    state = OrderedDict(("module." + k, v) for k, v in model.state_dict().items())
    assert load_checkpoint(model, save(tmp_path / "w.pt", state)).tensors == len(state)


def test_missing_file(model, tmp_path: Path) -> None:
    assert "does not exist; check the path" in error_of(model, tmp_path / "nope.pt")


def test_truncated_file(model, tmp_path: Path) -> None:
    path = save(tmp_path / "w.pt", model.state_dict())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "truncated or not a torch.save file" in error_of(model, path)


@pytest.mark.parametrize("text", ["hello", "model.weight = 1\n", '{"state_dict": {}}'])
def test_a_text_file_is_not_a_pytorch_checkpoint(model, tmp_path: Path, text: str) -> None:
    # torch.load calls "model.weight = 1" a file holding Python objects besides tensors: it is neither.
    path = tmp_path / "w.pt"
    path.write_text(text)
    msg = error_of(model, path)
    assert "is not a PyTorch checkpoint" in msg and "Python objects" not in msg


def test_list_instead_of_dict(model, tmp_path: Path) -> None:
    msg = error_of(model, save(tmp_path / "w.pt", list(model.state_dict().values())))
    assert "holds a list, not a state dict" in msg and "torch.save(model.state_dict(), path)" in msg


def test_dict_without_tensors(model, tmp_path: Path) -> None:
    assert "non-tensor entries (epoch, lr)" in error_of(model, save(tmp_path / "w.pt", {"epoch": 3, "lr": 0.1}))


def test_pickled_module_is_refused_by_weights_only(model, tmp_path: Path) -> None:
    # A torch.nn class, not one from a conftest: conftest modules can be imported twice under one name.
    assert "weights_only=True refuses" in error_of(model, save(tmp_path / "w.pt", {"net": torch.nn.Linear(2, 2)}))


def test_missing_and_unexpected_keys_are_named_and_counted(model, tmp_path: Path) -> None:
    state = model.state_dict()
    for k in ("head.weight", "head.bias", "audio.0.weight", "audio.0.bias"):
        del state[k]
    state["extra.weight"] = torch.zeros(1)
    msg = error_of(model, save(tmp_path / "w.pt", state))
    assert "4 missing keys (audio.0.weight, audio.0.bias, head.weight, ...)" in msg
    assert "1 unexpected keys (extra.weight)" in msg


def test_shape_mismatch_names_the_tensor(model, tmp_path: Path, tiny_av_entry) -> None:
    wide = tiny_av_entry.build("wide").state_dict()
    msg = error_of(model, save(tmp_path / "w.pt", wide))
    assert "tensors of the wrong shape (visual.0.weight [16, 3, 3, 3] vs model [8, 3, 3, 3]" in msg
    assert "another --config" in msg


def test_cli_reports_checkpoint_errors_in_one_line(registry_with_tiny_av, capsys, tmp_path: Path) -> None:
    path = save(tmp_path / "w.pt", [1, 2, 3])
    out = tmp_path / "dist"
    code = main(["export", "--model", "tinyav", "--checkpoint", str(path), "--target", "onnx", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "holds a list, not a state dict" in err[0]
    assert not out.exists()



def test_an_unreadable_checkpoint_says_permission_not_truncated(model, tmp_path: Path, monkeypatch) -> None:
    path = save(tmp_path / "w.pt", model.state_dict())
    real_open = Path.open

    def denied(self, *args, **kwargs):  # chmod 000 does not stop root, who runs CI: deny the read itself
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    msg = error_of(model, path)
    assert "permission denied" in msg and "truncated" not in msg and "re-download" not in msg
