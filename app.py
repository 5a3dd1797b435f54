"""Browser UI of the GSOMIA model: Mesa's SolaraViz page.

Serve it with ``gsomia ui`` (offline assets, 127.0.0.1) or ``solara run app.py``.

Controls (sidebar): the scenario (every ``configs/*.toml`` with a ``[scenario]`` table), the
seed (Mesa's ``InputText``: text that is not a whole number runs the default seed and says
so), sliders for the headline parameters, and Mesa's Step / Play / Reset. A changed control
takes effect at Reset. A slider left at the parameter's default keeps the scenario's own
value, so a counterfactual config is not undone by the sliders.

Components (main area): the run's status with the outcome banner once the deadline has
passed, the actor network, the monthly series, the dated timeline with the countdown to
the notice cut-off and to expiry, and why each government made its latest move.

The model package never imports Solara; only this file does.
"""

from __future__ import annotations

import html
import io
import math
import textwrap
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure
from mesa.experimental.scenarios import Scenario
from mesa.visualization import SolaraViz

from model import HEADLINE, PARAMETERS, ConfigError, GSOMIAModel
from model.calendar import add_months, months_between
from model.config import load_config
from model.pact import Pact

REPO = Path(__file__).resolve().parent
CONFIG_DIR = REPO / "configs"
DEFAULT_SCENARIO = "baseline_2019"
DEFAULT_SEED = 1

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

STANCE_CMAP = "RdYlGn_r"  # 0 cooperative (green) .. 1 hard line (red)
TENSION_CMAP = "Reds"
PRESSURE_COLOUR = "#1f5fbf"


# ---- scenarios and inputs -------------------------------------------------------------------
def discover_scenarios(config_dir: Path = CONFIG_DIR) -> dict[str, Path]:
    """Scenario configs by name (file stem): every ``*.toml`` in ``config_dir`` that has a
    ``[scenario]`` table, the default scenario first."""
    found: dict[str, Path] = {}
    for path in sorted(config_dir.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("scenario"), dict):
            found[path.stem] = path
    ordered = sorted(found, key=lambda name: (name != DEFAULT_SCENARIO, name))
    return {name: found[name] for name in ordered}


def parse_seed(value: Any, default: int = DEFAULT_SEED) -> tuple[int, str | None]:
    """The seed typed in the UI as a non-negative int, or ``(default, message)`` when it
    is not one (Mesa passes ``InputText`` values as strings)."""
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int | np.integer) or (isinstance(value, float) and value.is_integer()):
        n = int(value)
    elif isinstance(value, str) and not value.strip():
        return default, f"No seed given: ran with seed {default}."
    elif isinstance(value, str):
        try:
            n = int(value.strip())
        except ValueError:
            n = None
    else:
        n = None
    if n is None or n < 0:
        return default, (
            f"Seed {value!r} is not a whole number ≥ 0: ran with seed {default} instead. "
            "Type digits, e.g. 42, then press Reset."
        )
    return n, None


def slider_step(name: str) -> float:
    """A slider step for a parameter: the coarsest of 1, 0.1, 0.05, 0.01 giving at least
    50 positions on which the default and the lower bound lie exactly."""
    p = PARAMETERS[name]
    low, high = float(p.low), float(p.high)
    for step in (1.0, 0.1, 0.05, 0.01):
        on_grid = all(abs(v / step - round(v / step)) < 1e-9 for v in (low, float(p.default)))
        if (high - low) / step >= 50 and on_grid:
            return step
    return (high - low) / 100


def model_params(scenarios: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """SolaraViz ``model_params``: scenario select, seed, one slider per HEADLINE key."""
    names = list(scenarios if scenarios is not None else discover_scenarios())
    params: dict[str, Any] = {
        "config": {
            "type": "Select",
            "value": DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0],
            "values": names,
            "label": "Scenario",
        },
        "rng": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "Random seed"},
    }
    for name in HEADLINE:
        p = PARAMETERS[name]
        integer = p.kind is int
        params[name] = {
            "type": "SliderInt" if integer else "SliderFloat",
            "value": p.default,
            "min": p.low,
            "max": p.high,
            "step": 1 if integer else slider_step(name),
            "label": name.replace("_", " "),
        }
    return params


def _moved(name: str, value: Any) -> bool:
    """True when a slider value differs from the parameter's default."""
    try:
        return not math.isclose(float(value), float(PARAMETERS[name].default), abs_tol=1e-9)
    except (TypeError, ValueError):
        return True  # not a number: let the model's validation explain it


