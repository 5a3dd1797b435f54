"""The pact's calendar, computed from dates and the treaty's rules.

GSOMIA (signed 2016-11-23) renews every year on the anniversary of its signing unless one
party notifies termination at least 90 days before the end of the one-year period; a notice
keeps the pact in force until it lapses at midnight at the start of the anniversary
(DOMAIN.md, "The pact"). Those are the default rules; a scenario's ``[treaty]`` table sets
others (``notice_days``, ``renewal``; docs/another-crisis.md):

- ``renewal = "annual"`` (GSOMIA's): the pact renews at midnight at the start of each
  anniversary of its signing unless a notice was delivered at least ``notice_days`` full
  days before that instant; the notice ends the pact at that anniversary.
- ``renewal = "none"``: the pact runs until a notice, which may be given on any day from
  the signing on; a notice delivered on day ``x`` ends the pact at midnight at the start
  of day ``x + notice_days`` (it "terminates ``notice_days`` days after the notice"). No
  anniversary renews anything.

Everything here is a pure function of dates so that a scenario may start in any year,
month or pact state.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache

NOTICE_DAYS = 90
"""Minimum notice before the end of a one-year period (Art. 21 of the 2016 agreement):
GSOMIA's, the default of the ``notice_days`` treaty rule."""
RENEWALS = ("annual", "none")
"""The treaty's renewal rules (``renewal``): renews on each anniversary unless notice was
given, or never renews (a notice ends the pact ``notice_days`` after it is given)."""
RENEWAL = "annual"
"""GSOMIA's renewal rule, the default."""
MAX_NOTICE_DAYS = 730
"""The longest notice any treaty may require (two years)."""
ANNUAL_MAX_NOTICE_DAYS = 364
"""The longest notice an annual treaty can require: a notice must fit in one one-year
period (its window opens at the previous anniversary)."""


def month_start(d: date) -> date:
    """First day of the month containing ``d``."""
    return d.replace(day=1)


