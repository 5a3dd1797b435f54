"""The 2019 baseline reproduces the observed sequence, and the README says what it does."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from experiments.calibration import (
    DEFAULT_TIMELINE,
    SEQUENCE,
    calibrate,
    first_months,
    read_timeline,
    reproduces_2019,
    run_seeds,
)
from experiments.cli import parameter_table

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
WORKERS = min(2, os.cpu_count() or 1)


def block(name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", README, re.S)
    assert m, f"README.md lacks the {name} block"
    return m.group(1).strip()


def test_readme_parameter_table_is_the_registry():
    assert block("parameters") == parameter_table().strip()


def test_timeline_copy_matches_shared_when_present():
    shared = REPO.parent / "shared" / "timeline_2019.csv"
    if not shared.exists():
        pytest.skip("../shared is not beside this clone")
    assert DEFAULT_TIMELINE.read_text() == shared.read_text()


def test_reproduces_2019_scoring_rules():
    firsts = {(a, e): ym for a, e, ym in SEQUENCE}
    assert reproduces_2019(firsts, "last_minute_suspension")
    assert not reproduces_2019(firsts, "terminated")
    late = dict(firsts)
    late[("seoul", "wto_complaint")] = (2019, 10)
    assert not reproduces_2019(late, "last_minute_suspension")
    missing = {k: v for k, v in firsts.items() if k != ("tokyo", "talks_offer")}
    assert not reproduces_2019(missing, "last_minute_suspension")


def test_first_months_keeps_the_first_occurrence():
    events = [
        {"date": "2019-07-01", "actor": "tokyo", "event": "targeted_export_controls"},
        {"date": "2019-09-01", "actor": "tokyo", "event": "targeted_export_controls"},
    ]
    assert first_months(events) == {("tokyo", "targeted_export_controls"): (2019, 7)}


@pytest.mark.slow
def test_baseline_reproduces_the_2019_sequence_in_most_seeds():
    runs = run_seeds(REPO / "configs" / "baseline_2019.toml", range(100), workers=WORKERS)
    table = calibrate(runs, read_timeline(DEFAULT_TIMELINE))
    assert table.whole_sequence >= 0.60
    # the deadline effect: reversals pile up in the month of expiry
    timing = [r["reversal_months_before_expiry"] for r in runs]
    reversals = [t for t in timing if t is not None]
    assert sum(t == 0 for t in reversals) > 0.8 * len(reversals)
    # and some deadlines are missed
    assert table.outcomes["terminated"] > 0
    # the README shows this very table
    assert block("calibration") == table.to_markdown().strip()


@pytest.mark.slow
def test_counterfactuals_move_outcomes_through_the_mechanism():
    seeds = range(20)

    def shares(name: str) -> dict[str, float]:
        runs = run_seeds(REPO / "configs" / f"{name}.toml", seeds, workers=WORKERS)
        return calibrate(runs, read_timeline(DEFAULT_TIMELINE)).outcomes

    base = shares("baseline_2019")
    no_pressure = shares("no_us_pressure")
    no_curbs = shares("no_trade_curbs")
    assert no_curbs["renewed"] == 1.0  # no trade measure, nothing to link to security
    assert no_pressure["terminated"] > base["terminated"] + 0.5  # pressure saves the pact
    assert base["last_minute_suspension"] > 0.5