# ---- the model of the page --------------------------------------------------------------------
class GSOMIAScenario(Scenario):
    """Mesa scenario of the page: which config the run was built from (and its seed).

    Mesa's Reset builds ``type(model)(scenario=GSOMIAScenario(config=...), rng=..., ...)``
    from the controls: keys that are fields here (``config``) go into the scenario.
    """

    config: str = DEFAULT_SCENARIO


class ScenarioModel(GSOMIAModel):
    """A GSOMIAModel built from a scenario config, for the UI.

    ``scenario`` is a config name (``configs/<name>.toml``), a path to a TOML file or a
    :class:`GSOMIAScenario`; ``rng`` the seed as typed; other keywords are parameter
    values from the sliders (applied when they differ from the parameter's default).
    Bad input never raises: it falls back (default seed, baseline config, the scenario's
    own values) and the reason is kept in ``messages`` for the page to show.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | None = None,
        rng: Any = DEFAULT_SEED,
        **overrides: Any,
    ) -> None:
        messages: list[str] = []
        if isinstance(scenario, Scenario):
            scenario = getattr(scenario, "config", None)
        name = DEFAULT_SCENARIO if scenario is None else str(scenario)
        seed, problem = parse_seed(rng)
        if problem:
            messages.append(problem)

        values, name = self._load(name, messages)
        slider_values = {k: v for k, v in overrides.items() if k in HEADLINE and _moved(k, v)}
        ignored = sorted(k for k in overrides if k not in PARAMETERS)
        if ignored:
            messages.append("Ignored unknown setting(s): " + ", ".join(ignored) + ".")
        extra = {k: v for k, v in overrides.items() if k in PARAMETERS and k not in HEADLINE}
        try:
            super().__init__(rng=seed, **(values | extra | slider_values))
        except ConfigError as exc:
            messages.append(f"{exc}. Ran with the scenario's own values instead.")
            slider_values, extra = {}, {}
            super().__init__(rng=seed, **values)
        self.scenario = GSOMIAScenario(config=name, rng=seed)
        self.scenario_name: str = name
        self.config_values: dict[str, Any] = values
        self.slider_values: dict[str, Any] = slider_values | extra
        self.messages: list[str] = messages

    @staticmethod
    def _load(name: str, messages: list[str]) -> tuple[dict[str, Any], str]:
        """The config's constructor keywords; the default scenario if it fails to load."""
        scenarios = discover_scenarios()
        path = scenarios.get(name)
        if path is None and name.endswith(".toml"):
            path = Path(name)
        try:
            if path is None:
                raise ConfigError(
                    f"unknown scenario {name!r}; allowed: " + ", ".join(scenarios or ["(none)"])
                )
            return load_config(path), Path(path).stem
        except ConfigError as exc:
            if name == DEFAULT_SCENARIO:
                raise
            messages.append(f"{exc}. Ran {DEFAULT_SCENARIO} instead.")
            return load_config(CONFIG_DIR / f"{DEFAULT_SCENARIO}.toml"), DEFAULT_SCENARIO


# ---- what the page reads from a model ------------------------------------------------------
def decisive_deadline(model: GSOMIAModel) -> date | None:
    """The date the run's outcome is decided: the lapse date of the first termination
    notice, else the last anniversary inside the run (its automatic renewal)."""
    if model.episode.lapse_date is not None:
        return model.episode.lapse_date
    if model.pact is Pact.NEGOTIATING or not model.episode.ever_active:
        return None
    anniversary = model.calendar.next_anniversary(model.start - timedelta(days=1))
    last = None
    while anniversary <= model.end:
        last = anniversary
        anniversary = model.calendar.next_anniversary(anniversary)
    return last


def deadline_passed(model: GSOMIAModel) -> bool:
    """True once the month of the decisive deadline has been simulated (or the pact
    terminated, or the run ended)."""
    deadline = decisive_deadline(model)
    if model.episode.terminated or not model.running:
        return True
    return deadline is not None and model.date > deadline


def _days(n: int) -> str:
    if n > 0:
        return f"in {n} day{'s' if n != 1 else ''}"
    if n == 0:
        return "today"
    return f"{-n} day{'s' if n != -1 else ''} ago"


