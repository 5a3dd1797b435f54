"""The treaty's rules as data (``[treaty]``: ``notice_days``, ``renewal``).

Every expected date below is worked out by hand from the rules (docs/another-crisis.md,
model/calendar.py), never copied from a run:

- annual: a notice delivered on day ``x`` counts for anniversary ``a`` iff
  ``(a - x).days - 1 >= notice_days`` (the last notice day is ``a - (notice_days + 1)``);
  it ends the pact at midnight at the start of ``a``; otherwise the pact renews at ``a``.
- none: a notice on day ``x`` ends the pact at midnight at the start of
  ``x + notice_days``; nothing renews.
"""

from __future__ import annotations

from datetime import date, timedelta

import mesa
import pytest

from experiments.cli import main
from model import ConfigError, GSOMIAModel, load_config
from model.calendar import PactCalendar, anniversaries_between

SIGNING = date(2016, 11, 23)
ANNIV_2019 = date(2019, 11, 23)
ANNIV_2020 = date(2020, 11, 23)


# ---- the calendar, by hand ------------------------------------------------------------------
def test_annual_180_day_notice_window_and_renewal_instant():
    cal = PactCalendar(SIGNING, notice_days=180, renewal="annual")
    # 2019-11-23 less 181 days: 23 (to Oct 31) + 31 + 30 + 31 + 31 + 30 (to May 31) = 176,
    # five more: May 26.
    assert cal.last_notice_day(ANNIV_2019) == date(2019, 5, 26)
    assert cal.notice_window(ANNIV_2019) == (date(2018, 11, 23), date(2019, 5, 26))
    assert cal.notice_in_month(date(2019, 5, 1)) == (date(2019, 5, 26), ANNIV_2019)
    for month in (6, 7, 8, 9, 10):  # closed from May 27 to the anniversary
        assert cal.notice_in_month(date(2019, month, 1)) is None
    # after the anniversary, the window for 2020 is open (Nov 23-30)
    assert cal.notice_in_month(date(2019, 11, 1)) == (date(2019, 11, 30), ANNIV_2020)
    assert cal.lapse_date_for_notice(date(2019, 5, 26)) == ANNIV_2019
    assert cal.lapse_date_for_notice(date(2019, 5, 27)) == ANNIV_2020
    # the renewal instant: the first anniversary on or after the month's first day
    assert cal.next_deadline(date(2019, 6, 1)) == ANNIV_2019
    assert cal.next_deadline(date(2019, 11, 1)) == ANNIV_2019
    assert cal.next_deadline(date(2019, 12, 1)) == ANNIV_2020
    assert anniversaries_between(cal, date(2018, 10, 1), date(2019, 12, 31)) == [
        date(2018, 11, 23),
        ANNIV_2019,
    ]


def test_annual_30_day_notice_window_and_renewal_instant():
    cal = PactCalendar(SIGNING, notice_days=30, renewal="annual")
    # 2019-11-23 less 31 days: Oct 23
    assert cal.last_notice_day(ANNIV_2019) == date(2019, 10, 23)
    assert cal.notice_window(ANNIV_2019) == (date(2018, 11, 23), date(2019, 10, 23))
    assert cal.notice_in_month(date(2019, 9, 1)) == (date(2019, 9, 30), ANNIV_2019)
    assert cal.notice_in_month(date(2019, 10, 1)) == (date(2019, 10, 23), ANNIV_2019)
    # Nov 1-22 closed; Nov 23-30 counts for 2020
    assert cal.notice_in_month(date(2019, 11, 1)) == (date(2019, 11, 30), ANNIV_2020)
    assert cal.lapse_date_for_notice(date(2019, 10, 23)) == ANNIV_2019
    assert cal.lapse_date_for_notice(date(2019, 10, 24)) == ANNIV_2020
    assert cal.next_deadline(date(2019, 10, 1)) == ANNIV_2019


@pytest.mark.parametrize("notice_days", [30, 180, 364])
def test_annual_lapse_matches_the_rule_day_by_day(notice_days):
    """Every day of 2019 against the rule itself: the earliest anniversary after the
    notice's day with at least ``notice_days`` whole days before its start."""
    cal = PactCalendar(SIGNING, notice_days=notice_days, renewal="annual")
    anniversaries = [date(y, 11, 23) for y in range(2019, 2023)]
    day = date(2019, 1, 1)
    while day.year == 2019:
        want = next(a for a in anniversaries if a > day and (a - day).days - 1 >= notice_days)
        assert cal.lapse_date_for_notice(day) == want, day
        day += timedelta(days=1)


