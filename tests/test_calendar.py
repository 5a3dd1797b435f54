"""The pact's calendar rules (model/calendar.py).

GSOMIA renews on every anniversary of its signing unless a party gives notice at least
90 days before the end of the one-year period, which ends at midnight at the *start* of
the anniversary. A notice delivered on day ``x`` (at any hour, so in the worst case at
the end of ``x``) counts for anniversary ``a`` iff ``(a - x).days - 1 >= 90``: the last
notice day is ``a - 91 days`` (2019-08-24 for 2019-11-23).

The property tests check the module against a brute-force oracle written here from the
rule alone (day-by-day search), not against the module's own arithmetic.
"""

from __future__ import annotations

import calendar as pycal
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.calendar import (
    NOTICE_DAYS,
    PactCalendar,
    add_months,
    anniversary_in,
    month_end,
    month_start,
    months_between,
    same_month,
)

SIGNING = date(2016, 11, 23)
PACT = PactCalendar(SIGNING)


# ---- an independent oracle -----------------------------------------------------------------
def oracle_anniversary(year: int, signing: date) -> date:
    """The anniversary in ``year``: the signing's month and day, Feb 29 -> Feb 28."""
    if signing.month == 2 and signing.day == 29 and not pycal.isleap(year):
        return date(year, 2, 28)
    return date(year, signing.month, signing.day)


def counts_for(notice_day: date, anniversary: date) -> bool:
    """A notice delivered at any time on ``notice_day`` is >= 90 days before midnight at
    the start of ``anniversary``."""
    return (anniversary - notice_day).days - 1 >= NOTICE_DAYS


def anniversaries_after(d: date, signing: date, n: int = 3) -> list[date]:
    """The first ``n`` anniversaries strictly after ``d``."""
    out = []
    year = d.year
    while len(out) < n:
        a = oracle_anniversary(year, signing)
        if a > d:
            out.append(a)
        year += 1
    return out


def oracle_lapse(notice_day: date, signing: date) -> date:
    """The earliest anniversary after ``notice_day`` for which the notice counts."""
    return next(a for a in anniversaries_after(notice_day, signing) if counts_for(notice_day, a))


def oracle_open(day: date, signing: date) -> bool:
    """A notice on ``day`` ends the current one-year period (the window is open)."""
    return day >= signing and oracle_lapse(day, signing) == anniversaries_after(day, signing)[0]


def oracle_notice_in_month(d: date, signing: date) -> tuple[date, date] | None:
    """Day-by-day: the open days of the month, the earliest lapse among them, and the
    last open day with that lapse."""
    days = [date(d.year, d.month, k) for k in range(1, pycal.monthrange(d.year, d.month)[1] + 1)]
    open_days = [x for x in days if oracle_open(x, signing)]
    if not open_days:
        return None
    lapse = min(oracle_lapse(x, signing) for x in open_days)
    return max(x for x in open_days if oracle_lapse(x, signing) == lapse), lapse


signings = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
offsets = st.integers(min_value=0, max_value=4 * 366)


# ---- the 2016 pact -------------------------------------------------------------------------
def test_anniversary_of_2016_signing():
    assert anniversary_in(2019, SIGNING) == date(2019, 11, 23)
    assert PACT.next_anniversary(date(2019, 1, 1)) == date(2019, 11, 23)
    assert PACT.next_anniversary(date(2019, 11, 22)) == date(2019, 11, 23)
    # strictly after: on the anniversary itself the next one is a year away
    assert PACT.next_anniversary(date(2019, 11, 23)) == date(2020, 11, 23)


def test_last_notice_day_2019_is_aug_24():
    last = PACT.last_notice_day(date(2019, 11, 23))
    assert last == date(2019, 8, 24)
    assert last == date(2019, 11, 23) - timedelta(days=NOTICE_DAYS + 1)
    assert counts_for(last, date(2019, 11, 23))
    assert not counts_for(last + timedelta(days=1), date(2019, 11, 23))


def test_notice_window_2020_opens_on_2019_anniversary():
    assert PACT.notice_window(date(2020, 11, 23)) == (date(2019, 11, 23), date(2020, 8, 24))


