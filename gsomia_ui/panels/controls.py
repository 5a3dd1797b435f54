"""The sidebar: scenario, seed, Step/Play/Run to end/Reset, and every parameter with its
value, unit, range, default and meaning (the nine headline ones first, the rest under
"Advanced parameters")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import solara
import solara.lab

from gsomia_ui.inputs import (
    ADVANCED,
    DATE_FORMAT,
    control_kind,
    format_value,
    help_text,
    param_label,
    parse_date,
    parse_int,
    slider_step,
)
from gsomia_ui.serving import TITLE
from gsomia_ui.widgets import EnterField, Slider
from model import HEADLINE, PARAMETERS


@solara.component
def ParamControl(
    name: str, values: solara.Reactive[dict[str, Any]], disabled: bool = False
) -> None:
    """One parameter: its value with unit, the control, and the registry's meaning."""
    p = PARAMETERS[name]
    value = values.value[name]

    def set_value(new: Any) -> None:
        values.set(values.value | {name: new})

    kind = control_kind(name)
    label = param_label(name)
    with solara.Column(gap="0px", classes=["gsomia-param"], style={"margin-bottom": "6px"}):
        solara.Text(
            f"{label}: {format_value(name, value)}",
            classes=["gsomia-param-value"],
            style={"font-size": "13px", "font-weight": "600"},
        )
        if kind == "slider":
            integer = p.kind is int
            Slider(
                label,
                int(value) if integer else float(value),
                p.low,
                p.high,
                1 if integer else slider_step(name),
                set_value,
                integer=integer,
                disabled=disabled,
            )
        elif kind == "int":
            EnterField(label, int(value), set_value, partial(parse_int, label), disabled)
        elif kind == "select":
            solara.Select(label, values=list(p.choices), value=value, on_value=set_value)
        elif kind == "date":  # bad text: a message under the field, the value in use stays
            shown = value.isoformat() if isinstance(value, date) else str(value)
            date_label = f"{label} ({DATE_FORMAT})"
            parse = partial(parse_date, name)
            EnterField(date_label, shown, set_value, parse, disabled, [f"gsomia-date-{name}"])
        else:
            EnterField(label, str(value), set_value, disabled=disabled)
        solara.Text(
            help_text(name),
            classes=["gsomia-param-help"],
            style={"font-size": "11px", "opacity": "0.75", "line-height": "1.25"},
        )


@solara.component
def Controls(
    scenarios: Mapping[str, Path],
    descriptions: Mapping[str, str],
    scenario: solara.Reactive[str],
    seed_text: solara.Reactive[str],
    values: solara.Reactive[dict[str, Any]],
    pick_scenario: Callable[[str], None],
    buttons: Callable[[], None],
    busy: bool,
) -> None:
    """The sidebar's content; ``buttons`` draws Step/Play/Run to end/Reset and what the
    run's state says about them."""
    show_advanced = solara.use_reactive(False)
    with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
        solara.Text(TITLE, style={"font-weight": "bold", "font-size": "15px"})
        solara.lab.ThemeToggle(enable_auto=False)
    solara.v.Select(
        label="Scenario",
        items=[
            {"text": f"{n}: {descriptions[n].split('. ')[0].rstrip('.')}", "value": n}
            for n in scenarios
        ],
        v_model=scenario.value,
        on_v_model=pick_scenario,
        class_="gsomia-scenario",
    )
    solara.Text(
        descriptions.get(scenario.value, ""),
        classes=["gsomia-scenario-description"],
        style={"font-size": "12px", "opacity": "0.8", "margin-top": "-12px"},
    )
    solara.InputText(
        "Random seed", value=seed_text, continuous_update=True, classes=["gsomia-seed"]
    )
    buttons()
    solara.Text("Key parameters", style={"font-weight": "bold", "margin-top": "8px"})
    for name in HEADLINE:
        ParamControl(name, values, disabled=busy)
    solara.Button(
        f"Advanced parameters ({len(ADVANCED)}) {'▾' if show_advanced.value else '▸'}",
        on_click=lambda: show_advanced.set(not show_advanced.value),
        text=True,
        classes=["gsomia-advanced-toggle"],
    )
    if show_advanced.value:  # built only when opened: 64 controls cost a render
        with solara.Column(classes=["gsomia-advanced"]):
            for name in ADVANCED:
                ParamControl(name, values, disabled=busy)
