"""The 2019 baseline reproduces the observed sequence, and the docs say what it does."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import pytest
from scipy.stats import binomtest

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
from model.parameters import PARAMETERS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import docs_tables  # noqa: E402  (the generated blocks of the docs pages)

EXPECTED = REPO / "tests" / "data" / "calibration_expected.toml"
WORKERS = min(2, os.cpu_count() or 1)


block = docs_tables.read_block


def test_docs_parameter_table_is_the_registry():
    assert block("parameters") == parameter_table().strip()


@pytest.mark.recorded
def test_docs_fit_block_is_the_committed_fit_report():
    """The calibration page's fit results are the committed fit's report
    (scripts/docs_tables.py fit); every parameter the fit estimated either has the fit's
    posterior mean (to 3 significant figures) as its default and says so, or keeps its
    hand-set default and gives the fit's interval (a fit that did not converge); no
    default claims a calibration no fit produced."""
    assert block("fit") == docs_tables.fit_block().strip()
    fitted = tomllib.loads((docs_tables.FIT / "fitted.toml").read_text())["parameters"]
    for name, point in fitted.items():
        source = PARAMETERS[name].source
        if source.startswith("Fitted: posterior mean"):
            assert PARAMETERS[name].default == float(f"{point:.3g}"), name
        else:
            assert "results/fit/report.md), not converged: 90% interval" in source, name
    assert not [n for n, p in PARAMETERS.items() if p.source.startswith("Calibrated")]


def test_default_timeline_is_the_repositorys_own_copy():
    """Calibration reads configs/timeline_2019.csv, shipped with the repository, and the
    2019 sequence it scores is in that file, each event in its month."""
    assert DEFAULT_TIMELINE == REPO / "configs" / "timeline_2019.csv"
    events = read_timeline(DEFAULT_TIMELINE)
    assert [e.date for e in events] == sorted(e.date for e in events)
    months = {(e.actor, e.event): (e.date.year, e.date.month) for e in events}
    for actor, events, ym in SEQUENCE:
        assert any(months[(actor, event)] == ym for event in events)
    assert months[("both", "pact_signed")] == (2016, 11)


def test_reproduces_2019_scoring_rules():
    firsts = {(a, events[0]): ym for a, events, ym in SEQUENCE}
    assert reproduces_2019(firsts, "last_minute_suspension")
    # either November escalation meets its step; an escalation only before November not
    visit = {k: v for k, v in firsts.items() if k != ("washington", "pressure_visit")}
    resolution = visit | {("washington", "congress_resolution"): (2019, 11)}
    assert reproduces_2019(resolution, "last_minute_suspension")
    early = firsts | {("washington", "pressure_visit"): (2019, 8)}
    assert not reproduces_2019(early, "last_minute_suspension")
    assert not reproduces_2019(firsts, "terminated")
    late = dict(firsts)
    late[("seoul", "wto_complaint")] = (2019, 10)
    assert not reproduces_2019(late, "last_minute_suspension")
    missing = {k: v for k, v in firsts.items() if k != ("tokyo", "talks_offer")}
    assert not reproduces_2019(missing, "last_minute_suspension")
    # leaving Washington out: its steps no longer count, every other step still does
    silent = {k: v for k, v in firsts.items() if k[0] != "washington"}
    assert not reproduces_2019(silent, "last_minute_suspension")
    assert reproduces_2019(silent, "last_minute_suspension", frozenset({"washington"}))
    assert reproduces_2019(early, "last_minute_suspension", frozenset({"washington"}))
    assert not reproduces_2019(late, "last_minute_suspension", frozenset({"washington"}))
    assert not reproduces_2019(silent, "terminated", frozenset({"washington"}))


def test_first_months_keeps_the_first_occurrence():
    events = [
        {"date": "2019-07-01", "actor": "tokyo", "event": "targeted_export_controls"},
        {"date": "2019-09-01", "actor": "tokyo", "event": "targeted_export_controls"},
    ]
    assert first_months(events) == {("tokyo", "targeted_export_controls"): (2019, 7)}


@pytest.fixture(scope="module")
def baseline_runs() -> list[dict]:
    """Seeds 0-99 of the baseline, as ``gsomia calibrate --seeds 100`` runs them."""
    return run_seeds(REPO / "configs" / "baseline_2019.toml", range(100), workers=WORKERS)


def within_binomial_error(k: int, n: int, expected: float) -> bool:
    """Whether ``expected`` lies in the 99% Wilson interval of k successes in n runs."""
    ci = binomtest(k, n).proportion_ci(confidence_level=0.99, method="wilson")
    return ci.low - 1e-12 <= expected <= ci.high + 1e-12


@pytest.mark.recorded
@pytest.mark.slow
def test_baseline_shares_are_within_their_binomial_error_of_the_committed_values(
    baseline_runs,
):
    """The whole-sequence share (with and without Washington's steps) and each outcome's
    share over 100 seeds agree, within a 99% binomial interval, with the shares measured
    over many more seeds and committed in tests/data/calibration_expected.toml (its header
    gives the command)."""
    expected = tomllib.loads(EXPECTED.read_text())
    assert expected["config"] == "configs/baseline_2019.toml"
    big = expected["seeds"]
    assert sum(expected["outcomes"].values()) == big
    n = len(baseline_runs)
    table = calibrate(baseline_runs, read_timeline(DEFAULT_TIMELINE))
    for key, share in (
        ("whole_sequence", table.whole_sequence),
        ("without_washington", table.without_washington),
    ):
        k = round(share * n)
        assert within_binomial_error(k, n, expected[key] / big), (key, k, expected[key] / big)
    for outcome, count in expected["outcomes"].items():
        k = sum(r["outcome"] == outcome for r in baseline_runs)
        assert within_binomial_error(k, n, count / big), (outcome, k, count / big)


@pytest.mark.recorded
@pytest.mark.slow
def test_docs_calibration_table_is_regenerated_by_its_command(baseline_runs):
    """The calibration page's table is the output of ``gsomia calibrate --seeds 100`` (a check that
    the table was regenerated, not a test of behaviour: see the test above)."""
    table = calibrate(baseline_runs, read_timeline(DEFAULT_TIMELINE))
    assert block("calibration") == table.to_markdown().strip()


@pytest.mark.slow
def test_counterfactuals_move_outcomes_through_the_mechanism():
    """Issue linkage: without a trade measure there is nothing to answer in the security
    domain, so the pact renews in every run; US pressure deters notices, so without its
    bite more runs end with a notice standing or lapsed (same seeds, so the comparison is
    run against run)."""
    seeds = range(20)

    def shares(name: str) -> dict[str, float]:
        runs = run_seeds(REPO / "configs" / f"{name}.toml", seeds, workers=WORKERS)
        return calibrate(runs, read_timeline(DEFAULT_TIMELINE)).outcomes

    base = shares("baseline_2019")
    no_pressure = shares("no_us_pressure")
    no_curbs = shares("no_trade_curbs")
    assert no_curbs["renewed"] == 1.0

    def standing(o: dict[str, float]) -> float:
        return o["pending"] + o["terminated"]

    assert standing(no_pressure) > standing(base)
