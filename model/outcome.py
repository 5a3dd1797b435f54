"""Dated events and the classification of a run's outcome."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from model.calendar import months_between

OUTCOMES = (
    "renewed",
    "early_reversal",
    "last_minute_suspension",
    "terminated",
    "pending",
    "not_signed",
)
"""Run outcomes. ``not_signed`` only arises in scenarios that start with the pact still
being negotiated and end with the signing abandoned or never reached."""


@dataclass(frozen=True)
class Event:
    """One dated event of a run; ``event`` uses the names of ``timeline_2019.csv``."""

    date: date
    actor: str
    event: str
    domain: str
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the date as YYYY-MM-DD."""
        d = asdict(self)
        d["date"] = self.date.isoformat()
        extra = d.pop("extra")
        d.update(extra)
        return d


@dataclass
class Episode:
    """The first termination notice of a run and what became of it."""

    notice_month: date | None = None
    lapse_date: date | None = None
    reversal_month: date | None = None
    reversal_action: str | None = None
    terminated: bool = False
    ever_active: bool = False
    signing_abandoned: bool = False

    def classify(self) -> tuple[str, int | None]:
        """``(outcome, reversal_months_before_expiry)``.

        terminated: the pact lapsed (or a suspended notice was revived); renewed: no
        notice was ever given; early_reversal / last_minute_suspension: the notice was
        suspended or withdrawn one month or more before, or in, the month of expiry;
        pending: the run ended with the notice still standing.
        """
        months = None
        if self.reversal_month is not None and self.lapse_date is not None:
            months = months_between(self.reversal_month, self.lapse_date)
        if self.terminated:
            return "terminated", months
        if not self.ever_active:
            return ("not_signed" if self.signing_abandoned else "pending"), None
        if self.notice_month is None and self.lapse_date is None:
            return "renewed", None
        if months is None:
            return "pending", None
        if months == 0:
            return "last_minute_suspension", 0
        return "early_reversal", months
