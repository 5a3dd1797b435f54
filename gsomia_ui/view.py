"""An immutable snapshot of a run (``RunView``), taken after each model operation, and
the pact's calendar as the page says it: the deadline, the countdown, the outcome so far.
The page draws only snapshots, so a render never reads a model that a background task is
stepping; the snapshot reads the model only through its public API (``monthly()``,
``timeline``, ``explain()``, ``outcome``, ``parameters``, ``grid``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from model import GSOMIAModel
from model.calendar import (
    PactCalendar,
    add_months,
    anniversaries_between,
    month_end,
    months_between,
    months_from,
    same_month,
)
from model.parameters import treaty_calendar

ACTORS = ("seoul", "tokyo", "washington", "beijing")
OUTCOME_TEXT = {
    "renewed": "renewed: no termination notice was given; the pact renewed automatically",
    "early_reversal": "early reversal: the notice was suspended or withdrawn before the "
    "month of expiry",
    "last_minute_suspension": "last-minute suspension: the notice was held in abeyance in "
    "the month of expiry",
    "terminated": "terminated: the pact lapsed",
    "pending": "pending: the notice still stands at the end of the run",
    "not_signed": "not signed: the signing was abandoned or never reached",
}
KEY_EVENTS = {
    "termination_decision",
    "termination_notice",
    "conditional_suspension",
    "rescind_notice",
    "notice_revived",
    "pact_terminated",
    "pact_signed",
}
"""Events the timeline highlights: the pact's own fate."""
PACT_STATES = ("negotiating", "active", "notice_pending", "suspended", "terminated")
CURB_LABELS = ("none", "targeted", "targeted + white list")


# ---- a snapshot of the run: everything the page draws ------------------------------------------
@dataclass(frozen=True)
class RunView:
    """An immutable snapshot of a run, taken after each model operation. The page draws
    only from it, so a render never reads a model that a background task is stepping."""

    scenario: str
    seed: int
    messages: tuple[str, ...]
    parameters: Mapping[str, Any]
    changed: Mapping[str, Any]
    run_params: Mapping[str, Any]
    start: date
    end: date
    months_done: int
    total_months: int
    monthly: pd.DataFrame
    timeline: tuple[Any, ...]
    decisions: tuple[Any, ...]
    outcome: str
    reversal_months: int | None
    network: tuple[tuple, tuple]
    token: int = 0

    @property
    def running(self) -> bool:
        """True while months remain to simulate."""
        return self.months_done < self.total_months

    @property
    def months(self) -> list[date]:
        """First days of the months simulated so far."""
        return months_from(self.start, self.months_done)

    @property
    def next_month(self) -> date:
        """First day of the next month to simulate (or after the end)."""
        return add_months(self.start, self.months_done)

    @property
    def pact_state(self) -> str:
        """The pact's state now (after the last simulated month)."""
        return str(self.monthly["pact_state"].iloc[-1])


_TOKENS = iter(range(1, 2**62))


def run_params(model: GSOMIAModel) -> dict[str, Any]:
    """Constructor keywords that rerun ``model``'s settings with any seed: a
    ScenarioModel's config and changes, or any model's parameters and shocks."""
    own = getattr(model, "run_params", None)
    if own is not None:
        return dict(own)
    return dict(model.parameters) | {"exogenous": model.exogenous}


def make_view(model: GSOMIAModel) -> RunView:
    """Snapshot ``model`` (a GSOMIAModel or ScenarioModel) through its public API."""
    df = model.monthly().reset_index()
    graph = model.grid.G
    pos = {cell.coordinate: tuple(map(float, cell.position)) for cell in model.grid.all_cells}
    last_moves = {}
    for actor in ACTORS:
        mine = model.explain(actor)
        last_moves[actor] = mine[-1].chosen if mine else ""
    nodes = tuple(
        (
            str(data.get("name", node)),
            pos[node],
            float(data.get("stance", 0.0)),
            last_moves.get(str(data.get("name")), ""),
        )
        for node, data in sorted(graph.nodes(data=True))
    )
    edges = tuple(
        (
            pos[u],
            pos[v],
            tuple(
                sorted((k, val) for k, val in data.items() if isinstance(val, int | float | str))
            ),
        )
        for u, v, data in graph.edges(data=True)
    )
    return RunView(
        scenario=getattr(model, "scenario_name", model.parameters.get("name", "")),
        seed=int(model.seed),
        messages=tuple(getattr(model, "messages", ())),
        parameters=dict(model.parameters),
        changed=dict(getattr(model, "changed_values", {})),
        run_params=run_params(model),
        start=model.start,
        end=model.end,
        months_done=len(df) - 1,
        total_months=months_between(model.start, model.end) + 1,
        monthly=df,
        timeline=tuple(model.timeline),
        decisions=tuple(model.explain()),
        outcome=model.outcome,
        reversal_months=model.reversal_months_before_expiry,
        network=(nodes, edges),
        token=next(_TOKENS),
    )


# ---- the pact's calendar as the page shows it --------------------------------------------------
def _calendar(view: RunView) -> PactCalendar:
    """The pact's calendar: from the signing date, or the date it was signed in the run."""
    signed = [e.date for e in view.timeline if e.event == "pact_signed"]
    return treaty_calendar(view.parameters, signed[-1] if signed else None)


def first_notice(view: RunView) -> date | None:
    """Day of the run's first termination notice (given in the run, or standing at start)."""
    for e in view.timeline:
        if e.event == "termination_notice":
            return e.date
    if view.parameters["pact_state"] in ("notice_pending", "suspended"):
        return view.parameters["notice_date"]
    return None


