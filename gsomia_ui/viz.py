"""The GSOMIA model in Mesa's own browser UI: ``SolaraViz`` with the page's panels
(``gsomia_ui.components``), one model per browser session.

Serve it with ``gsomia ui --mesa`` (or ``solara run gsomia_ui.viz``). SolaraViz gives its
usual controls: Reset, Play, Step, the play and render intervals, and the model's
parameters (here the scenario and the seed; Reset builds a new ScenarioModel from them).
Each session's model is made in a per-session hook and handed to SolaraViz as a
``solara.Reactive``, so two sessions never share a model.
"""

from __future__ import annotations

import sys

import solara
from mesa.visualization import SolaraViz

from gsomia_ui.components import COMPONENTS
from gsomia_ui.scenarios import DEFAULT_SEED, ScenarioModel, default_scenario, discover_scenarios
from gsomia_ui.serving import TITLE, configure_offline_serving

for _problem in configure_offline_serving():
    print(_problem, file=sys.stderr)


def model_params() -> dict[str, dict]:
    """SolaraViz's controls: the scenario (every one the page offers) and the seed."""
    return {
        "scenario": {
            "type": "Select",
            "value": default_scenario(),
            "values": list(discover_scenarios()),
            "label": "Scenario",
        },
        "rng": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "Random seed"},
    }


def new_model() -> ScenarioModel:
    """A session's first model: the default scenario and seed."""
    return ScenarioModel(default_scenario(), rng=DEFAULT_SEED)


@solara.component
def Page() -> None:
    """SolaraViz over this session's own model."""
    first = solara.use_memo(new_model, [])
    model = solara.use_reactive(first)
    params = solara.use_memo(model_params, [])
    SolaraViz(model, components=COMPONENTS, model_params=params, name=TITLE, play_interval=300)