def countdown(model: GSOMIAModel) -> list[tuple[str, str]]:
    """``(label, text)`` lines: the notice cut-off and the expiry, counted from the first
    day of the next month to simulate."""
    today = model.date
    cal = model.calendar
    lines: list[tuple[str, str]] = [("As of", f"{today:%d %b %Y} (start of the next month)")]
    if model.pact is Pact.NEGOTIATING:
        signing = model.scheduled_signing
        if signing is not None:
            lines.append(("Signing", f"{signing.isoformat()} ({_days((signing - today).days)})"))
        return lines
    if model.pact is Pact.TERMINATED:
        when = model.lapse_date or model.episode.lapse_date
        lines.append(("Pact", f"terminated{f' on {when.isoformat()}' if when else ''}"))
        return lines
    if model.pact is Pact.NOTICE_PENDING and model.lapse_date is not None:
        lapse = model.lapse_date
        notice = next(
            (e.date for e in reversed(model.timeline) if e.event == "termination_notice"), None
        )
        given = f"given {notice.isoformat()}" if notice else "standing"
        lines.append(("Notice cut-off", f"passed: notice {given}"))
        lines.append(
            (
                "Expiry",
                f"pact lapses at midnight, {lapse.isoformat()} ({_days((lapse - today).days)})",
            )
        )
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
    what = "renewal (suspended notice)" if model.pact is Pact.SUSPENDED else "renewal or expiry"
    lines.append(
        ("Expiry", f"{anniversary.isoformat()} {what} ({_days((anniversary - today).days)})")
    )
    return lines


def outcome_text(model: GSOMIAModel) -> str:
    """The outcome banner's sentence."""
    outcome = model.outcome
    text = OUTCOME_TEXT.get(outcome, outcome.replace("_", " "))
    ep = model.episode
    bits = []
    if ep.lapse_date is not None:
        bits.append(f"deadline {ep.lapse_date.isoformat()}")
    elif (deadline := decisive_deadline(model)) is not None:
        bits.append(f"deadline {deadline.isoformat()}")
    if ep.reversal_action is not None and ep.reversal_month is not None:
        bits.append(f"{ep.reversal_action.replace('_', ' ')} in {ep.reversal_month:%b %Y}")
    months = model.reversal_months_before_expiry
    if months:
        bits.append(f"{months} month{'s' if months != 1 else ''} before expiry")
    return f"Outcome: {text}" + (f" ({'; '.join(bits)})" if bits else "") + "."


def _action_label(action: str) -> str:
    if action.startswith("pressure_seoul="):
        parts = dict(p.split("=") for p in action.split(","))
        tokyo = "on" if parts.get("pressure_tokyo") == "1" else "off"
        return f"press Seoul {parts.get('pressure_seoul')}/3, Tokyo {tokyo}"
    return action.replace("+", " + ").replace("_", " ")


