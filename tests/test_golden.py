"""Golden runs: the model reproduces, for every shipped scenario and seeds 0..49, the
recorded outcome, timeline, monthly series and every decision's option probabilities and
expected utilities by component (numbers within 1e-9). Refactors are held to these; a
deliberate change of behaviour regenerates them (``tests/golden/record.py``) in a commit
of its own that says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from golden.record import SEEDS, differences, load, path_for, record_run, scenarios


@pytest.mark.recorded
@pytest.mark.parametrize("config", scenarios(), ids=lambda p: p.stem)
def test_golden_runs_reproduced(config: Path):
    assert path_for(config).exists(), f"no golden record for {config.name}"
    expected = load(config)
    assert [r["seed"] for r in expected] == list(SEEDS)
    for want in expected:
        got = record_run(config, want["seed"])
        diff = differences(want, got)
        assert not diff, f"{config.stem} seed {want['seed']}: " + "; ".join(diff[:10])


def test_differences_detects_changes():
    base = {"a": [1.0, "x", None], "b": {"c": 2}}
    assert differences(base, {"a": [1.0 + 1e-12, "x", None], "b": {"c": 2}}) == []
    assert differences(base, {"a": [1.0 + 1e-6, "x", None], "b": {"c": 2}})
    assert differences(base, {"a": [1.0, "y", None], "b": {"c": 2}})
    assert differences(base, {"a": [1.0, "x"], "b": {"c": 2}})
    assert differences(base, {"a": [1.0, "x", None], "b": {"d": 2}})
    assert differences({"t": True}, {"t": 1})
