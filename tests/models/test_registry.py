"""Config names with an input-size suffix (``paper@128``)."""
from __future__ import annotations

import pytest
import torch

from edgeav.errors import UsageError
from edgeav.registry import get_model_entry


def test_size_suffix_changes_only_the_input_size():
    entry = get_model_entry("lightavseg")
    base, resized = entry.config("small"), entry.config("small@96")
    assert resized.image_size == 96 and base.image_size != 96
    assert {k: v for k, v in vars(resized).items() if k != "image_size"} == {
        k: v for k, v in vars(base).items() if k != "image_size"
    }
    spec = entry.io_spec(resized)
    assert spec.inputs[0].shape[-2:] == (96, 96)


def test_resized_model_loads_the_base_weights_and_runs():
    entry = get_model_entry("avesformer-r18")
    small, resized = entry.build("small"), entry.build("small@96")
    resized.load_state_dict(small.state_dict())
    inputs = entry.samples(entry.config("small@96"), 1, 0)[0]
    with torch.no_grad():
        out = resized.eval()(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape[-2:] == (96, 96)


@pytest.mark.parametrize("name, needle", [("small@100", "multiple of 32"), ("small@x", "multiple of 32"),
                                          ("nope@64", "no config 'nope'")])
def test_bad_size_suffix_is_one_line(name, needle):
    with pytest.raises(UsageError, match=needle) as err:
        get_model_entry("lightavseg").config(name)
    assert "\n" not in str(err.value)