def test_notice_window_never_opens_before_signing():
    assert PACT.notice_window(date(2017, 11, 23))[0] == SIGNING


@pytest.mark.parametrize("day", [1, 15, 24, 31])
def test_notice_in_august_2019(day):
    assert PACT.notice_in_month(date(2019, 8, day)) == (date(2019, 8, 24), date(2019, 11, 23))


@pytest.mark.parametrize("d", [date(2019, 9, 1), date(2019, 9, 30), date(2019, 10, 15)])
def test_notice_window_closed_september_october_2019(d):
    assert PACT.notice_in_month(d) is None


def test_notice_in_november_2019_is_for_2020():
    # the window for the 2020 anniversary opens on 2019-11-23: a notice that month
    # counts on its last day and lapses a year later
    assert PACT.notice_in_month(date(2019, 11, 1)) == (date(2019, 11, 30), date(2020, 11, 23))


def test_notice_in_months_before_the_cutoff():
    assert PACT.notice_in_month(date(2019, 7, 3)) == (date(2019, 7, 31), date(2019, 11, 23))
    assert PACT.notice_in_month(date(2019, 12, 3)) == (date(2019, 12, 31), date(2020, 11, 23))
    assert PACT.notice_in_month(date(2020, 2, 3)) == (date(2020, 2, 29), date(2020, 11, 23))


def test_no_notice_before_the_pact_exists():
    assert PACT.notice_in_month(date(2016, 10, 1)) is None
    # in the month of signing, only the days from the signing on
    assert PACT.notice_in_month(date(2016, 11, 1)) == (date(2016, 11, 30), date(2017, 11, 23))


@pytest.mark.parametrize(
    ("notice", "lapse"),
    [
        (date(2019, 8, 23), date(2019, 11, 23)),
        (date(2019, 8, 24), date(2019, 11, 23)),
        (date(2019, 8, 25), date(2020, 11, 23)),
        (date(2019, 11, 22), date(2020, 11, 23)),
        (date(2019, 11, 23), date(2020, 11, 23)),
        (date(2019, 1, 1), date(2019, 11, 23)),
    ],
)
def test_lapse_date_for_notice(notice, lapse):
    assert PACT.lapse_date_for_notice(notice) == lapse


# ---- leap-year signing ---------------------------------------------------------------------
def test_leap_year_signing_falls_back_to_feb_28():
    leap = PactCalendar(date(2016, 2, 29))
    assert anniversary_in(2019, date(2016, 2, 29)) == date(2019, 2, 28)
    assert anniversary_in(2020, date(2016, 2, 29)) == date(2020, 2, 29)
    assert leap.next_anniversary(date(2019, 1, 1)) == date(2019, 2, 28)
    assert leap.next_anniversary(date(2019, 2, 28)) == date(2020, 2, 29)
    assert leap.last_notice_day(date(2019, 2, 28)) == date(2018, 11, 29)
    assert leap.lapse_date_for_notice(date(2018, 11, 29)) == date(2019, 2, 28)
    assert leap.lapse_date_for_notice(date(2018, 11, 30)) == date(2020, 2, 29)


# ---- month arithmetic ----------------------------------------------------------------------
def test_month_helpers_examples():
    assert month_end(date(2019, 2, 10)) == date(2019, 2, 28)
    assert month_end(date(2020, 2, 10)) == date(2020, 2, 29)
    assert month_start(date(2019, 8, 24)) == date(2019, 8, 1)
    assert add_months(date(2019, 1, 31), 1) == date(2019, 2, 28)
    assert add_months(date(2019, 11, 15), 2) == date(2020, 1, 15)
    assert add_months(date(2020, 1, 15), -2) == date(2019, 11, 15)
    assert months_between(date(2019, 8, 24), date(2019, 11, 23)) == 3
    assert months_between(date(2019, 11, 30), date(2019, 11, 1)) == 0
    assert months_between(date(2020, 1, 1), date(2019, 12, 31)) == -1
    assert same_month(date(2019, 11, 1), date(2019, 11, 30))
    assert not same_month(date(2019, 11, 1), date(2018, 11, 1))


