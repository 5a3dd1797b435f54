"""Targets as data (issue 9, item 3): the schema of configs/targets/*.toml, the shipped
evidence, and scoring runs against targets on hand-built timelines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import experiments.targets as targets_mod
from experiments.calibration import SEQUENCE
from experiments.cli import main
from experiments.fit_score import Run, distance, met, poll_deviations, score_runs, share_on
from experiments.targets import load_targets, parse_targets
from model.outcome import Event
from model.parameters import PARAMETERS, ConfigError

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_targets.toml"


# ---- the shipped evidence -------------------------------------------------------------------
def test_shipped_evidence_loads_with_every_kind():
    ts = load_targets("evidence_2019")
    kinds = {t.kind for t in ts.targets}
    assert kinds == set(targets_mod.KINDS)
    assert set(ts.scenarios) == {"baseline_2019", "quiet_2017_2018", "signing_2016"}
    polls = {t.poll_date: dict(t.shares) for t in ts.targets if t.kind == "poll"}
    assert polls == {
        date(2019, 7, 30): {"end": 47.0, "keep": 41.6, "undecided": 11.4},
        date(2019, 8, 7): {"end": 47.7, "keep": 39.3, "undecided": 13.0},
        date(2019, 8, 23): {"end": 54.9, "keep": 38.4, "undecided": 6.7},
    }
    for name, lo, hi in ts.fit.bounds:
        p = PARAMETERS[name]
        assert p.low <= lo < hi <= p.high


def test_shipped_sequence_holds_calibrate_sequence_plus_washington():
    ts = load_targets("evidence_2019")
    (seq,) = [t for t in ts.targets if t.kind == "sequence"]
    steps = {(s.actor, e, s.month) for s in seq.steps for e in s.events}
    assert {(a, e, ym) for a, events, ym in SEQUENCE for e in events} == steps
    assert ("washington", "public_support", (2019, 7)) in steps
    november = [s for s in seq.steps if s.actor == "washington" and s.month == (2019, 11)]
    assert november and set(november[0].events) == {"pressure_visit", "congress_resolution"}
    assert seq.outcome == "last_minute_suspension"


def test_event_targets_name_events_the_timeline_lists():
    from experiments.calibration import DEFAULT_TIMELINE, read_timeline

    timeline = {
        (e.actor, e.event, (e.date.year, e.date.month)) for e in read_timeline(DEFAULT_TIMELINE)
    }
    ts = load_targets("evidence_2019")
    for t in ts.targets:
        if t.kind == "event":
            s = t.steps[0]
            assert (s.actor, s.events[0], s.month) in timeline, t.name


def test_every_shipped_target_set_loads_and_is_listed(capsys):
    shipped = targets_mod.list_target_sets()
    assert {"evidence_2019", "smoke"} <= set(shipped)
    for name in shipped:
        assert load_targets(name).targets
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "target sets (gsomia fit NAME --out DIR):" in out and "evidence_2019" in out


# ---- validation: each bad key exits 2 naming it ------------------------------------------------
BASE = TINY.read_text()

BAD = [
    ('kind = "event"\nactor = "tokyo"', 'kind = "evnt"\nactor = "tokyo"', "unknown kind 'evnt'"),
    (
        'kind = "event"\nactor = "tokyo"',
        'kind = "evnt"\nactor = "tokyo"',
        "allowed: one of event, sequence, poll, absent, event_not_followed",
    ),
    (
        '"audience_cost", "opinion_sensitivity"',
        '"audience_cost", "audiense"',
        "unknown parameter 'audiense'",
    ),
    (
        '"audience_cost", "opinion_sensitivity"',
        '"audience_cost", "n_citizens"',
        "parameter not fittable 'n_citizens'",
    ),
    (
        "low = 1.0\nhigh = 8.0",
        "low = 1.0\nhigh = 12.0",
        "'fit.bounds.audience_cost.high' (outside the model's bounds); allowed: a number in [0,",
    ),
    (
        "low = 1.0\nhigh = 8.0",
        "low = 8.0\nhigh = 1.0",
        "invalid range for 'fit.bounds.audience_cost'",
    ),
    ("low = 1.0\nhigh = 8.0", "low = 1.0", "missing key 'fit.bounds.audience_cost.high'"),
    (
        'scenario = "tiny_2019.toml"\nkind = "poll"',
        'scenario = "tiny_2091"\nkind = "poll"',
        "unknown scenario 'tiny_2091'",
    ),
    ('month = "2019-07"', 'month = "2019-13"', "invalid value '2019-13' for 'month' (not a month)"),
    (
        'month = "2019-07"',
        'month = "2020-07"',
        "outside the scenario's span); allowed: a month from 2018-10 to 2019-09",
    ),
    ("date = 2019-08-07", 'date = "2019-08-07"', "for 'date'; allowed: a date written YYYY-MM-DD"),
    ("date = 2019-08-07", "date = 2021-08-07", "outside the scenario's span"),
    (
        "tolerance = 5.0",
        "tolerance = 0.0",
        "invalid value 0.0 for 'tolerance'; allowed: a number of points > 0",
    ),
    ("tolerance = 5.0", "tolerance = -1", "for 'tolerance'; allowed: a number of points > 0"),
    (
        "end = 47.7",
        "end = 147.7",
        "invalid value 147.7 for 'end'; allowed: a percentage from 0 to 100",
    ),
    ("weight = 2.0", "weight = 0", "invalid value 0 for 'weight'; allowed: a number > 0"),
    ("seeds = 1\n", "", "missing key 'fit.seeds'"),
    (
        "population = 6",
        "population = 1",
        "invalid value 1 for 'fit.population'; allowed: an integer from 2",
    ),
    ("generations = 2", "generations = 2\ngeneration = 3", "unknown key 'fit.generation'"),
    (
        "generations = 2",
        "generations = 2\nmiss_months = -1",
        "invalid value -1 for 'fit.miss_months'; allowed: an integer from 0 to 24",
    ),
    (
        "generations = 2",
        "generations = 2\nmiss_points = 120",
        "invalid value 120 for 'fit.miss_points'; allowed: a number from 0 to 100",
    ),
    (
        "generations = 2",
        'generations = 2\nmiss_points = "far"',
        "invalid value 'far' for 'fit.miss_points'; allowed: a number from 0 to 100",
    ),
    (
        "generations = 2",
        "generations = 2\nepsilon_quantile = 1.5",
        "invalid value 1.5 for 'fit.epsilon_quantile'; allowed: a number in (0, 1)",
    ),
    (
        'actor = "seoul"\nevent = "termination_notice"\nmonth = "2019-08"',
        'actor = "seoul"\nevent = "termination_notice"',
        "missing key 'month'",
    ),
    (
        'name = "curbs_2019_07"',
        'name = "notice_2019_08"',
        "invalid value 'notice_2019_08' for 'target.name' (repeated)",
    ),
    ('month = "2019-07"', 'month = "2019-07"\ntolerance = 2.0', "unknown key 'tolerance'"),
    ("[fit]", "[fitt]", "unknown table 'fitt'"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD)
def test_bad_targets_exit_2_naming_the_key(tmp_path, capsys, old, new, message):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    (tmp_path / "tiny_2019.toml").write_text((FIXTURES / "tiny_2019.toml").read_text())
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "fit"
    code = main(["fit", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written


def test_three_poll_shares_must_sum_to_100(tmp_path):
    text = BASE.replace("end = 47.7", "end = 47.7\nkeep = 39.3\nundecided = 33.0")
    (tmp_path / "tiny_2019.toml").write_text((FIXTURES / "tiny_2019.toml").read_text())
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="they sum to 120"):
        load_targets(path)


def test_missing_fit_table_and_no_targets():
    with pytest.raises(ConfigError, match=r"missing table '\[fit\]'"):
        parse_targets({"target": []})
    fit = {"parameters": ["audience_cost"], "seeds": 1, "population": 2, "generations": 1}
    with pytest.raises(ConfigError, match=r"missing table '\[\[target\]\]'"):
        parse_targets({"fit": fit})


def test_unknown_targets_file_name_lists_shipped(capsys, tmp_path):
    code = main(["fit", "evidense_2019", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "evidence_2019" in err


# ---- scoring on hand-built timelines -------------------------------------------------------------
def ev(day: str, actor: str, event: str) -> Event:
    return Event(date.fromisoformat(day), actor, event, "")


@pytest.fixture(scope="module")
def tiny():
    return load_targets(TINY)


def monthly(
    end: list[float], start: str = "2019-06-30", keep: list[float] | None = None
) -> pd.DataFrame:
    """A month-end series like GSOMIAModel.monthly(): keep = 1 - end unless given, the rest
    undecided."""
    idx = [d.date().isoformat() for d in pd.date_range(start, periods=len(end), freq="ME")]
    keep = [1 - e for e in end] if keep is None else keep
    return pd.DataFrame(
        {
            "opinion_share": end,
            "opinion_keep_share": keep,
            "opinion_undecided_share": [1 - e - k for e, k in zip(end, keep, strict=True)],
        },
        index=pd.Index(idx, name="date"),
    )


def target(ts, name):
    return next(t for t in ts.targets if t.name == name)


def test_event_met_only_in_its_month(tiny):
    t = target(tiny, "notice_2019_08")
    assert met(t, Run([ev("2019-08-24", "seoul", "termination_notice")], "pending"))
    assert not met(t, Run([ev("2019-09-01", "seoul", "termination_notice")], "pending"))
    assert not met(t, Run([ev("2019-08-24", "tokyo", "termination_notice")], "pending"))
    # first occurrence counts: an earlier notice in July misses August
    early = [
        ev("2019-07-02", "seoul", "termination_notice"),
        ev("2019-08-24", "seoul", "termination_notice"),
    ]
    assert not met(t, Run(early, "pending"))


def test_event_tolerance_and_any_occurrence(tiny):
    base = target(tiny, "notice_2019_08")
    from dataclasses import replace

    loose = replace(base, tolerance_months=1)
    assert met(loose, Run([ev("2019-09-01", "seoul", "termination_notice")], "pending"))
    assert not met(loose, Run([ev("2019-10-01", "seoul", "termination_notice")], "pending"))
    step = replace(base.steps[0], occurrence="any")
    anyt = replace(base, steps=(step,))
    early = [
        ev("2019-07-02", "seoul", "termination_notice"),
        ev("2019-08-24", "seoul", "termination_notice"),
    ]
    assert met(anyt, Run(early, "pending"))


def test_event_months_off_count_with_miss_months(tiny):
    """With miss_months, an event k months off is k/miss_months of a miss (full from
    miss_months off, or never); met still means the exact month."""
    t = target(tiny, "notice_2019_08")
    runs = {
        month: Run([ev(f"2019-{month:02d}-10", "seoul", "termination_notice")], "pending")
        for month in (8, 9, 11, 12)
    }
    assert [distance(t, runs[m], miss_months=6) for m in (8, 9, 11)] == [0.0, 1 / 6, 3 / 6]
    assert distance(t, Run([], "pending"), miss_months=6) == 1.0
    assert distance(t, runs[9]) == 1.0  # miss_months 0: any month off is a full miss
    assert distance(t, runs[12], miss_months=2) == 1.0
    seq = target(load_targets("evidence_2019"), "sequence_2019")
    assert load_targets("evidence_2019").fit.miss_months == 6
    late = [ev("2019-09-05", "tokyo", "targeted_export_controls")]  # two months late
    # ten parts (nine steps and the outcome): 2/6 for the curbs, 1 for each other part
    assert distance(seq, Run(late, "pending"), miss_months=6) == pytest.approx((2 / 6 + 9) / 10)


def test_poll_within_tolerance_and_interpolated(tiny):
    t = target(tiny, "poll_2019_08_07")  # end 47.7, tolerance 5 points, on 2019-08-07
    # July end 0.40, August end 0.71: on Aug 7 the share is 0.40 + 7/31 * 0.31 = 0.47
    run = Run([], "pending", monthly([0.3, 0.40, 0.71]))
    assert share_on(run.monthly, "opinion_share", date(2019, 8, 7)) == pytest.approx(0.47)
    assert poll_deviations(t, run)["end"] == pytest.approx(47.0 - 47.7)
    assert met(t, run)
    far = Run([], "pending", monthly([0.3, 0.55, 0.56]))  # about 55.2: 7.5 points off
    assert not met(t, far)
    assert distance(t, far) == pytest.approx((55 + 7 / 31 - 47.7 - 5) / 5)
    # its mirror image in 47.7, as far below the poll: about 40.2 on Aug 7
    below = Run([], "pending", monthly([0.3, 0.404, 0.394]))
    assert poll_deviations(t, below)["end"] == pytest.approx(-(55 + 7 / 31 - 47.7))
    assert not met(t, below)
    assert distance(t, below) == pytest.approx(distance(t, far))
    very_far = Run([], "pending", monthly([0.9, 0.9, 0.9]))
    assert distance(t, very_far) == 1.0
    assert distance(t, Run([], "pending", monthly([0.1, 0.1, 0.1]))) == 1.0


def test_poll_points_off_count_with_miss_points(tiny):
    """With miss_points, a poll off by more than its tolerance counts the excess over
    miss_points: a run 20 points off is nearer than one 30 points off (both a full miss
    without it); within the tolerance it is still met."""
    t = target(tiny, "poll_2019_08_07")  # end 47.7 on 2019-08-07, tolerance 5
    off_by = {}
    for share in (0.477, 0.677, 0.777, 0.977, 0.277, 0.177, 0.037):
        run = Run([], "pending", monthly([share, share, share]))
        off_by[round(100 * share - 47.7)] = run
    assert distance(t, off_by[0], miss_points=25) == 0.0
    assert distance(t, off_by[20], miss_points=25) == pytest.approx(15 / 25)
    assert distance(t, off_by[30], miss_points=25) == pytest.approx(25 / 25)
    assert distance(t, off_by[50], miss_points=25) == 1.0
    assert distance(t, off_by[20]) == distance(t, off_by[30]) == 1.0
    # below the poll: the same distances
    assert distance(t, off_by[-20], miss_points=25) == pytest.approx(15 / 25)
    assert distance(t, off_by[-30], miss_points=25) == pytest.approx(25 / 25)
    assert distance(t, off_by[-44], miss_points=25) == 1.0
    assert distance(t, off_by[-20]) == 1.0
    assert load_targets("evidence_2019").fit.miss_points == 25


@pytest.mark.parametrize("miss_points", [0.0, 25.0])
@pytest.mark.parametrize("points", [0.0, 3.0, 5.0, 6.5, 9.0, 12.0, 40.0])
def test_a_poll_missed_below_is_as_far_as_one_missed_above_by_as_much(tiny, points, miss_points):
    """A run ``points`` under the poll and one as many over it: the same deviation size,
    the same distance (the excess over the 5-point tolerance over the scale: the tolerance,
    or miss_points), met only within the tolerance."""
    t = target(tiny, "poll_2019_08_07")  # end 47.7 on 2019-08-07, tolerance 5
    runs = {
        sign: Run([], "pending", monthly([(47.7 + sign * points) / 100] * 3)) for sign in (-1, 1)
    }
    for sign, run in runs.items():
        assert poll_deviations(t, run)["end"] == pytest.approx(sign * points)
    scale = miss_points or 5.0
    expected = min(1.0, max(0.0, points - 5.0) / scale)
    below, above = (distance(t, runs[s], miss_points=miss_points) for s in (-1, 1))
    assert below == pytest.approx(expected, abs=1e-9)
    assert above == pytest.approx(expected, abs=1e-9)
    assert met(t, runs[-1]) == met(t, runs[1]) == (points <= 5.0)


def test_a_poll_takes_its_worst_answer_whichever_side_it_misses(tiny):
    """Two answers, one missed below and one above: the larger miss, in size, decides."""
    from dataclasses import replace

    t = replace(target(tiny, "poll_2019_08_07"), shares=(("end", 47.7), ("keep", 39.3)))
    # end 12 points under, keep 3 over: 12 points off, 7 beyond the tolerance
    low_end = Run([], "pending", monthly([0.357] * 3, keep=[0.423] * 3))
    assert poll_deviations(t, low_end) == pytest.approx({"end": -12.0, "keep": 3.0})
    assert distance(t, low_end) == 1.0 and not met(t, low_end)
    assert distance(t, low_end, miss_points=25) == pytest.approx(7 / 25)
    # the mirror image: end 3 under, keep 12 over
    high_keep = Run([], "pending", monthly([0.447] * 3, keep=[0.513] * 3))
    assert distance(t, high_keep, miss_points=25) == pytest.approx(7 / 25)
    # both within the tolerance, one on each side
    near = Run([], "pending", monthly([0.437] * 3, keep=[0.433] * 3))
    assert distance(t, near) == 0.0 and met(t, near)


@pytest.mark.parametrize("tolerance", [0, 1])
@pytest.mark.parametrize("months", [1, 2, 3, 6, 8])
def test_an_event_early_is_as_far_as_one_as_many_months_late(tiny, months, tolerance):
    """The first notice ``months`` before or after August 2019: the same distance (months
    off beyond the tolerance over miss_months = 6, a full miss from 6 on), met only within
    the tolerance."""
    from dataclasses import replace

    t = replace(target(tiny, "notice_2019_08"), tolerance_months=tolerance)

    def notice(shift: int) -> Run:
        month = 8 + shift  # 2019-08 shifted; past December into 2020
        year, month = 2019 + (month - 1) // 12, (month - 1) % 12 + 1
        return Run([ev(f"{year}-{month:02d}-15", "seoul", "termination_notice")], "pending")

    early, late = notice(-months), notice(months)
    expected = min(1.0, max(0, months - tolerance) / 6)
    assert distance(t, early, miss_months=6) == pytest.approx(expected)
    assert distance(t, late, miss_months=6) == pytest.approx(expected)
    assert met(t, early) == met(t, late) == (months <= tolerance)
    assert distance(t, early) == distance(t, late) == (0.0 if months <= tolerance else 1.0)


@pytest.mark.parametrize("months", [1, 2, 4])
def test_a_sequence_step_early_is_as_far_as_one_as_many_months_late(months):
    """The 2019 sequence with Tokyo's curbs moved ``months`` earlier or later: one step of
    ten parts off by ``months``, the same distance either way."""
    seq = target(load_targets("evidence_2019"), "sequence_2019")
    history = [
        ev("2019-07-18", "washington", "public_support"),
        ev("2019-08-02", "tokyo", "whitelist_removal"),
        ev("2019-08-23", "seoul", "termination_notice"),
        ev("2019-08-30", "washington", "pressure_visit"),
        ev("2019-09-11", "seoul", "wto_complaint"),
        ev("2019-11-21", "washington", "congress_resolution"),
        ev("2019-11-22", "seoul", "conditional_suspension"),
        ev("2019-11-22", "seoul", "wto_suspension"),
        ev("2019-11-22", "tokyo", "talks_offer"),
    ]

    def curbs_in(month: int) -> Run:
        curbs = ev(f"2019-{month:02d}-04", "tokyo", "targeted_export_controls")
        return Run([curbs, *history], "last_minute_suspension")

    assert met(seq, curbs_in(7))
    early, late = curbs_in(7 - months), curbs_in(7 + months)
    expected = min(1.0, months / 6) / 10
    assert distance(seq, early, miss_months=6) == pytest.approx(expected)
    assert distance(seq, late, miss_months=6) == pytest.approx(expected)
    assert distance(seq, early) == distance(seq, late) == pytest.approx(1 / 10)


def test_poll_with_all_three_shares_uses_each(tiny):
    from dataclasses import replace

    t = replace(
        target(tiny, "poll_2019_08_07"), shares=(("end", 47.7), ("keep", 39.3), ("undecided", 13.0))
    )
    # keep = 1 - end in this hand-built model: 53 points kept against 39.3 polled
    run = Run([], "pending", monthly([0.47, 0.47, 0.47]))
    dev = poll_deviations(t, run)
    assert dev["keep"] == pytest.approx(53 - 39.3) and dev["undecided"] == pytest.approx(-13.0)
    assert not met(t, run)


def test_poll_names_a_missing_column(tiny):
    t = target(tiny, "poll_2019_08_07")
    run = Run([], "pending", monthly([0.4, 0.4, 0.4]).drop(columns="opinion_share"))
    with pytest.raises(ConfigError, match="no column 'opinion_share'"):
        distance(t, run)


def test_sequence_absent_and_not_followed():
    ts = load_targets("evidence_2019")
    seq = target(ts, "sequence_2019")
    history = [
        ev("2019-07-04", "tokyo", "targeted_export_controls"),
        ev("2019-07-18", "washington", "public_support"),
        ev("2019-08-02", "tokyo", "whitelist_removal"),
        ev("2019-08-23", "seoul", "termination_notice"),
        ev("2019-08-30", "washington", "pressure_visit"),  # an August visit, then November
        ev("2019-09-11", "seoul", "wto_complaint"),
        ev("2019-11-21", "washington", "congress_resolution"),
        ev("2019-11-22", "seoul", "conditional_suspension"),
        ev("2019-11-22", "seoul", "wto_suspension"),
        ev("2019-11-22", "tokyo", "talks_offer"),
    ]
    assert met(seq, Run(history, "last_minute_suspension"))
    assert distance(seq, Run(history, "terminated")) == pytest.approx(1 / 10)
    no_us = [e for e in history if e.actor != "washington"]
    assert distance(seq, Run(no_us, "last_minute_suspension")) == pytest.approx(2 / 10)

    quiet = target(ts, "silent_renewals_2017_2018")
    assert met(quiet, Run([ev("2017-11-23", "both", "pact_renewed")], "renewed"))
    assert not met(quiet, Run([ev("2018-08-20", "seoul", "termination_notice")], "terminated"))

    sign = target(ts, "signing_2016")
    signed = ev("2016-11-23", "both", "pact_signed")
    assert met(sign, Run([signed], "renewed"))
    assert not met(sign, Run([signed, ev("2017-11-01", "seoul", "termination_notice")], "pending"))
    assert met(sign, Run([signed, ev("2017-12-01", "seoul", "termination_notice")], "pending"))
    assert not met(sign, Run([ev("2017-02-01", "both", "pact_signed")], "renewed"))


def test_score_runs_is_the_weighted_share_of_misses(tiny):
    notice = [ev("2019-08-24", "seoul", "termination_notice")]
    curbs = [ev("2019-07-01", "tokyo", "targeted_export_controls")]
    good = monthly([0.3, 0.40, 0.71])
    runs = {"tiny_2019.toml": [Run(curbs + notice, "pending", good), Run(curbs, "pending", good)]}
    score = score_runs(tiny, runs)
    assert score.met_shares == {"curbs_2019_07": 1.0, "notice_2019_08": 0.5, "poll_2019_08_07": 1.0}
    # weights 1, 2, 1: (0 + 2 * 0.5 + 0) / 4
    assert score.distance == pytest.approx(0.25)


# ---- scoring runs without their DataFrames ------------------------------------------------------
def test_polls_read_the_collectors_lists_as_they_read_the_dataframe():
    """Run.of keeps the DataCollector's lists; every share a poll reads from them is the
    one read from ``model.monthly()``, and a missing column is named the same way."""
    from model import GSOMIAModel

    model = GSOMIAModel.from_config("baseline_2019", rng=3, end=date(2019, 9, 30))
    model.run()
    run, frame = Run.of(model), model.monthly()
    assert not isinstance(run.monthly, pd.DataFrame)
    for column in ("opinion_share", "opinion_keep_share", "opinion_undecided_share"):
        for day in (date(2018, 10, 31), date(2019, 7, 30), date(2019, 8, 7), date(2019, 9, 30)):
            assert share_on(run.monthly, column, day) == share_on(frame, column, day)
    with pytest.raises(ConfigError, match=r"no column 'opinion_nope' .*opinion_share"):
        share_on(run.monthly, "opinion_nope", date(2019, 8, 7))
    with pytest.raises(ConfigError, match="outside the run's months"):
        share_on(run.monthly, "opinion_share", date(2019, 10, 7))


def test_simulate_runs_are_the_scenarios_runs_from_their_configs():
    """The fit's runs (each scenario's config read once, its seeds through run_many) are
    GSOMIAModel.from_config's runs: the same events, outcomes and polls."""
    from experiments.fit_score import simulate_runs
    from model import GSOMIAModel

    ts = load_targets("evidence_2019")
    params = {n: lo + 0.3 * (hi - lo) for n, lo, hi in ts.fit.bounds}
    got = simulate_runs(ts, params, [11, 12])
    for scenario, path in ts.scenarios.items():
        for run, seed in zip(got[scenario], [11, 12], strict=True):
            model = GSOMIAModel.from_config(path, rng=seed, **params)
            model.run()
            plain = Run.of(model)
            assert [e.to_dict() for e in run.events] == [e.to_dict() for e in plain.events]
            assert run.outcome == plain.outcome
            polls = any(t.kind == "poll" for t in ts.for_scenario(scenario))
            assert (run.monthly is not None) == polls
            if polls:
                assert run.monthly == model.monthly().reset_index().to_dict("list")
    assert score_runs(ts, got) == score_runs(
        ts, {s: [Run.of(m) for m in _models(ts, s, params, [11, 12])] for s in ts.scenarios}
    )


def _models(ts, scenario, params, seeds):
    from model import GSOMIAModel

    for seed in seeds:
        model = GSOMIAModel.from_config(ts.scenarios[scenario], rng=seed, **params)
        model.run()
        yield model


def test_a_scenario_config_changed_on_disk_is_read_again(tmp_path):
    import os

    from experiments.fit_score import scenario_config

    path = tmp_path / "s.toml"
    path.write_text((Path(__file__).parents[1] / "configs" / "baseline_2019.toml").read_text())
    first = scenario_config(path)
    first["end"] = None  # the caller's copy: the cache is not changed
    assert scenario_config(path)["end"] == date(2019, 12, 31)
    path.write_text(path.read_text().replace("end = 2019-12-31", "end = 2019-11-30"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later edit
    assert scenario_config(path)["end"] == date(2019, 11, 30)
