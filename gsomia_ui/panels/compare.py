"""Compare two settings over the same seeds: A is the settings in the controls, B a
scenario with changes typed as ``KEY=VALUE`` (as ``gsomia run --set``). The difference in
each outcome's share with its 95% Newcombe interval for paired data (the same seeds ran
under both), and the two reversal-timing histograms overlaid."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import solara

from experiments.cli import parse_set
from gsomia_ui.ensembles import ComparisonView
from gsomia_ui.figures import compare_figure
from gsomia_ui.panels.ensemble import SeedsField, seeds_wanted
from gsomia_ui.scenarios import Settings, scenario_values, settings_from
from gsomia_ui.tables import compare_html
from gsomia_ui.widgets import EnterField, FigureImage, html, slot, task_status
from model import ConfigError


def settings_b(
    scenario: str, changes: str, scenarios: Mapping[str, Path]
) -> tuple[Settings | None, str | None]:
    """Setting B: ``scenario`` with ``changes`` ("KEY=VALUE, KEY=VALUE"), or (None, why)."""
    items = [c.strip() for c in changes.replace(";", ",").split(",") if c.strip()]
    try:
        values = scenario_values(scenario, scenarios) | parse_set(items)
        return settings_from(scenario, values, scenarios), None
    except ConfigError as exc:
        return None, f"B: {exc}"


@solara.component
def ComparePanel(
    settings: Settings | None,
    problem: str | None,
    scenarios: Mapping[str, Path],
    task: Any,
    b_scenario: solara.Reactive[str],
    b_changes: solara.Reactive[str],
    n_seeds: solara.Reactive[int],
) -> None:
    """Setting A (the controls) against setting B, live results."""
    comp: ComparisonView | None = task.latest
    b, b_problem = solara.use_memo(
        lambda: settings_b(b_scenario.value, b_changes.value, scenarios),
        [b_scenario.value, b_changes.value],
    )
    solara.Text(
        f"A: the settings in the controls ({settings.label if settings else 'invalid'}).",
        classes=["gsomia-compare-a"],
    )
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select(
            "B: scenario", values=list(scenarios), value=b_scenario, classes=["gsomia-compare-b"]
        )
        EnterField(
            "B: changes (KEY=VALUE, ...)",
            b_changes.value,
            b_changes.set,
            classes=["gsomia-compare-changes"],
            style="min-width: 320px",
        )
    solara.Text(f"B: {b.label}" if b is not None else "", classes=["gsomia-compare-b-label"])
    with slot("gsomia-compare-errors"):
        for message in (problem, b_problem):
            if message:
                solara.Error(message, classes=["gsomia-compare-error"])
    n = seeds_wanted(n_seeds.value)
    ready = settings is not None and b is not None and not problem
    with solara.Row(style={"align-items": "center"}):
        SeedsField(n_seeds, task.pending)
        solara.Button(
            "Run comparison",
            on_click=lambda: task(
                settings.params, b.params, list(range(n)), settings.label, b.label
            ),
            disabled=task.pending or not ready,
            color="primary",
        )
        solara.Button("Cancel comparison", on_click=task.cancel, disabled=not task.pending)
    task_status(task, comp.done if comp is not None else 0, n, "gsomia-compare", "seeds")
    if comp is None or not comp.done:
        return
    if not task.pending:
        state = "cancelled" if comp.cancelled or task.cancelled else "finished"
        solara.Text(
            f"{state}: {comp.done} of {comp.requested} seeds under both settings",
            classes=["gsomia-compare-status"],
        )
    html(compare_html(comp), "gsomia-compare-body")
    FigureImage(lambda: compare_figure(comp), (comp.done, id(comp)), "gsomia-compare-figure")