def test_no_renewal_180_day_notice():
    cal = PactCalendar(SIGNING, notice_days=180, renewal="none")
    # 2019-08-23 + 180 days: 8 (to Aug 31) + 30 + 31 + 30 + 31 + 31 (to Jan 31) = 161,
    # 19 more: 2020-02-19.
    assert cal.lapse_date_for_notice(date(2019, 8, 23)) == date(2020, 2, 19)
    # open every month from the signing's on; the notice is dated the month's last day:
    # 2019-08-31 + 180: 30 + 31 + 30 + 31 + 31 (to Jan 31) = 153, 27 more: 2020-02-27.
    assert cal.notice_in_month(date(2019, 8, 1)) == (date(2019, 8, 31), date(2020, 2, 27))
    assert cal.notice_in_month(date(2016, 11, 1)) == (date(2016, 11, 30), date(2017, 5, 29))
    assert cal.notice_in_month(date(2016, 10, 1)) is None  # before the signing
    # no renewal instant: the deadline is the lapse of a notice given in the month
    assert cal.next_deadline(date(2019, 8, 1)) == date(2020, 2, 27)
    assert anniversaries_between(cal, date(2018, 10, 1), date(2019, 12, 31)) == []


@pytest.mark.parametrize(
    ("notice_days", "renewal"), [(0, "annual"), (365, "annual"), (731, "none"), (90, "biennial")]
)
def test_calendar_refuses_rules_outside_the_allowed_set(notice_days, renewal):
    with pytest.raises(ValueError):
        PactCalendar(SIGNING, notice_days=notice_days, renewal=renewal)


# ---- the model: keywords, the lookahead's deadline, runs ------------------------------------
def test_constructor_keywords_set_the_calendar():
    m = GSOMIAModel(rng=0, notice_days=180, renewal="none")
    assert (m.calendar.notice_days, m.calendar.renewal) == (180, "none")
    assert (m.parameters["notice_days"], m.parameters["renewal"]) == (180, "none")
    default = GSOMIAModel(rng=0)
    assert (default.calendar.notice_days, default.calendar.renewal) == (90, "annual")


def test_lookahead_deadline_follows_an_annual_treaty():
    m = GSOMIAModel(rng=0, start=date(2019, 6, 1), notice_days=30, renewal="annual")
    assert m.deadline(date(2019, 6, 1)) == ANNIV_2019
    assert m.deadline(date(2019, 12, 1)) == ANNIV_2020
    assert m.month_calendar(date(2019, 10, 1)).notice_open  # Oct 1-23 still count
    assert m.month_calendar(date(2019, 11, 1)).expiry
    long = GSOMIAModel(rng=0, start=date(2019, 6, 1), notice_days=180, renewal="annual")
    assert not long.month_calendar(date(2019, 6, 1)).notice_open  # closed after May 26


def test_lookahead_deadline_follows_a_treaty_without_renewal():
    m = GSOMIAModel(rng=0, start=date(2019, 8, 1), notice_days=180, renewal="none")
    deadline = date(2020, 2, 27)  # a notice on Aug 31 + 180 days (above)
    assert m.deadline(date(2019, 8, 1)) == deadline
    assert m.month_calendar(date(2019, 8, 1)).notice_open
    assert m.month_calendar(date(2019, 11, 1)).notice_open  # no closed season
    assert not m.month_calendar(date(2019, 11, 1), deadline).expiry  # Nov 23 decides nothing
    assert m.month_calendar(date(2020, 2, 1), deadline).expiry
    # with a notice standing, its lapse: 2019-08-23 + 60 = 8 + 30 (Sep 30) + 22 = Oct 22
    pending = GSOMIAModel(
        rng=0,
        start=date(2019, 9, 1),
        pact_state="notice_pending",
        notice_date=date(2019, 8, 23),
        notice_days=60,
        renewal="none",
    )
    assert pending.lapse_date == date(2019, 10, 22)
    assert pending.deadline(date(2019, 9, 1)) == date(2019, 10, 22)


HARD_LINE = {
    # Tokyo's curbs in full, the pact worth nothing to Seoul, backing down dear and
    # defying Washington free: a standing notice is very likely to stand
    "initial_curb_level": 2,
    "security_value": 0.0,
    "audience_cost": 10.0,
    "us_pressure_weight": 0.0,
}


def test_a_standing_notice_ends_a_pact_without_renewal_at_the_hand_date():
    lapse = date(2019, 10, 22)  # 2019-08-23 + 60 days (above)
    terminated = 0
    for seed in range(4):
        m = GSOMIAModel(
            rng=seed,
            start=date(2019, 9, 1),
            end=date(2020, 1, 31),
            pact_state="notice_pending",
            notice_date=date(2019, 8, 23),
            notice_days=60,
            renewal="none",
            **HARD_LINE,
        )
        m.run()
        events = {e.event: e.date for e in m.timeline}
        assert "pact_renewed" not in events
        reversed_ = {"conditional_suspension", "rescind_notice"} & set(events)
        if "pact_terminated" in events and not reversed_:
            assert events["pact_terminated"] == lapse
            assert m.monthly().loc["2019-10-31", "pact_state"] == "terminated"
            assert m.monthly().loc["2019-09-30", "pact_state"] == "notice_pending"
            terminated += 1
    assert terminated  # the hard line makes at least one notice stand


