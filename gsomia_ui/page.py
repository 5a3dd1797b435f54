"""The page: controls in the sidebar; status, run, decisions by month, ensembles, a
comparison of two settings, a sweep's results and the downloads in the main area.

Every browser session (tab, reload) gets its own model, built in a per-session hook, never
at module level. Model work (Reset, Step, Play, Run to end) and each ensemble run in that
session's background tasks; the page draws only immutable snapshots. The ensembles run
the settings in the controls (Reset or not), and their labels say which.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import solara
import solara.lab

from gsomia_ui import ensembles
from gsomia_ui.ensembles import ComparisonView, EnsembleView, PosteriorView
from gsomia_ui.panels.compare import ComparePanel
from gsomia_ui.panels.controls import Controls
from gsomia_ui.panels.ensemble import EnsemblePanel
from gsomia_ui.panels.exports import ExportPanel
from gsomia_ui.panels.months import MonthPanel
from gsomia_ui.panels.run import RunPanel, StatusBar
from gsomia_ui.panels.sweeps import SweepPanel
from gsomia_ui.scenarios import (
    DEFAULT_SEED,
    Settings,
    default_scenario,
    discover_scenarios,
    scenario_description,
    scenario_values,
    settings_from,
)
from gsomia_ui.serving import TITLE
from gsomia_ui.state import Session, pending_changes
from gsomia_ui.view import RunView
from gsomia_ui.widgets import slot
from model import ConfigError

PAGE_STYLE = {"flex-wrap": "nowrap", "align-items": "flex-start", "gap": "12px"}
CONTROLS_STYLE = {
    "flex": "0 0 340px",
    "width": "340px",
    "max-height": "100vh",
    "overflow-y": "auto",
    "position": "sticky",
    "top": "0",
    "padding": "8px 4px",
}
MAIN_STYLE = {"flex": "1 1 auto", "min-width": "0", "padding": "8px 8px 0 0"}


def controls_settings(
    scenario: str, values: dict[str, Any], scenarios: Any
) -> tuple[Settings | None, str | None]:
    """The settings the controls make, or (None, why they are invalid)."""
    try:
        return settings_from(scenario, values, scenarios), None
    except ConfigError as exc:
        return None, str(exc)


def use_ensemble_tasks() -> tuple[Any, Any, Any]:
    """This session's three ensemble tasks (seeds, posterior, comparison), each yielding
    views as runs finish and reporting progress in percent."""

    def seeds(params: dict, seed_list: list[int], label: str) -> Iterator[EnsembleView]:
        def progress(done: int, total: int) -> None:
            ens_task.progress = 100.0 * done / total

        yield EnsembleView(label, len(seed_list), (), False, params)
        yield from ensembles.run_ensemble(
            params, seed_list, label, ens_task.is_current, progress, ensembles.workers()
        )

    def posterior(
        params: dict, fit_dir: str, draws: int, seeds_per: int, label: str
    ) -> Iterator[PosteriorView]:
        def progress(done: int, total: int) -> None:
            post_task.progress = 100.0 * done / total

        yield from ensembles.run_posterior(
            params,
            fit_dir,
            draws,
            seeds_per,
            0,
            label,
            post_task.is_current,
            progress,
            ensembles.workers(),
        )

    def compare(
        a: dict, b: dict, seed_list: list[int], label_a: str, label_b: str
    ) -> Iterator[ComparisonView]:
        def progress(done: int, total: int) -> None:
            cmp_task.progress = 100.0 * done / total

        yield ComparisonView(label_a, label_b, len(seed_list))
        yield from ensembles.run_comparison(
            a,
            b,
            seed_list,
            (label_a, label_b),
            cmp_task.is_current,
            progress,
            ensembles.workers(),
        )

    ens_task = solara.lab.use_task(seeds, dependencies=None, raise_error=False)
    post_task = solara.lab.use_task(posterior, dependencies=None, raise_error=False)
    cmp_task = solara.lab.use_task(compare, dependencies=None, raise_error=False)
    return ens_task, post_task, cmp_task


@solara.component
def Page() -> None:
    """The page; everything here is per browser session."""
    scenarios = solara.use_memo(discover_scenarios, [])
    descriptions = solara.use_memo(
        lambda: {n: scenario_description(p) for n, p in scenarios.items()}, []
    )
    first = solara.use_memo(default_scenario, [])
    session = solara.use_memo(Session, [])
    if session.view is None:  # this session's own model, built on its first render
        session.reset(first, DEFAULT_SEED, {})
    scenario = solara.use_reactive(first)
    seed_text = solara.use_reactive(str(DEFAULT_SEED))
    values = solara.use_reactive(solara.use_memo(lambda: scenario_values(first, scenarios), []))
    picked_month: solara.Reactive[date | None] = solara.use_reactive(None)
    current_op = solara.use_reactive("")
    tab = solara.use_reactive(0)
    n_seeds = solara.use_reactive(ensembles.DEFAULT_SEEDS)
    fit_dir = solara.use_reactive(solara.use_memo(ensembles.default_fit_dir, []))
    draws = solara.use_reactive(ensembles.DEFAULT_DRAWS)
    draw_seeds = solara.use_reactive(ensembles.DEFAULT_DRAW_SEEDS)
    b_scenario = solara.use_reactive("no_us_pressure" if "no_us_pressure" in scenarios else first)
    b_changes = solara.use_reactive("")
    cmp_seeds = solara.use_reactive(ensembles.DEFAULT_SEEDS)
    sweep_folder = solara.use_reactive("")

    def operate(op: str, *args: Any) -> Iterator[RunView]:
        yield from session.operate(op, args, ops.is_current)

    ops = solara.lab.use_task(operate, dependencies=None, raise_error=False)
    ens_task, post_task, cmp_task = use_ensemble_tasks()
    settings, problem = solara.use_memo(
        lambda: controls_settings(scenario.value, values.value, scenarios),
        [scenario.value, values.value],
    )

    _ = ops.latest  # subscribe: the page redraws when the task yields a snapshot
    view: RunView = session.view
    busy = ops.pending
    playing = busy and current_op.value == "play"

    def pick_scenario(name: str) -> None:
        scenario.set(name)
        values.set(scenario_values(name, scenarios))

    def do(op: str, *args: Any) -> None:
        if ops.pending and op != "reset":
            return  # a click that reached the server while busy (its button was disabled)
        current_op.set(op)  # which operation runs (for the Play/Pause button)
        ops(op, *args)

    def reset() -> None:
        if ops.pending:
            ops.cancel()  # stop playing (or running); the reset waits for the month in progress
        picked_month.set(None)
        do("reset", scenario.value, seed_text.value, dict(values.value))

    def buttons() -> None:
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            solara.Button(
                "Step",
                on_click=lambda: do("step"),
                disabled=busy or not view.running,
                color="primary",
            )
            if playing:
                solara.Button("Pause", on_click=ops.cancel, color="primary")
            else:
                solara.Button(
                    "Play",
                    on_click=lambda: do("play"),
                    disabled=busy or not view.running,
                    color="primary",
                )
            solara.Button(
                "Run to end", on_click=lambda: do("end"), disabled=busy or not view.running
            )
            solara.Button("Reset", on_click=reset, disabled=busy and not playing)
        with slot("gsomia-run-notes"):  # the parameters' controls below keep their widgets
            if not view.running:
                solara.Text(
                    "The run has ended: press Reset to start again.",
                    classes=["gsomia-ended"],
                    style={"font-size": "12px"},
                )
            if pending_changes(view, scenario.value, seed_text.value, values.value):
                solara.Warning(
                    "Changed settings: press Reset to run them (the ensembles run them as they "
                    "are).",
                    dense=True,
                    classes=["gsomia-pending-changes"],
                )

    solara.Title(TITLE)
    # Two columns of our own (Solara's AppLayout nests into "embedded" mode under
    # `solara run`): the controls scroll on their own, the main area takes the rest.
    with solara.Row(classes=["gsomia-page"], style=PAGE_STYLE):
        with solara.Column(classes=["gsomia-controls"], style=CONTROLS_STYLE):
            Controls(
                scenarios,
                descriptions,
                scenario,
                seed_text,
                values,
                pick_scenario,
                buttons,
                busy,
            )
        with solara.Column(classes=["gsomia-main"], style=MAIN_STYLE):
            solara.ProgressLinear(busy, classes=["gsomia-busy"] if busy else ["gsomia-idle"])
            StatusBar(view)
            with slot("gsomia-errors"):
                if ops.error:
                    solara.Error(f"{ops.exception}", classes=["gsomia-error"])
            with solara.lab.Tabs(value=tab, lazy=True):
                with solara.lab.Tab("Run"):
                    RunPanel(view)
                with solara.lab.Tab("Decisions by month"):
                    MonthPanel(view, picked_month)
                with solara.lab.Tab("Ensemble"):
                    EnsemblePanel(
                        settings,
                        problem,
                        ens_task,
                        n_seeds,
                        post_task,
                        fit_dir,
                        draws,
                        draw_seeds,
                    )
                with solara.lab.Tab("Compare"):
                    ComparePanel(
                        settings,
                        problem,
                        scenarios,
                        cmp_task,
                        b_scenario,
                        b_changes,
                        cmp_seeds,
                    )
                with solara.lab.Tab("Sweep results"):
                    SweepPanel(sweep_folder)
                with solara.lab.Tab("Export"):
                    ExportPanel(view, ens_task.latest, post_task.latest, cmp_task.latest)
            solara.Text(
                "gsomia: an agent-based, game-theoretic model of the 2019 GSOMIA crisis (Mesa).",
                classes=["gsomia-footer"],
                style={"font-size": "11px", "opacity": "0.7", "margin": "16px 0 8px"},
            )
