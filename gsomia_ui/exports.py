"""What the page's downloads hold: the run's monthly series, timeline and every decision
option as CSV (the same columns as ``gsomia run --out``'s files), and each ensemble's
tables, one table per file."""

from __future__ import annotations

import csv
import io

from gsomia_ui.ensembles import (
    ComparisonView,
    EnsembleView,
    PosteriorView,
    ensemble_runs_table,
    ensemble_table,
)
from gsomia_ui.view import RunView


def monthly_csv(view: RunView) -> str:
    """The monthly series as CSV (one row per month end; row 0 is the start)."""
    return view.monthly.to_csv(index=False)


def timeline_csv(view: RunView) -> str:
    """The dated events as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "actor", "event", "domain", "detail", "exogenous"])
    for e in view.timeline:
        writer.writerow(
            [
                e.date.isoformat(),
                e.actor,
                e.event,
                e.domain,
                e.detail,
                bool(e.extra.get("exogenous")),
            ]
        )
    return buffer.getvalue()


def decisions_csv(view: RunView) -> str:
    """Every decision as CSV: one row per option, with its probability and expected utility
    by component, immediate and continuation."""
    components = list(view.decisions[0].options[0].immediate) if view.decisions else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["month", "actor", "option", "chosen", "probability", "expected_utility"]
        + components
        + [f"{c}_immediate" for c in components]
        + [f"{c}_continuation" for c in components]
    )
    for d in view.decisions:
        for o in d.options:
            writer.writerow(
                [f"{d.date:%Y-%m}", d.actor, o.action, o.action == d.chosen]
                + [repr(o.probability), repr(o.expected_utility)]
                + [repr(o.immediate[c] + o.continuation[c]) for c in components]
                + [repr(o.immediate[c]) for c in components]
                + [repr(o.continuation[c]) for c in components]
            )
    return buffer.getvalue()


def ensemble_shares_csv(ens: EnsembleView) -> str:
    """The ensemble's outcome shares with their 95% Wilson intervals (bounds exactly 0
    and 1 where they are)."""
    return ensemble_table(ens).to_csv(index=False)


def ensemble_runs_csv(ens: EnsembleView) -> str:
    """One row per finished seed: the sweep runner's named outcomes."""
    return ensemble_runs_table(ens).to_csv(index=False)


def posterior_csv(post: PosteriorView) -> str:
    """The posterior ensemble's table: per outcome, the posterior share and interval and
    the point estimate's (empty before it has run)."""
    return "" if post.result is None else post.result.table().to_csv(index=False)


def compare_csv(comp: ComparisonView) -> str:
    """The comparison's table: shares under A and B, A - B and its 95% interval."""
    return comp.table().to_csv(index=False)
