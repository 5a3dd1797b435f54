"""The run: its dated status and outcome, the actor network, the monthly series, the
countdown to the notice cut-off and to expiry, and the dated timeline."""

from __future__ import annotations

import solara

from gsomia_ui.figures import figure_svg, network_figure, series_figure
from gsomia_ui.tables import countdown_html
from gsomia_ui.view import RunView, deadline_passed, outcome_so_far, outcome_text
from gsomia_ui.widgets import html, image


def status_line(view: RunView) -> str:
    """Scenario, seed and the months simulated, as dates."""
    done = view.months_done
    if done:
        span = (
            f"{view.start:%b %Y} – {view.months[-1]:%b %Y} simulated "
            f"({done} of {view.total_months} months)"
        )
    else:
        span = (
            f"nothing simulated yet; starts {view.start:%b %Y} "
            f"({view.total_months} months to {view.end:%b %Y})"
        )
    return f"Scenario {view.scenario}, seed {view.seed}: {span}"


@solara.component
def Outcome(view: RunView) -> None:
    """The outcome banner once the deadline has passed, else what is still open."""
    if deadline_passed(view):
        kind = {"terminated": solara.Error, "pending": solara.Warning}.get(
            view.outcome, solara.Success
        )
        kind(outcome_text(view), classes=["gsomia-outcome"], dense=True)
    else:
        solara.Info(f"Outcome so far: {outcome_so_far(view)}", classes=["gsomia-open"], dense=True)


@solara.component
def StatusBar(view: RunView) -> None:
    """Scenario, seed, the months simulated (as dates), the outcome or what is open."""
    with solara.Column(classes=["gsomia-status"], gap="4px"):
        solara.Text(status_line(view), classes=["gsomia-clock"], style={"font-weight": "600"})
        Outcome(view)
        for message in view.messages:
            solara.Warning(message, classes=["gsomia-input-error"], dense=True)


@solara.component
def NetworkFigure(view: RunView) -> None:
    """The actor network, drawn once per change of the network."""
    svg = solara.use_memo(lambda: figure_svg(network_figure(view)), [view.network])
    solara.Text(
        "Actor network: nodes by stance, edges by tension; blue band = US pressure",
        style={"font-weight": "bold"},
    )
    image(svg, "gsomia-network")


@solara.component
def SeriesFigure(view: RunView) -> None:
    """The monthly series, drawn once per snapshot."""
    svg = solara.use_memo(lambda: figure_svg(series_figure(view)), [view.token])
    solara.Text(
        "Monthly series (each month's state over its month; dotted: the deadline)",
        style={"font-weight": "bold"},
    )
    image(svg, "gsomia-series")


@solara.component
def RunPanel(view: RunView) -> None:
    """Network and monthly series; the countdown and the timeline."""
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        with solara.Column(style={"min-width": "0"}):
            NetworkFigure(view)
        with solara.Column(style={"min-width": "0"}):
            SeriesFigure(view)
    html(countdown_html(view), "gsomia-timeline-body")
