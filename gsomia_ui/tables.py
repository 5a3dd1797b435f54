"""The page's HTML tables: the state at a month's end, the timeline, each government's
decision (every option's probability and expected utility by payoff component, as
``explain()`` records it), the countdown, and the ensembles' outcome tables."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from gsomia_ui.ensembles import ComparisonView, EnsembleView, PosteriorView, ensemble_table
from gsomia_ui.figures import outcome_label
from gsomia_ui.inputs import action_label, num, pct
from gsomia_ui.view import (
    ACTORS,
    CURB_LABELS,
    KEY_EVENTS,
    RunView,
    countdown,
    decisions_in,
    month_row,
)
from model.calendar import same_month

TABLE_CSS = (
    "<style>.gsomia-table{border-collapse:collapse;font-size:12px;width:100%}"
    ".gsomia-table td,.gsomia-table th{padding:2px 6px;border-bottom:1px solid "
    "rgba(128,128,128,.35);text-align:left;vertical-align:top}"
    ".gsomia-table th{background:rgba(128,128,128,.15);font-weight:600}"
    ".gsomia-table td.num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}.gsomia-key{font-weight:bold;color:#d6604d}"
    ".gsomia-chosen{font-weight:bold;background:rgba(240,192,0,.28)}"
    ".gsomia-pos{color:#2e9e4f}.gsomia-neg{color:#d6604d}"
    ".gsomia-decision-grid{display:grid;grid-template-columns:repeat(auto-fit,"
    "minmax(540px,1fr));gap:10px 16px}.gsomia-wide{overflow-x:auto}</style>"
)


def rows_html(pairs: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs)


def state_pairs(view: RunView, month: date | None = None) -> list[tuple[str, str]]:
    """The state at the end of ``month`` (default: the latest simulated month)."""
    if not view.months_done:
        row, when = view.monthly.iloc[0], f"before {view.start:%b %Y}"
    else:
        month = view.months[-1] if month is None else month
        row, when = month_row(view, month), f"end of {month:%b %Y}"
    curb = int(row["curb_level"])
    tokyo = "on" if float(row["us_pressure_tokyo"]) else "off"
    return [
        ("State", when),
        ("Pact", str(row["pact_state"]).replace("_", " ")),
        ("Curbs", CURB_LABELS[curb] if 0 <= curb < len(CURB_LABELS) else str(curb)),
        (
            "US pressure",
            f"on Seoul {num(float(row['us_pressure_seoul']) * 3, 0)}/3, on Tokyo {tokyo}",
        ),
        ("Korean opinion", f"{num(100 * float(row['opinion_share']), 0)}% for ending the pact"),
        ("WTO complaint", str(row["wto"])),
        ("Threat", num(float(row["threat"]))),
    ]


def timeline_html(view: RunView, month: date | None = None) -> str:
    """The dated events (of ``month`` only, if given), newest first."""
    rows = []
    for e in reversed(view.timeline):
        if month is not None and not same_month(e.date, month):
            continue
        css = " class='gsomia-key'" if e.event in KEY_EVENTS else ""
        exo = " <i>(exogenous)</i>" if e.extra.get("exogenous") else ""
        rows.append(
            f"<tr{css}><td style='white-space:nowrap'>{e.date.isoformat()}</td>"
            f"<td>{html.escape(e.actor)}</td>"
            f"<td>{html.escape(e.event)}{exo}</td><td>{html.escape(e.detail)}</td></tr>"
        )
    if not rows:
        empty = "No events yet: press Step." if month is None else "No events this month."
        rows.append(f"<tr><td colspan='4'>{empty}</td></tr>")
    return (
        "<table class='gsomia-table gsomia-timeline'><tr><th>date</th><th>actor</th>"
        "<th>event</th><th>detail</th></tr>" + "".join(rows) + "</table>"
    )


def _signed(value: float) -> str:
    text = num(value)
    css = "gsomia-pos" if float(text) > 0 else "gsomia-neg" if float(text) < 0 else ""
    return f"<td class='num {css}'>{text}</td>"


def decision_table(decision: Any) -> str:
    """HTML: one decision, each option's probability and expected utility by payoff
    component (this month plus the discounted continuation)."""
    head = (
        f"<div style='margin-top:4px'><b>{decision.actor.title()}</b>, {decision.date:%b %Y}: "
        f"chose <b>{html.escape(action_label(decision.chosen))}</b></div>"
    )
    components = list(decision.options[0].immediate) if decision.options else []
    cols = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in components)
    rows = []
    for o in sorted(decision.options, key=lambda o: -o.expected_utility):
        css = " class='gsomia-chosen'" if o.action == decision.chosen else ""
        cells = "".join(_signed(o.immediate[c] + o.continuation[c]) for c in components)
        rows.append(
            f"<tr{css}><td>{html.escape(action_label(o.action))}</td>"
            f"<td class='num'>{num(o.probability)}</td>"
            f"<td class='num'><b>{num(o.expected_utility)}</b></td>{cells}</tr>"
        )
    return (
        head + f"<div class='gsomia-wide'><table class='gsomia-table gsomia-decision' "
        f"data-actor='{decision.actor}' data-month='{decision.date:%Y-%m}'><tr><th>option</th>"
        f"<th>prob</th><th>EU</th>{cols}</tr>" + "".join(rows) + "</table></div>"
    )


def month_html(view: RunView, month: date) -> str:
    """Everything about one month: the state at its end, its events and every
    government's decision table."""
    found = decisions_in(view, month)
    tables = "".join(
        f"<div>{decision_table(found[a])}</div>"
        if a in found
        else f"<div><b>{a.title()}</b>: no decision this month.</div>"
        for a in ACTORS
    )
    return (
        TABLE_CSS
        + "<div class='gsomia-decision-grid'>"
        + "<div><table class='gsomia-table gsomia-month-state'>"
        + rows_html(state_pairs(view, month))
        + "</table></div>"
        + f"<div><div style='font-weight:bold'>Events in {month:%B %Y}</div>"
        + timeline_html(view, month)
        + "</div></div>"
        + "<div style='font-size:11px;opacity:.75;margin:6px 0'>Expected utility (EU) of each "
        "option, split by payoff component (this month + discounted future); highlighted: "
        "the option chosen.</div>" + f"<div class='gsomia-decision-grid'>{tables}</div>"
    )


