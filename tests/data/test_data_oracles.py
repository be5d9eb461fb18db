"""The oracle table: the sound decides the target."""
from __future__ import annotations

import pytest

from edgeav.data.oracles import oracle_scores


def test_only_the_true_sounding_objects_score_100(small_config):
    cfg = small_config("s4", image_size=48, same_category_fraction=1.0, decoy_activity_prob=1.0, silent_objects=(2, 3))
    scores = oracle_scores("s4", 6, seed=0, config=cfg)
    assert scores["sounding objects"]["miou"] == pytest.approx(1.0)
    assert scores["sounding objects"]["fscore"] == pytest.approx(1.0)
    for name in ("all objects", "activity cue", "sounding categories"):
        assert scores[name]["miou"] < 0.95, name
    assert scores["all objects"]["miou"] < scores["sounding categories"]["miou"]