def month_end(d: date) -> date:
    """Last day of the month containing ``d``."""
    return d.replace(day=_cal.monthrange(d.year, d.month)[1])


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` calendar months, the day clipped to the target month's length."""
    y, m0 = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m0 + 1
    return date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


def months_between(a: date, b: date) -> int:
    """Whole calendar months from the month of ``a`` to the month of ``b`` (may be negative)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def same_month(a: date, b: date) -> bool:
    """True when both dates fall in the same calendar month."""
    return a.year == b.year and a.month == b.month


def anniversary_in(year: int, signing: date) -> date:
    """The pact's anniversary in ``year`` (Feb 29 signings fall back to Feb 28)."""
    day = min(signing.day, _cal.monthrange(year, signing.month)[1])
    return date(year, signing.month, day)


@dataclass(frozen=True)
class PactCalendar:
    """Anniversaries, notice cut-offs and lapse dates of a pact signed on ``signing_date``
    under the treaty rules ``notice_days`` and ``renewal`` (GSOMIA's by default).

    The one-year period ends at midnight at the start of the anniversary (the 2019 pact
    would have lapsed at 00:00 on Nov 23; Seoul suspended the expiry about six hours
    before). A notice must be delivered at least ``notice_days`` before that instant, so
    the last day a notice counts for an anniversary is ``anniversary - (notice_days + 1)``
    days (2019-08-24 for 2019-11-23, "by about Aug 24"). Without renewal a notice counts on
    any day from the signing on and ends the pact ``notice_days`` after its day.
    """

    signing_date: date
    notice_days: int = NOTICE_DAYS
    renewal: str = RENEWAL

    def __post_init__(self) -> None:
        if self.renewal not in RENEWALS:
            raise ValueError(f"renewal {self.renewal!r}; allowed: one of {', '.join(RENEWALS)}")
        top = ANNUAL_MAX_NOTICE_DAYS if self.renewal == "annual" else MAX_NOTICE_DAYS
        if not 1 <= self.notice_days <= top:
            raise ValueError(f"notice_days {self.notice_days!r} with renewal {self.renewal!r}")

    @property
    def renews(self) -> bool:
        """True when the pact renews on its anniversaries (``renewal = "annual"``)."""
        return self.renewal == "annual"

    def signed(self, day: date) -> PactCalendar:
        """The same treaty's calendar for a signing on ``day``."""
        return replace(self, signing_date=day)

    @lru_cache(maxsize=4096)  # noqa: B019 - frozen and small; asked for every month
    def next_anniversary(self, d: date) -> date:
        """The first anniversary strictly after ``d`` (the next renewal or lapse instant)."""
        a = anniversary_in(d.year, self.signing_date)
        if a <= d:
            a = anniversary_in(d.year + 1, self.signing_date)
        return a

    def last_notice_day(self, anniversary: date) -> date:
        """Last day on which a termination notice still counts for ``anniversary``."""
        return anniversary - timedelta(days=self.notice_days + 1)

    def notice_window(self, anniversary: date) -> tuple[date, date]:
        """Days on which a notice takes effect at ``anniversary``: from the day of the
        previous anniversary (or signing) to the last notice day, inclusive."""
        prev = anniversary_in(anniversary.year - 1, self.signing_date)
        opens = max(prev, self.signing_date)
        return opens, self.last_notice_day(anniversary)

    @lru_cache(maxsize=4096)  # noqa: B019 - frozen and small; asked once per month of every lookahead
    def notice_in_month(self, d: date) -> tuple[date, date] | None:
        """The notice a party can deliver in the month of ``d``: ``(day, lapse)``, where
        ``day`` is the last day of the month on which a notice counts and ``lapse`` the
        anniversary at which it would end the pact; ``None`` when the window is closed
        for the whole month (between a cut-off and its anniversary). Without renewal the
        window is open every month from the signing's on, and ``lapse`` is ``day +
        notice_days``."""
        first, last_of_month = max(month_start(d), self.signing_date), month_end(d)
        if not self.renews:
            if first > last_of_month:
                return None
            return last_of_month, self.lapse_date_for_notice(last_of_month)
        anniversary = self.next_anniversary(first - timedelta(days=1))
        # A month holds days of at most two notice windows (the one closing at this
        # anniversary and, after it, the one for the next): prefer the earlier lapse.
        for _ in range(2):
            opens, closes = self.notice_window(anniversary)
            lo, hi = max(first, opens), min(last_of_month, closes)
            if lo <= hi:
                return hi, anniversary
            anniversary = anniversary_in(anniversary.year + 1, self.signing_date)
        return None

    def lapse_date_for_notice(self, notice_day: date) -> date:
        """The anniversary at which a notice delivered on ``notice_day`` ends the pact
        (without renewal: ``notice_day + notice_days``)."""
        if not self.renews:
            return notice_day + timedelta(days=self.notice_days)
        anniversary = self.next_anniversary(notice_day)
        while notice_day > self.last_notice_day(anniversary):
            anniversary = anniversary_in(anniversary.year + 1, self.signing_date)
        return anniversary

    def next_deadline(self, month: date) -> date:
        """The next instant the pact's fate is decided from the month of ``month`` on when no
        notice stands: the next renewal (the first anniversary on or after the month's first
        day) or, without renewal, the lapse of a notice given in the month (its last day +
        ``notice_days``)."""
        first = month_start(month)
        if self.renews:
            return self.next_anniversary(first - timedelta(days=1))
        return self.lapse_date_for_notice(month_end(first))


def months_from(start: date, n: int) -> list[date]:
    """The first days of the ``n`` calendar months from the month of ``start`` on."""
    first = month_start(start)
    return [add_months(first, k) for k in range(max(0, n))]


def anniversaries_between(calendar: PactCalendar, start: date, end: date) -> list[date]:
    """The pact's anniversaries (renewal or lapse instants) from ``start`` to ``end``,
    inclusive, in order; ``start`` itself counts when it is an anniversary. None for a
    treaty without renewal (its anniversaries decide nothing)."""
    out: list[date] = []
    if not calendar.renews:
        return out
    anniversary = calendar.next_anniversary(start - timedelta(days=1))
    while anniversary <= end:
        out.append(anniversary)
        anniversary = calendar.next_anniversary(anniversary)
    return out


@dataclass(frozen=True)
class MonthCalendar:
    """What the pact's calendar allows in one month: whether a notice can be given for
    the coming anniversary, whether the month holds the deadline (a lapse, a renewal or
    the end of the lookahead), and whether a scheduled signing falls in it."""

    notice_open: bool
    expiry: bool
    signing: bool