@given(d=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_month_end_is_last_day(d):
    end = month_end(d)
    assert same_month(end, d)
    assert (end + timedelta(days=1)).day == 1
    assert month_start(d).day == 1
    assert same_month(month_start(d), d)


@given(
    d=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    n=st.integers(min_value=-600, max_value=600),
)
def test_add_months_round_trips_month_counts(d, n):
    moved = add_months(d, n)
    assert months_between(d, moved) == n
    assert moved.day == min(d.day, pycal.monthrange(moved.year, moved.month)[1])
    back = add_months(moved, -n)
    assert same_month(back, d)
    assert back.day <= d.day
    if d.day <= 28:
        assert back == d


@given(a=st.dates(), b=st.dates())
def test_months_between_antisymmetric(a, b):
    assert months_between(a, b) == -months_between(b, a)
    assert (months_between(a, b) == 0) == same_month(a, b)


# ---- properties of the notice rules ----------------------------------------------------------
@settings(max_examples=300)
@given(signing=signings, offset=offsets)
def test_notice_on_returned_day_satisfies_90_day_rule(signing, offset):
    pact = PactCalendar(signing)
    d = signing + timedelta(days=offset)
    got = pact.notice_in_month(d)
    if got is None:
        return
    day, lapse = got
    assert same_month(day, d)
    assert day >= signing
    assert lapse == oracle_anniversary(lapse.year, signing)  # an anniversary
    assert counts_for(day, lapse)
    # the lapse is the earliest anniversary the notice counts for
    assert lapse == oracle_lapse(day, signing)
    assert pact.lapse_date_for_notice(day) == lapse
    # the day is the last one of the month that still counts for that lapse
    assert day == month_end(d) or not counts_for(day + timedelta(days=1), lapse)


@settings(max_examples=300)
@given(signing=signings, offset=offsets)
def test_notice_in_month_matches_day_by_day_oracle(signing, offset):
    d = signing + timedelta(days=offset)
    assert PactCalendar(signing).notice_in_month(d) == oracle_notice_in_month(d, signing)


@settings(max_examples=300)
@given(signing=signings, offset=offsets)
def test_lapse_date_is_earliest_anniversary_that_counts(signing, offset):
    pact = PactCalendar(signing)
    notice = signing + timedelta(days=offset)
    lapse = pact.lapse_date_for_notice(notice)
    assert lapse > notice
    assert counts_for(notice, lapse)
    assert lapse == oracle_lapse(notice, signing)
    assert months_between(notice, lapse) <= 24


@settings(max_examples=200)
@given(signing=signings, years=st.integers(min_value=1, max_value=30))
def test_last_notice_day_is_91_days_before_every_anniversary(signing, years):
    pact = PactCalendar(signing)
    anniversary = anniversary_in(signing.year + years, signing)
    assert anniversary == oracle_anniversary(signing.year + years, signing)
    last = pact.last_notice_day(anniversary)
    assert counts_for(last, anniversary)
    assert not counts_for(last + timedelta(days=1), anniversary)
    assert pact.lapse_date_for_notice(last) == anniversary
    assert pact.lapse_date_for_notice(last + timedelta(days=1)) > anniversary


def test_months_from_and_anniversaries_between():
    """The page's month axis and the anniversaries it marks (app.py)."""
    from model.calendar import PactCalendar, anniversaries_between, months_from

    assert months_from(date(2019, 11, 22), 3) == [
        date(2019, 11, 1),
        date(2019, 12, 1),
        date(2020, 1, 1),
    ]
    assert months_from(date(2019, 11, 22), 0) == []
    cal = PactCalendar(date(2016, 11, 23))
    assert anniversaries_between(cal, date(2018, 10, 1), date(2019, 12, 31)) == [
        date(2018, 11, 23),
        date(2019, 11, 23),
    ]
    assert anniversaries_between(cal, date(2019, 11, 23), date(2019, 11, 23)) == [
        date(2019, 11, 23)
    ]
    assert anniversaries_between(cal, date(2019, 11, 24), date(2020, 11, 22)) == []