# ---- drawings ----------------------------------------------------------------------------------
def figure_svg(fig: Figure) -> bytes:
    """A matplotlib figure as SVG bytes (cheaper to write than PNG; the browser draws it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def network_signature(model: GSOMIAModel) -> tuple:
    """Everything the network drawing shows (it is redrawn only when this changes)."""
    graph = model.grid.G
    nodes = tuple(round(float(d.get("stance", 0.0)), 4) for _, d in sorted(graph.nodes(data=True)))
    edges = tuple(
        tuple(sorted((k, round(float(v), 4)) for k, v in d.items() if isinstance(v, int | float)))
        for _, _, d in graph.edges(data=True)
    )
    moves = tuple(g.last_move for g in model.governments.values()) if model.steps else ()
    return nodes, edges, moves


def network_figure(model: GSOMIAModel) -> Figure:
    """The actor network: nodes by stance, edges by tension, US pressure as a blue band."""
    graph = model.grid.G
    pos = {cell.coordinate: tuple(cell.position) for cell in model.grid.all_cells}
    stance_map = mpl.colormaps[STANCE_CMAP]
    tension_map = mpl.colormaps[TENSION_CMAP]
    fig = Figure(figsize=(5.6, 3.65), dpi=90)
    ax = fig.add_axes((0.0, 0.0, 0.82, 1.0))
    for u, v, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        pressure = float(data.get("us_pressure", 0.0))
        if pressure > 0:
            ax.plot(
                [x0, x1],
                [y0, y1],
                color=PRESSURE_COLOUR,
                lw=4 + 14 * pressure,
                alpha=0.35,
                solid_capstyle="round",
                zorder=1,
            )
        tension = float(data.get("tension", 0.0))
        ax.plot(
            [x0, x1],
            [y0, y1],
            color=tension_map(0.25 + 0.75 * min(tension, 1.0)),
            lw=2 + 4 * tension,
            zorder=2,
        )
        label = f"{data.get('kind', '')}\ntension {tension:.2f}"
        if "us_pressure" in data:
            label += f"\nUS pressure {pressure:.2f}"
        if data.get("inducement"):
            label += f"\ninducement {float(data['inducement']):.2f}"
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2,
            label,
            fontsize=7,
            ha="center",
            va="center",
            color="#333",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    for node, data in graph.nodes(data=True):
        x, y = pos[node]
        stance = float(data.get("stance", 0.0))
        ax.scatter(
            [x],
            [y],
            s=1500,
            color=stance_map(min(max(stance, 0.0), 1.0)),
            edgecolors="black",
            linewidths=1.2,
            zorder=5,
        )
        government = model.governments.get(str(data.get("name")))
        move = government.last_move if government is not None and model.steps else ""
        ax.text(
            x,
            y,
            f"{str(data.get('name', node)).title()}\n{stance:.2f}",
            fontsize=8,
            ha="center",
            va="center",
            weight="bold",
            zorder=6,
        )
        if move:
            ax.text(
                x,
                y - 0.2 if y <= 0 else y + 0.2,
                textwrap.fill(_action_label(move), 20),
                fontsize=7,
                ha="center",
                va="top" if y <= 0 else "bottom",
                style="italic",
                zorder=6,
            )
    ax.set_xlim(-0.45, 1.45)
    ax.set_ylim(-1.25, 1.25)
    ax.set_axis_off()
    cax = fig.add_axes((0.86, 0.12, 0.03, 0.76))
    sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=stance_map)
    fig.colorbar(sm, cax=cax).set_label("stance (0 cooperative, 1 hard line)", fontsize=8)
    cax.tick_params(labelsize=7)
    return fig


def series_figure(model: GSOMIAModel) -> Figure:
    """Monthly series: opinion share, curb level, US pressure, pact state. Row ``k`` of
    the data collector is the state at the start of month ``start + k``."""
    df = model.datacollector.get_model_vars_dataframe()
    x = np.arange(len(df))
    span = months_between(model.start, model.end) + 1
    fig = Figure(figsize=(6.0, 3.9), dpi=90)
    axes = fig.subplots(4, 1, sharex=True)
    fig.subplots_adjust(left=0.2, right=0.97, top=0.98, bottom=0.13, hspace=0.25)
    axes[0].plot(x, df["opinion_share"], color="#b2182b", marker=".")
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("opinion\n(for ending)", fontsize=8)
    axes[1].step(x, df["curb_level"], where="post", color="#8c510a", marker=".")
    axes[1].set_ylim(-0.2, 2.2)
    axes[1].set_yticks([0, 1, 2], ["none", "targeted", "white list"], fontsize=7)
    axes[1].set_ylabel("curbs", fontsize=8)
    axes[2].step(x, df["us_pressure_seoul"], where="post", color=PRESSURE_COLOUR, marker=".")
    axes[2].step(x, df["us_pressure_tokyo"], where="post", color="#7fbf7f", ls="--")
    axes[2].legend(["on Seoul", "on Tokyo"], fontsize=6, loc="upper left", frameon=False)
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].set_ylabel("US\npressure", fontsize=8)
    states = [p.label for p in Pact]
    codes = [states.index(s) for s in df["pact_state"]]
    axes[3].step(x, codes, where="post", color="black", marker=".")
    axes[3].set_yticks(range(len(states)), [s.replace("_", " ") for s in states], fontsize=7)
    axes[3].set_ylim(-0.5, len(states) - 0.5)
    axes[3].set_ylabel("pact", fontsize=8)
    ticks = list(range(0, span, 3))
    axes[3].set_xticks(ticks, [f"{add_months(model.start, k):%Y-%m}" for k in ticks])
    axes[3].set_xlabel("start of month", fontsize=7)
    deadline = decisive_deadline(model)
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.set_xlim(0, span)
        if deadline is not None:
            where = months_between(model.start, deadline) + (deadline.day - 1) / 30
            ax.axvline(where, color="grey", ls=":", lw=1)
    return fig


# ---- components -------------------------------------------------------------------------------
PANEL_STYLE = {"height": "100%", "overflow": "auto", "padding": "4px 8px"}
TABLE_CSS = (
    "<style>.gsomia-table{border-collapse:collapse;font-size:12px;width:100%}"
    ".gsomia-table td,.gsomia-table th{padding:1px 4px;border-bottom:1px solid #ddd;"
    "text-align:left;vertical-align:top}.gsomia-table th{background:#f3f3f3;color:#222}"
    ".gsomia-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".gsomia-key{font-weight:bold;color:#b2182b}.gsomia-chosen{font-weight:bold;"
    "background:#fff4c2;color:#222}</style>"
)


def StatusPanel(model: GSOMIAModel) -> solara.Element:
    """Outcome banner (once the deadline passed), input messages, state, parameters."""
    with solara.Column(style=PANEL_STYLE, classes=["gsomia-status"]) as main:
        if deadline_passed(model):
            kind = {"terminated": solara.Error, "pending": solara.Warning}.get(
                model.outcome, solara.Success
            )
            kind(outcome_text(model), classes=["gsomia-outcome"], dense=True)
        for message in getattr(model, "messages", []):
            solara.Warning(message, classes=["gsomia-input-error"], dense=True)
        name = getattr(model, "scenario_name", model.name)
        last = add_months(model.date, -1)
        done = f"simulated through {last:%b %Y}" if model.steps else f"starts {model.start:%b %Y}"
        ps, pt = model.us_pressure
        state = {
            "Run": f"scenario {name}, seed {model.seed}: {done} (ends {model.end:%b %Y})",
            "Pact": model.pact.label.replace("_", " "),
            "Curbs": ["none", "targeted", "targeted + white list"][model.curb],
            "US pressure": f"on Seoul {ps}/3, on Tokyo {'on' if pt else 'off'}",
            "Outcome so far": model.outcome.replace("_", " "),
        }
        sliders = getattr(model, "slider_values", {})
        config = getattr(model, "config_values", {})
        cells = []
        for key in HEADLINE:
            source = "slider" if key in sliders else "scenario" if key in config else "default"
            cells.append(
                f"<td>{html.escape(key)}</td><td class='num'>{model.parameters[key]:g}</td>"
                f"<td style='color:#666'>{source}</td>"
            )
        half = (len(cells) + 1) // 2
        pairs = [
            cells[i] + (cells[i + half] if i + half < len(cells) else "<td></td>" * 3)
            for i in range(half)
        ]
        solara.HTML(
            tag="div",
            classes=["gsomia-status-body"],
            unsafe_innerHTML=TABLE_CSS
            + "<table class='gsomia-table gsomia-state'>"
            + "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                for k, v in state.items()
            )
            + "</table><div style='font-weight:bold;margin:6px 0 2px'>Key parameters</div>"
            "<table class='gsomia-table gsomia-params' style='font-size:11px'>"
            + "".join(f"<tr>{row}</tr>" for row in pairs)
            + "</table>",
        )
        solara.Text(
            "Change the scenario, seed or sliders, then press Reset.",
            style={"font-size": "11px", "color": "#666"},
        )
    return main


def NetworkPanel(model: GSOMIAModel) -> solara.Element:
    """The relations network of the four governments."""
    with solara.Column(style=PANEL_STYLE, classes=["gsomia-network"]) as main:
        solara.Text(
            "Actor network: nodes by stance, edges by tension; blue band = US pressure",
            style={"font-weight": "bold"},
        )
        key = (id(model), network_signature(model))
        svg = solara.use_memo(lambda: figure_svg(network_figure(model)), [key])
        rw.Image(value=svg, format="svg+xml")
    return main


def SeriesPanel(model: GSOMIAModel) -> solara.Element:
    """The monthly series."""
    with solara.Column(style=PANEL_STYLE, classes=["gsomia-series"]) as main:
        solara.Text("Monthly series (dotted line: the deadline)", style={"font-weight": "bold"})
        solara.FigureMatplotlib(series_figure(model), format="svg")
    return main


def TimelinePanel(model: GSOMIAModel) -> solara.Element:
    """Countdown to the notice cut-off and to expiry; the dated events, newest first."""
    rows = []
    for e in reversed(model.timeline):
        css = " class='gsomia-key'" if e.event in KEY_EVENTS else ""
        exo = " <i>(exogenous)</i>" if e.extra.get("exogenous") else ""
        rows.append(
            f"<tr{css}><td style='white-space:nowrap'>{e.date.isoformat()}</td>"
            f"<td>{html.escape(e.actor)}</td>"
            f"<td>{html.escape(e.event)}{exo}</td><td>{html.escape(e.detail)}</td></tr>"
        )
    if not rows:
        rows.append("<tr><td colspan='4'>No events yet: press Step.</td></tr>")
    clock = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in countdown(model)
    )
    body = (
        TABLE_CSS
        + f"<table class='gsomia-table gsomia-countdown'>{clock}</table>"
        + "<div style='font-weight:bold;margin:6px 0 2px'>Timeline (newest first)</div>"
        + "<table class='gsomia-table gsomia-timeline'><tr><th>date</th><th>actor</th>"
        "<th>event</th><th>detail</th></tr>" + "".join(rows) + "</table>"
    )
    with solara.Column(style=PANEL_STYLE, classes=["gsomia-timeline-panel"]) as main:
        solara.HTML(tag="div", unsafe_innerHTML=body, classes=["gsomia-timeline-body"])
    return main


def _sign_colour(value: float) -> str:
    return "#1a7f37" if value > 0.005 else "#b2182b" if value < -0.005 else "#777"


def decision_table(model: GSOMIAModel, actor: str) -> str:
    """HTML: the actor's latest decision, each option's probability and expected utility
    by payoff component (this month plus the discounted continuation)."""
    decision = model.governments[actor].last_decision
    if decision is None:
        return f"<div><b>{actor.title()}</b>: no decision yet.</div>"
    head = (
        f"<div style='margin-top:4px'><b>{actor.title()}</b>, {decision.date:%b %Y}: chose "
        f"<b>{html.escape(_action_label(decision.chosen))}</b></div>"
    )
    names = tuple(decision.options[0].immediate) if decision.options else ()
    cols = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in names)
    rows = []
    for o in sorted(decision.options, key=lambda o: -o.expected_utility):
        comps = o.components()
        css = " class='gsomia-chosen'" if o.action == decision.chosen else ""
        cells = "".join(
            f"<td class='num' style='color:{_sign_colour(comps[c])}'>{comps[c]:.2f}</td>"
            for c in names
        )
        rows.append(
            f"<tr{css}><td>{html.escape(_action_label(o.action))}</td>"
            f"<td class='num'>{o.probability:.2f}</td>"
            f"<td class='num'><b>{o.expected_utility:.2f}</b></td>{cells}</tr>"
        )
    return (
        head
        + f"<table class='gsomia-table gsomia-decision' data-actor='{actor}'><tr><th>option</th>"
        f"<th>prob</th><th>EU</th>{cols}</tr>" + "".join(rows) + "</table>"
    )


def make_decision_panel(actors: tuple[str, ...]) -> Callable[[GSOMIAModel], solara.Element]:
    """A component explaining the latest decisions of ``actors``."""

    def DecisionPanel(model: GSOMIAModel) -> solara.Element:
        body = TABLE_CSS + "".join(decision_table(model, a) for a in actors)
        note = (
            "<div style='font-size:11px;color:#666'>Expected utility (EU) of each option, "
            "split by payoff component (this month + discounted future); highlighted: chosen."
            "</div>"
        )
        with solara.Column(style=PANEL_STYLE, classes=["gsomia-decisions"]) as main:
            solara.HTML(tag="div", unsafe_innerHTML=note + body, classes=["gsomia-decisions-body"])
        return main

    DecisionPanel.__name__ = "DecisionPanel_" + "_".join(actors)
    return DecisionPanel


COMPONENT_LIST = [
    StatusPanel,
    NetworkPanel,
    TimelinePanel,
    SeriesPanel,
    make_decision_panel(("seoul", "tokyo")),
    make_decision_panel(("washington", "beijing")),
]


def make_page(model: GSOMIAModel | None = None) -> solara.Element:
    """The SolaraViz page for ``model`` (a fresh default ScenarioModel if None)."""
    if model is None:
        model = ScenarioModel(scenario=DEFAULT_SCENARIO, rng=DEFAULT_SEED)
    return SolaraViz(
        model,
        components=[(c, 0) for c in COMPONENT_LIST],
        model_params=model_params(),
        name="GSOMIA 2019: Seoul, Tokyo, Washington, Beijing",
    )


model = ScenarioModel(scenario=DEFAULT_SCENARIO, rng=DEFAULT_SEED)
page = make_page(model)
page  # noqa: B018
