"""The page's panels as components for Mesa's own browser UI.

Each takes the model and redraws when SolaraViz steps or resets it (Mesa's update
counter); pass them to ``SolaraViz``::

    from mesa.visualization import SolaraViz
    from gsomia_ui.components import (
        CountdownPanel, DecisionsPanel, EnsemblePanel, NetworkPanel, SeriesPanel,
    )
    from gsomia_ui.scenarios import ScenarioModel

    model = ScenarioModel("baseline_2019", rng=0)     # or any GSOMIAModel
    page = SolaraViz(
        model,
        components=[NetworkPanel, SeriesPanel, CountdownPanel, (DecisionsPanel, 1),
                    (EnsemblePanel, 2)],
        model_params={"rng": {"type": "InputText", "value": "0", "label": "Random seed"}},
    )

They read the model through a snapshot (``gsomia_ui.view.make_view``) and draw each
figure once per simulated month. ``gsomia_ui.viz`` is a page built from them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import solara
import solara.lab
from mesa.visualization.utils import update_counter

from gsomia_ui import ensembles
from gsomia_ui.ensembles import EnsembleView
from gsomia_ui.figures import ensemble_figure, figure_svg, network_figure, series_figure
from gsomia_ui.panels.ensemble import SeedsField, seeds_wanted
from gsomia_ui.panels.run import Outcome, status_line
from gsomia_ui.tables import countdown_html, ensemble_html, month_html
from gsomia_ui.view import RunView, make_view, month_label
from gsomia_ui.widgets import FigureImage, html, image, task_status
from model import GSOMIAModel


def use_view(model: GSOMIAModel) -> RunView:
    """The model's snapshot, renewed when SolaraViz steps or replaces the model."""
    counter = update_counter.get()
    return solara.use_memo(lambda: make_view(model), [id(model), counter, model.steps])


@solara.component
def NetworkPanel(model: GSOMIAModel) -> None:
    """The actor network: nodes by stance, edges by tension, US pressure as a blue band."""
    view = use_view(model)
    svg = solara.use_memo(lambda: figure_svg(network_figure(view)), [view.network])
    with solara.Column(classes=["gsomia-viz-network"]):
        solara.Text(status_line(view), classes=["gsomia-clock"], style={"font-weight": "600"})
        image(svg, "gsomia-network")


@solara.component
def SeriesPanel(model: GSOMIAModel) -> None:
    """The monthly series on a calendar axis, with the decisive deadline."""
    view = use_view(model)
    svg = solara.use_memo(lambda: figure_svg(series_figure(view)), [view.token])
    image(svg, "gsomia-series")


@solara.component
def CountdownPanel(model: GSOMIAModel) -> None:
    """The outcome (or what is still open), the countdown and the dated timeline."""
    view = use_view(model)
    with solara.Column(classes=["gsomia-viz-countdown"]):
        Outcome(view)
        html(countdown_html(view), "gsomia-timeline-body")


@solara.component
def DecisionsPanel(model: GSOMIAModel) -> None:
    """Every government's decision in a month picked among those simulated."""
    view = use_view(model)
    picked: solara.Reactive[date | None] = solara.use_reactive(None)
    months = view.months
    if not months:
        solara.Text("No month simulated yet: press Step.", classes=["gsomia-month-empty"])
        return
    month = picked.value if picked.value in months else months[-1]
    labels = {month_label(view, m): m for m in months}
    solara.Select(
        "Month",
        values=list(labels),
        value=month_label(view, month),
        on_value=lambda text: picked.set(labels[text]),
        classes=["gsomia-month-picker"],
    )
    html(month_html(view, month), "gsomia-month-body")


@solara.component
def EnsemblePanel(model: GSOMIAModel) -> None:
    """N seeds of the model's own settings (its parameters and shocks) in the background:
    outcome shares with Wilson intervals, reversal timing and bands."""
    view = use_view(model)
    n_seeds = solara.use_reactive(ensembles.DEFAULT_SEEDS)

    def run(params: dict[str, Any], seeds: list[int], label: str) -> Any:
        def progress(done: int, total: int) -> None:
            task.progress = 100.0 * done / total

        yield EnsembleView(label, len(seeds))
        yield from ensembles.run_ensemble(
            params, seeds, label, task.is_current, progress, ensembles.workers()
        )

    task = solara.lab.use_task(run, dependencies=None, raise_error=False)
    ens: EnsembleView | None = task.latest
    n = seeds_wanted(n_seeds.value)
    label = f"{view.scenario}" + (
        " + " + ", ".join(f"{k} = {v}" for k, v in view.changed.items()) if view.changed else ""
    )
    with solara.Row(style={"align-items": "center"}):
        SeedsField(n_seeds, task.pending)
        solara.Button(
            "Run ensemble",
            on_click=lambda: task(dict(view.run_params), list(range(n)), label),
            disabled=task.pending,
            color="primary",
        )
        solara.Button("Cancel ensemble", on_click=task.cancel, disabled=not task.pending)
    task_status(task, ens.done if ens is not None else 0, n, "gsomia-ensemble", "seeds")
    if ens is None or not ens.rows:
        return
    if not task.pending:
        solara.Text(
            f"finished: {ens.done} of {ens.requested} seeds ({ens.label})",
            classes=["gsomia-ensemble-status"],
        )
    html(ensemble_html(ens), "gsomia-ensemble-body")
    FigureImage(lambda: ensemble_figure(ens), id(ens), "gsomia-ensemble-figure")


COMPONENTS = [
    (NetworkPanel, 0),
    (SeriesPanel, 0),
    (CountdownPanel, 0),
    (DecisionsPanel, 1),
    (EnsemblePanel, 2),
]
"""The panels on SolaraViz's pages: the run (page 0), decisions by month (1), the
ensemble (2)."""