def test_notices_in_a_run_without_renewal_lapse_notice_days_later():
    """The 2019 baseline (its Nov 2018 and Nov 2019 anniversaries) under a 30-day treaty
    without renewal: no renewal ever; a notice on day x that is not reversed ends the pact
    on x + 30."""
    lapsed = 0
    for seed in range(3):
        m = GSOMIAModel.from_config("baseline_2019", rng=seed, notice_days=30, renewal="none")
        m.run()
        names = [e.event for e in m.timeline]
        assert "pact_renewed" not in names
        notices = [e for e in m.timeline if e.event == "termination_notice"]
        for e in m.timeline:
            if e.event == "pact_terminated" and e.actor == "both":
                assert e.date == notices[-1].date + timedelta(days=30)
                lapsed += 1
    assert lapsed  # the check above was made
    # the same scenario under GSOMIA's rules renews on 2018-11-23: no notice could count for
    # it after 2018-08-24, before the scenario starts (2018-10-01)
    annual = GSOMIAModel.from_config("baseline_2019", rng=0)
    annual.run()
    assert any(e.event == "pact_renewed" and e.date == date(2018, 11, 23) for e in annual.timeline)


def test_batch_run_varies_the_treaty():
    results = mesa.batch_run(
        GSOMIAModel,
        parameters={
            "end": [date(2018, 11, 30)],
            "n_citizens": [100],
            "lookahead_months": [2],
            "notice_days": [30, 180],
            "renewal": ["none"],
        },
        rng=[0],
        number_processes=1,
        display_progress=False,
    )
    assert sorted({r["notice_days"] for r in results}) == [30, 180]
    assert {r["renewal"] for r in results} == {"none"}


# ---- bad input --------------------------------------------------------------------------------
SHORT = "[scenario]\nstart = 2019-06-01\nend = 2019-08-31\n"
BAD_TREATY = {
    "unknown_key": (
        "[treaty]\nnotice_day = 90\n",
        ["treaty.notice_day", "did you mean 'notice_days'", "notice_days, renewal"],
    ),
    "string_for_int": ('[treaty]\nnotice_days = "90"\n', ["notice_days", "'90'", "an integer"]),
    "fraction_for_int": ("[treaty]\nnotice_days = 90.5\n", ["notice_days", "an integer"]),
    "zero_days": ("[treaty]\nnotice_days = 0\n", ["notice_days", "[1, 730]"]),
    "bad_renewal": (
        '[treaty]\nrenewal = "biennial"\n',
        ["renewal", "'biennial'", "one of 'annual', 'none'"],
    ),
    "renewal_not_a_string": ("[treaty]\nrenewal = 1\n", ["renewal", "'annual', 'none'"]),
    "annual_too_long": (
        '[treaty]\nnotice_days = 400\nrenewal = "annual"\n',
        ["notice_days", "400", "'annual'", "[1, 364]"],
    ),
    "treaty_not_a_table": ("treaty = 90\n" + SHORT, ["treaty", "a table"]),
    "treaty_key_in_scenario": ("[scenario]\nnotice_days = 90\n", ["notice_days", "[treaty]"]),
}


@pytest.mark.parametrize("case", BAD_TREATY, ids=str)
def test_bad_treaty_is_a_config_error_naming_the_key(case, tmp_path):
    text, fragments = BAD_TREATY[case]
    path = tmp_path / "bad.toml"
    path.write_text(SHORT + text if not text.startswith(("treaty =", "[scenario]")) else text)
    with pytest.raises(ConfigError) as info:
        GSOMIAModel.from_config(path)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@pytest.mark.parametrize("case", ["unknown_key", "bad_renewal", "annual_too_long"])
def test_run_with_a_bad_treaty_exits_2_with_one_line(case, tmp_path, capsys):
    text, fragments = BAD_TREATY[case]
    path = tmp_path / "bad.toml"
    path.write_text(SHORT + text)
    out = tmp_path / "out"
    assert main(["run", "--config", str(path), "--out", str(out)]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert all(f in err for f in fragments), err
    assert not out.exists()


def test_constructor_bad_treaty_keywords():
    with pytest.raises(ConfigError, match=r"'renewal'.*'annual', 'none'"):
        GSOMIAModel(rng=0, renewal="yearly")
    with pytest.raises(ConfigError, match="'notice_days'"):
        GSOMIAModel(rng=0, notice_days=365)


def test_a_good_treaty_table_loads():
    values = load_config("baseline_2019")
    assert (values["notice_days"], values["renewal"]) == (90, "annual")
