"""Ensembles of the settings in the controls: N seeds (outcome shares with Wilson
intervals, reversal timing, bands over months), and the fitted posterior (parameter draws
x seeds, intervals that count the parameters' uncertainty) next to the seeds-only
ensemble at the point estimate. Both run in the background on the shared worker pool,
with progress and Cancel."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import solara

from gsomia_ui import ensembles
from gsomia_ui.ensembles import EnsembleView, PosteriorView
from gsomia_ui.figures import ensemble_figure, posterior_figure
from gsomia_ui.inputs import parse_int
from gsomia_ui.scenarios import Settings
from gsomia_ui.tables import ensemble_html, posterior_html
from gsomia_ui.widgets import EnterField, FigureImage, html, slot, task_status


def seeds_wanted(n: Any) -> int:
    """The seeds field's value, kept between 1 and ``MAX_SEEDS``."""
    return min(max(int(n or 1), 1), ensembles.MAX_SEEDS)


@solara.component
def SeedsField(n_seeds: solara.Reactive[int], disabled: bool, classes: Sequence[str] = ()) -> None:
    """The "Seeds (N)" field of an ensemble or a comparison (applied on Enter)."""
    label = "Seeds (N)"
    EnterField(label, n_seeds.value, n_seeds.set, partial(parse_int, label), disabled, classes)


@solara.component
def SeedsEnsemble(
    settings: Settings | None, problem: str | None, task: Any, n_seeds: solara.Reactive[int]
) -> None:
    """N seeds of the controls' settings, live results."""
    ens: EnsembleView | None = task.latest
    label = settings.label if settings is not None else "(invalid settings)"
    solara.Text(
        f"Seeds 0…N−1 of the settings in the controls ({label}), each through the sweep "
        "runner's single run on the shared worker pool.",
        classes=["gsomia-ensemble-settings"],
    )
    with slot("gsomia-ensemble-errors"):
        if problem:
            solara.Error(f"Fix the settings first: {problem}", classes=["gsomia-ensemble-error"])
    n = seeds_wanted(n_seeds.value)
    with solara.Row(style={"align-items": "center"}):
        SeedsField(n_seeds, task.pending, ["gsomia-ensemble-n"])
        solara.Button(
            "Run ensemble",
            on_click=lambda: task(settings.params, list(range(n)), settings.label),
            disabled=task.pending or settings is None,
            color="primary",
        )
        solara.Button("Cancel ensemble", on_click=task.cancel, disabled=not task.pending)
    task_status(task, ens.done if ens is not None else 0, n, "gsomia-ensemble", "seeds")
    if ens is None or not ens.rows:
        if not task.pending:
            solara.Text("No ensemble yet.", classes=["gsomia-ensemble-status"])
        return
    if not task.pending:
        state = "cancelled" if ens.cancelled or task.cancelled else "finished"
        solara.Text(
            f"{state}: {ens.done} of {ens.requested} seeds ({ens.label})",
            classes=["gsomia-ensemble-status"],
        )
    html(ensemble_html(ens), "gsomia-ensemble-body")
    FigureImage(
        lambda: ensemble_figure(ens), (ens.done, ens.label, id(ens)), "gsomia-ensemble-figure"
    )


@solara.component
def PosteriorEnsemble(
    settings: Settings | None,
    problem: str | None,
    task: Any,
    fit_dir: solara.Reactive[str],
    draws: solara.Reactive[int],
    draw_seeds: solara.Reactive[int],
) -> None:
    """The controls' scenario over parameter draws from a fit's posterior."""
    post: PosteriorView | None = task.latest
    solara.Markdown(
        "**Over the fitted posterior.** Parameter vectors drawn from the fit's last "
        "generation in proportion to their weights (seed 0), each run with its own seeds, "
        "on the controls' settings, the fitted parameters taking the drawn values. "
        "Interval: Wilson's at n / deff runs, deff being Kish's design effect of the draws "
        "as clusters, so it widens with the spread between draws (parameter uncertainty). "
        "Beside it: the posterior mean (the fit's point estimate) over as many seeds."
    )
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        EnterField("Fit folder", fit_dir.value, fit_dir.set, classes=["gsomia-fit-dir"])
        for label, field, cls in (
            ("Parameter draws", draws, "gsomia-draws"),
            ("Seeds per draw", draw_seeds, "gsomia-draw-seeds"),
        ):
            EnterField(label, field.value, field.set, partial(parse_int, label), classes=[cls])
        p, s = max(1, int(draws.value or 1)), max(1, int(draw_seeds.value or 1))
        solara.Button(
            "Run posterior ensemble",
            on_click=lambda: task(settings.params, fit_dir.value, p, s, settings.label),
            disabled=task.pending or settings is None or bool(problem),
            color="primary",
        )
        solara.Button("Cancel posterior ensemble", on_click=task.cancel, disabled=not task.pending)
    total = 2 * p * s
    done = round((task.progress or 0) * total / 100) if task.pending else 0
    task_status(task, done, total, "gsomia-posterior", "runs")
    if post is None or post.result is None:
        return
    state = "cancelled" if post.cancelled or task.cancelled else "finished"
    solara.Text(
        f"{state}: {post.done} of {post.requested} runs ({post.label}, {post.draws} draws x "
        f"{post.seeds} seeds from {post.fit_dir})",
        classes=["gsomia-posterior-status"],
    )
    html(posterior_html(post), "gsomia-posterior-body")
    FigureImage(lambda: posterior_figure(post), id(post), "gsomia-posterior-figure")


@solara.component
def EnsemblePanel(
    settings: Settings | None,
    problem: str | None,
    ens_task: Any,
    n_seeds: solara.Reactive[int],
    post_task: Any,
    fit_dir: solara.Reactive[str],
    draws: solara.Reactive[int],
    draw_seeds: solara.Reactive[int],
) -> None:
    """The two ensembles; opening the tab starts the shared worker pool."""
    solara.use_effect(ensembles.warm_up, [])
    SeedsEnsemble(settings, problem, ens_task, n_seeds)
    solara.v.Divider(style_="margin: 16px 0")
    PosteriorEnsemble(settings, problem, post_task, fit_dir, draws, draw_seeds)