def countdown_html(view: RunView) -> str:
    """The countdown to the notice cut-off and to expiry, then the timeline."""
    return (
        TABLE_CSS
        + f"<table class='gsomia-table gsomia-countdown'>{rows_html(countdown(view))}</table>"
        + "<div style='font-weight:bold;margin:6px 0 2px'>Timeline (newest first)</div>"
        + timeline_html(view)
    )


def _table(cls: str, head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """An HTML table (``TABLE_CSS``); cells starting with a digit, a sign or a blank
    percentage are right-aligned numbers."""
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    rows = []
    for row in body:
        tds = []
        for i, c in enumerate(row):
            css = " class='num'" if i else ""
            tds.append(f"<td{css}>{html.escape(c)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return (
        TABLE_CSS
        + f"<table class='gsomia-table {cls}' style='width:auto'><tr>{cells}</tr>"
        + "".join(rows)
        + "</table>"
    )


def interval(lo: float, hi: float) -> str:
    """A 95% interval as percentages ("12–35%")."""
    return f"{pct(lo)[:-1]}–{pct(hi)}" if not (pd.isna(lo) or pd.isna(hi)) else ""


def ensemble_html(ens: EnsembleView) -> str:
    """The seeds ensemble's outcome shares with 95% Wilson intervals."""
    return _table(
        "gsomia-ensemble-table",
        ("outcome", "runs", "share", "95% CI (Wilson)"),
        [
            (outcome_label(r.outcome), str(r.runs), pct(r.share), interval(r.lo95, r.hi95))
            for r in ensemble_table(ens).itertuples()
        ],
    )


def posterior_html(post: PosteriorView) -> str:
    """The posterior ensemble's shares next to the point estimate's."""
    if post.result is None:
        return ""
    return _table(
        "gsomia-posterior-table",
        (
            "outcome",
            "posterior",
            "95% interval (parameters + seeds)",
            "design effect",
            "posterior mean",
            "95% interval (seeds)",
        ),
        [
            (
                outcome_label(r.outcome),
                pct(r.posterior_share),
                interval(r.posterior_lo95, r.posterior_hi95),
                num(r.deff, 1),
                pct(r.point_share),
                interval(r.point_lo95, r.point_hi95),
            )
            for r in post.result.table().itertuples()
        ],
    )


def compare_html(comp: ComparisonView) -> str:
    """Each outcome's share under A and B and the difference with its 95% interval."""

    def signed(x: float) -> str:
        text = pct(x)
        return text if text.startswith(("-", "0")) else f"+{text}"

    return _table(
        "gsomia-compare-table",
        ("outcome", "A", "B", "A − B", "95% interval (Newcombe, paired)"),
        [
            (
                outcome_label(r.outcome),
                pct(r.share_a),
                pct(r.share_b),
                signed(r.difference),
                f"{signed(r.lo95)} to {signed(r.hi95)}",
            )
            for r in comp.table().itertuples()
        ],
    )