def decisive_deadline(view: RunView) -> date | None:
    """The date the run's outcome is decided: the lapse date of the first termination
    notice, else the last anniversary inside the run (its automatic renewal)."""
    cal = _calendar(view)
    notice = first_notice(view)
    if notice is not None:
        return cal.lapse_date_for_notice(notice)
    if view.parameters["pact_state"] == "negotiating" and not any(
        e.event == "pact_signed" for e in view.timeline
    ):
        return None
    found = anniversaries_between(cal, view.start, month_end(view.end))
    return found[-1] if found else None


def deadline_passed(view: RunView) -> bool:
    """True once the month of the decisive deadline has been simulated (or the pact
    terminated, or the run ended)."""
    if not view.running or view.pact_state == "terminated":
        return True
    deadline = decisive_deadline(view)
    return deadline is not None and view.next_month > deadline


def _days(n: int) -> str:
    if n > 0:
        return f"in {n} day{'s' if n != 1 else ''}"
    if n == 0:
        return "today"
    return f"{-n} day{'s' if n != -1 else ''} ago"


def countdown(view: RunView) -> list[tuple[str, str]]:
    """``(label, text)`` lines: the notice cut-off and the expiry, counted from the first
    day of the next month to simulate."""
    today = view.next_month
    cal = _calendar(view)
    state = view.pact_state
    lines: list[tuple[str, str]] = [("As of", f"{today:%d %b %Y} (start of the next month)")]
    if state == "negotiating":
        signing = view.parameters["signing_date"]
        postponed = [e for e in view.timeline if e.event == "signing_postponed"]
        if postponed:
            months = int(view.parameters["postpone_months"])
            signing = add_months(postponed[-1].date, months)
        lines.append(("Signing", f"{signing.isoformat()} ({_days((signing - today).days)})"))
        return lines
    if state == "terminated":
        lapsed = [e.date for e in view.timeline if e.event == "pact_terminated"]
        when = f" on {lapsed[-1].isoformat()}" if lapsed else ""
        lines.append(("Pact", f"terminated{when}"))
        return lines
    notice = [e.date for e in view.timeline if e.event == "termination_notice"]
    if state == "notice_pending":
        given = notice[-1] if notice else view.parameters["notice_date"]
        lapse = cal.lapse_date_for_notice(given)
        lines.append(("Notice cut-off", f"passed: notice given {given.isoformat()}"))
        lines.append(
            (
                "Expiry",
                f"pact lapses at midnight, {lapse.isoformat()} ({_days((lapse - today).days)})",
            )
        )
        return lines
    if not cal.renews:  # no renewal: a notice any day ends the pact notice_days later
        lapse = cal.lapse_date_for_notice(today)
        lines.append(("Notice", f"open; a notice today ends the pact at {lapse.isoformat()}"))
        return lines
    anniversary = cal.next_anniversary(today - timedelta(days=1))
    cutoff = cal.last_notice_day(anniversary)
    if today <= cutoff:
        lines.append(
            (
                "Notice cut-off",
                f"{cutoff.isoformat()} ({_days((cutoff - today).days)}) for expiry at "
                f"{anniversary.isoformat()}",
            )
        )
    else:
        nxt = cal.next_anniversary(anniversary)
        lines.append(
            (
                "Notice cut-off",
                f"closed on {cutoff.isoformat()}; next {cal.last_notice_day(nxt).isoformat()}",
            )
        )
    what = "renewal (suspended notice)" if state == "suspended" else "renewal or expiry"
    lines.append(
        ("Expiry", f"{anniversary.isoformat()} {what} ({_days((anniversary - today).days)})")
    )
    return lines


def outcome_text(view: RunView) -> str:
    """The outcome banner's sentence."""
    text = OUTCOME_TEXT.get(view.outcome, view.outcome.replace("_", " "))
    bits = []
    deadline = decisive_deadline(view)
    if deadline is not None:
        bits.append(f"deadline {deadline.isoformat()}")
    reversal = next(
        (e for e in view.timeline if e.event in ("conditional_suspension", "rescind_notice")),
        None,
    )
    if reversal is not None and first_notice(view) is not None:
        bits.append(f"{reversal.event.replace('_', ' ')} on {reversal.date.isoformat()}")
    months = view.reversal_months
    if months:
        bits.append(f"{months} month{'s' if months != 1 else ''} before expiry")
    return f"Outcome: {text}" + (f" ({'; '.join(bits)})" if bits else "") + "."


def outcome_so_far(view: RunView) -> str:
    """What the status says before the deadline: nothing is decided until a notice."""
    if deadline_passed(view):
        return view.outcome.replace("_", " ")
    notice = first_notice(view)
    if notice is None:
        return "open: no termination notice yet"
    return f"open: notice given {notice.isoformat()}; decided at the deadline"


def decisions_in(view: RunView, month: date) -> dict[str, Any]:
    """Each government's decision in ``month`` (actor -> Decision)."""
    return {d.actor: d for d in view.decisions if same_month(d.date, month)}


def month_label(view: RunView, month: date) -> str:
    """The month picker's entry: the month and the governments' moves in it, so that the
    picker reads as a timeline ("Nov 2019: conditional_suspension, talks_offer, ...")."""
    moves = []
    for e in view.timeline:
        if same_month(e.date, month) and not e.extra.get("exogenous") and e.event not in moves:
            moves.append(e.event)
    return f"{month:%b %Y}" + (f": {', '.join(moves)}" if moves else "")


def month_row(view: RunView, month: date) -> pd.Series:
    """The monthly series' row for the end of ``month``."""
    k = months_between(view.start, month) + 1
    return view.monthly.iloc[k]
