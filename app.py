"""Browser UI of the GSOMIA model: one run per browser session, its decisions month by month,
and an ensemble over seeds.

Serve it with ``gsomia ui`` or ``make ui`` (offline assets, 127.0.0.1), or with
``solara run app.py``: imported by a Solara server, this module points Solara's CDN proxy at
the repository's ``.solara-assets`` (``make ui-assets``), switches telemetry off and skips
the development-mode call home, so the page renders with no outside request either way.

Every browser session (tab, reload) gets its own model: the page builds it in a per-session
hook, never at module level. Model work (Reset, Step, Play, Run to end, the ensemble) runs in
a per-session background task; the page draws only immutable snapshots (:class:`RunView`)
of the model, so a render never reads a model half-way through a step.

Controls (sidebar): the scenario (every ``configs/*.toml`` with a ``[scenario]`` table, with
its description), the seed, and every parameter of the registry (``model.parameters``) with
its value, unit and meaning: the nine headline ones first, the rest under "Advanced". The
controls show the chosen scenario's own values; a changed control takes effect at Reset.

The page reads the model only through its public API (``monthly()``, ``timeline``,
``explain()``, ``outcome``, ``parameters``, ``grid``); the model package never imports Solara.
"""

from __future__ import annotations

import csv
import html
import io
import math
import multiprocessing as mp
import os
import queue
import signal
import sys
import textwrap
import threading
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import reacton.ipywidgets as rw
import solara
import solara.lab
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from model import HEADLINE, OUTCOMES, PARAMETERS, ConfigError, GSOMIAModel
from model.calendar import (
    PactCalendar,
    add_months,
    anniversaries_between,
    month_end,
    months_between,
    months_from,
    same_month,
)
from model.config import load_config

REPO = Path(__file__).resolve().parent
CONFIG_DIR = REPO / "configs"
ASSETS_DIR = REPO / ".solara-assets"
ASSETS_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"
DEFAULT_SCENARIO = "baseline_2019"
DEFAULT_SEED = 1
DEFAULT_ENSEMBLE_SEEDS = 50
MAX_ENSEMBLE_SEEDS = 500
ENSEMBLE_WORKERS = 2
"""Worker processes of the ensemble panel (at most the machine's cores)."""
PLAY_INTERVAL_S = 0.25
"""Pause between months while playing (so the page can be read as it moves)."""
TITLE = "GSOMIA 2019: Seoul, Tokyo, Washington, Beijing"
ACTORS = ("seoul", "tokyo", "washington", "beijing")

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
PACT_STATES = ("negotiating", "active", "notice_pending", "suspended", "terminated")
CURB_LABELS = ("none", "targeted", "targeted + white list")

STANCE_CMAP = "RdYlGn_r"  # 0 cooperative (green) .. hard line (red)
STANCE_MAX = 1.5
"""Top of the stance colour scale: Seoul's stance is its hardness toward Tokyo (1 with a
standing notice or after a lapse) plus 0.5 for a standing WTO complaint; the others stay
in 0..1. Display only: the model's behaviour does not read it."""
TENSION_CMAP = "Reds"
PRESSURE_COLOUR = "#1f5fbf"


# ---- serving offline (also under a bare `solara run app.py`) ---------------------------------
def configure_offline_serving(assets: Path = ASSETS_DIR) -> list[str]:
    """Make a Solara server that imports this file serve the page with no outside request:
    its CDN proxy reads ``assets`` (unless ``SOLARA_ASSETS_PROXY_CACHE_DIR`` is set), its
    telemetry is off and the development-mode check (an iframe to solara.dev) is skipped.
    Also: no "runs on Solara" banner over the content.
    Returns warnings (e.g. assets missing) for the server log. Harmless outside a server."""
    warnings: list[str] = []
    try:
        import solara.checks
        import solara.server.settings as settings
    except ImportError:  # solara-server not installed: nothing to configure
        return warnings
    settings.telemetry.mixpanel_enable = False
    # Solara's "This website runs on Solara" banner sits over the page's bottom-right corner
    # (and is unreadable in dark mode).
    settings.theme.show_banner = False
    settings.theme.title = TITLE
    # The check page is an <iframe> to solara.dev in development mode; never phone home.
    solara.checks.should_perform_solara_check = lambda: False
    configured = os.environ.get(ASSETS_ENV)
    directory = Path(configured).resolve() if configured else assets
    if not configured:
        settings.assets.proxy_cache_dir = directory
    if not (directory / "requirejs@2.3.6").is_dir():
        warnings.append(
            f"gsomia app: the offline UI assets are missing from {directory}; run "
            "`make ui-assets` (see docs/ui-offline.md), or the page stays blank offline."
        )
    return warnings


for _warning in configure_offline_serving():
    print(_warning, file=sys.stderr)


# ---- numbers and labels ------------------------------------------------------------------------
def num(value: float | None, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals; a value that rounds to zero prints unsigned
    ("0.00", never "-0.00"); None prints as an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:.{digits}f}"
    return f"{0.0:.{digits}f}" if float(text) == 0 else text


def action_label(action: str) -> str:
    """A move as a reader says it ("raise pressure + press tokyo", "conditional
    suspension")."""
    return action.replace("+", " + ").replace("_", " ")


def param_label(name: str) -> str:
    """A parameter name as a control label."""
    return name.replace("_", " ")


def format_value(name: str, value: Any) -> str:
    """A parameter value with its unit, e.g. ``0.35 u/month per pressure level``."""
    p = PARAMETERS[name]
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, bool) or p.kind is str:
        text = str(value)
    elif p.kind is int:
        text = f"{int(value):,}"
    else:
        text = f"{float(value):g}"
    return f"{text} {p.unit}".strip()


# ---- scenarios and inputs ----------------------------------------------------------------------
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


def scenario_description(path: Path) -> str:
    """The scenario's description: the comment block at the top of its config file."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if lines or stripped:
                break
            continue
        text = stripped.lstrip("#").strip()
        if text.startswith(("Keys are", "gsomia ", "No government move")):
            break
        lines.append(text)
    return " ".join(lines).strip()


def scenario_values(name: str, scenarios: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """Every parameter's value in scenario ``name`` (the registry default unless its config
    sets it): what the controls show when the scenario is picked."""
    scenarios = discover_scenarios() if scenarios is None else scenarios
    config = load_config(scenarios[name])
    return {k: config.get(k, p.default) for k, p in PARAMETERS.items()}


def parse_seed(value: Any, default: int = DEFAULT_SEED) -> tuple[int, str | None]:
    """The seed typed in the UI as a non-negative int, or ``(default, message)`` when it
    is not one."""
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
    """A slider step for a parameter: the coarsest of 1, 0.1, 0.05, 0.01, 0.005, 0.001
    giving at least 50 positions on which the default and the lower bound lie exactly."""
    p = PARAMETERS[name]
    low, high = float(p.low), float(p.high)
    for step in (1.0, 0.1, 0.05, 0.01, 0.005, 0.001):
        on_grid = all(abs(v / step - round(v / step)) < 1e-9 for v in (low, float(p.default)))
        if (high - low) / step >= 50 and on_grid:
            return step
    return (high - low) / 100


def control_kind(name: str) -> str:
    """How a parameter is set on the page: ``slider``, ``int`` (a number field, for
    integer ranges too wide to slide), ``select``, ``date`` or ``text``."""
    p = PARAMETERS[name]
    if p.choices is not None:
        return "select"
    if p.kind is date:
        return "date"
    if p.kind is str:
        return "text"
    if p.kind is int and p.high is not None and p.low is not None and p.high - p.low > 1000:
        return "int"
    return "slider"


ADVANCED = tuple(k for k in PARAMETERS if k not in HEADLINE and k != "name")
"""Every other settable parameter (the scenario name is the scenario picker's)."""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), abs_tol=1e-12)
    return a == b


class ScenarioModel(GSOMIAModel):
    """A GSOMIAModel built from a scenario config and the page's controls.

    ``scenario`` is a config name (``configs/<name>.toml``); ``rng`` the seed as typed;
    other keywords are control values, applied where they differ from the scenario's own
    value (so controls showing the scenario change nothing). Bad input never raises: it
    falls back (default seed, baseline config, the scenario's own values) and the reason
    is kept in ``messages`` for the page to show.
    """

    def __init__(
        self, scenario: str | None = None, rng: Any = DEFAULT_SEED, **overrides: Any
    ) -> None:
        messages: list[str] = []
        name = DEFAULT_SCENARIO if scenario is None else str(scenario)
        seed, problem = parse_seed(rng)
        if problem:
            messages.append(problem)
        config, name = self._load(name, messages)
        own = {k: config.get(k, p.default) for k, p in PARAMETERS.items()}
        ignored = sorted(k for k in overrides if k not in PARAMETERS)
        if ignored:
            messages.append("Ignored unknown setting(s): " + ", ".join(ignored) + ".")
        changed = {
            k: v
            for k, v in overrides.items()
            if k in PARAMETERS and k != "name" and not _same(v, own[k])
        }
        try:
            super().__init__(rng=seed, **(config | changed))
        except ConfigError as exc:
            messages.append(f"{exc}. Ran with the scenario's own values instead.")
            changed = {}
            super().__init__(rng=seed, **config)
        self.scenario_name: str = name
        self.config_values: dict[str, Any] = config
        self.changed_values: dict[str, Any] = changed
        self.messages: list[str] = messages

    @property
    def run_params(self) -> dict[str, Any]:
        """Constructor keywords reproducing this run with any seed (config + changes)."""
        return self.config_values | self.changed_values

    @staticmethod
    def _load(name: str, messages: list[str]) -> tuple[dict[str, Any], str]:
        """The config's constructor keywords; the default scenario if it fails to load."""
        scenarios = discover_scenarios()
        path = scenarios.get(name)
        try:
            if path is None:
                raise ConfigError(
                    f"unknown scenario {name!r}; allowed: " + ", ".join(scenarios or ["(none)"])
                )
            return load_config(path), name
        except ConfigError as exc:
            if name == DEFAULT_SCENARIO:
                raise
            messages.append(f"{exc}. Ran {DEFAULT_SCENARIO} instead.")
            return load_config(CONFIG_DIR / f"{DEFAULT_SCENARIO}.toml"), DEFAULT_SCENARIO


# ---- a snapshot of the run: everything the page draws ------------------------------------------
@dataclass(frozen=True)
class RunView:
    """An immutable snapshot of a run, taken after each model operation. The page draws
    only from it, so a render never reads a model that a background task is stepping."""

    scenario: str
    seed: int
    messages: tuple[str, ...]
    parameters: Mapping[str, Any]
    changed: Mapping[str, Any]
    run_params: Mapping[str, Any]
    start: date
    end: date
    months_done: int
    total_months: int
    monthly: pd.DataFrame
    timeline: tuple[Any, ...]
    decisions: tuple[Any, ...]
    outcome: str
    reversal_months: int | None
    network: tuple[tuple, tuple]
    token: int = 0

    @property
    def running(self) -> bool:
        """True while months remain to simulate."""
        return self.months_done < self.total_months

    @property
    def months(self) -> list[date]:
        """First days of the months simulated so far."""
        return months_from(self.start, self.months_done)

    @property
    def next_month(self) -> date:
        """First day of the next month to simulate (or after the end)."""
        return add_months(self.start, self.months_done)

    @property
    def pact_state(self) -> str:
        """The pact's state now (after the last simulated month)."""
        return str(self.monthly["pact_state"].iloc[-1])


_TOKENS = iter(range(1, 2**62))


def make_view(model: GSOMIAModel) -> RunView:
    """Snapshot ``model`` (a GSOMIAModel or ScenarioModel) through its public API."""
    df = model.monthly().reset_index()
    graph = model.grid.G
    pos = {cell.coordinate: tuple(map(float, cell.position)) for cell in model.grid.all_cells}
    last_moves = {}
    for actor in ACTORS:
        mine = model.explain(actor)
        last_moves[actor] = mine[-1].chosen if mine else ""
    nodes = tuple(
        (
            str(data.get("name", node)),
            pos[node],
            float(data.get("stance", 0.0)),
            last_moves.get(str(data.get("name")), ""),
        )
        for node, data in sorted(graph.nodes(data=True))
    )
    edges = tuple(
        (
            pos[u],
            pos[v],
            tuple(
                sorted((k, val) for k, val in data.items() if isinstance(val, int | float | str))
            ),
        )
        for u, v, data in graph.edges(data=True)
    )
    return RunView(
        scenario=getattr(model, "scenario_name", model.parameters.get("name", "")),
        seed=int(model.seed),
        messages=tuple(getattr(model, "messages", ())),
        parameters=dict(model.parameters),
        changed=dict(getattr(model, "changed_values", {})),
        run_params=dict(getattr(model, "run_params", model.parameters)),
        start=model.start,
        end=model.end,
        months_done=len(df) - 1,
        total_months=months_between(model.start, model.end) + 1,
        monthly=df,
        timeline=tuple(model.timeline),
        decisions=tuple(model.explain()),
        outcome=model.outcome,
        reversal_months=model.reversal_months_before_expiry,
        network=(nodes, edges),
        token=next(_TOKENS),
    )


# ---- the pact's calendar as the page shows it --------------------------------------------------
def _calendar(view: RunView) -> PactCalendar:
    """The pact's calendar: from the signing date, or the date it was signed in the run."""
    signed = [e.date for e in view.timeline if e.event == "pact_signed"]
    return PactCalendar(signed[-1] if signed else view.parameters["signing_date"])


def first_notice(view: RunView) -> date | None:
    """Day of the run's first termination notice (given in the run, or standing at start)."""
    for e in view.timeline:
        if e.event == "termination_notice":
            return e.date
    if view.parameters["pact_state"] in ("notice_pending", "suspended"):
        return view.parameters["notice_date"]
    return None


def decisive_deadline(view: RunView) -> date | None:
    """The date the run's outcome is decided: the lapse date of the first termination
    notice, else the last anniversary inside the run (its automatic renewal)."""
    cal = _calendar(view)
    notice = first_notice(view)
    if notice is not None:
        return cal.lapse_date_for_notice(notice)
    if view.parameters["pact_state"] == "negotiating" and not any(
        e.event == "pact_signed" for e in view.timeline
    ):
        return None
    found = anniversaries_between(cal, view.start, month_end(view.end))
    return found[-1] if found else None


def deadline_passed(view: RunView) -> bool:
    """True once the month of the decisive deadline has been simulated (or the pact
    terminated, or the run ended)."""
    if not view.running or view.pact_state == "terminated":
        return True
    deadline = decisive_deadline(view)
    return deadline is not None and view.next_month > deadline


def _days(n: int) -> str:
    if n > 0:
        return f"in {n} day{'s' if n != 1 else ''}"
    if n == 0:
        return "today"
    return f"{-n} day{'s' if n != -1 else ''} ago"


def countdown(view: RunView) -> list[tuple[str, str]]:
    """``(label, text)`` lines: the notice cut-off and the expiry, counted from the first
    day of the next month to simulate."""
    today = view.next_month
    cal = _calendar(view)
    state = view.pact_state
    lines: list[tuple[str, str]] = [("As of", f"{today:%d %b %Y} (start of the next month)")]
    if state == "negotiating":
        signing = view.parameters["signing_date"]
        postponed = [e for e in view.timeline if e.event == "signing_postponed"]
        if postponed:
            months = int(view.parameters["postpone_months"])
            signing = add_months(postponed[-1].date, months)
        lines.append(("Signing", f"{signing.isoformat()} ({_days((signing - today).days)})"))
        return lines
    if state == "terminated":
        lapsed = [e.date for e in view.timeline if e.event == "pact_terminated"]
        when = f" on {lapsed[-1].isoformat()}" if lapsed else ""
        lines.append(("Pact", f"terminated{when}"))
        return lines
    notice = [e.date for e in view.timeline if e.event == "termination_notice"]
    if state == "notice_pending":
        given = notice[-1] if notice else view.parameters["notice_date"]
        lapse = cal.lapse_date_for_notice(given)
        lines.append(("Notice cut-off", f"passed: notice given {given.isoformat()}"))
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
    what = "renewal (suspended notice)" if state == "suspended" else "renewal or expiry"
    lines.append(
        ("Expiry", f"{anniversary.isoformat()} {what} ({_days((anniversary - today).days)})")
    )
    return lines


def outcome_text(view: RunView) -> str:
    """The outcome banner's sentence."""
    text = OUTCOME_TEXT.get(view.outcome, view.outcome.replace("_", " "))
    bits = []
    deadline = decisive_deadline(view)
    if deadline is not None:
        bits.append(f"deadline {deadline.isoformat()}")
    reversal = next(
        (e for e in view.timeline if e.event in ("conditional_suspension", "rescind_notice")),
        None,
    )
    if reversal is not None and first_notice(view) is not None:
        bits.append(f"{reversal.event.replace('_', ' ')} on {reversal.date.isoformat()}")
    months = view.reversal_months
    if months:
        bits.append(f"{months} month{'s' if months != 1 else ''} before expiry")
    return f"Outcome: {text}" + (f" ({'; '.join(bits)})" if bits else "") + "."


def outcome_so_far(view: RunView) -> str:
    """What the status says before the deadline: nothing is decided until a notice."""
    if deadline_passed(view):
        return view.outcome.replace("_", " ")
    notice = first_notice(view)
    if notice is None:
        return "open: no termination notice yet"
    return f"open: notice given {notice.isoformat()}; decided at the deadline"


def decisions_in(view: RunView, month: date) -> dict[str, Any]:
    """Each government's decision in ``month`` (actor -> Decision)."""
    return {d.actor: d for d in view.decisions if same_month(d.date, month)}


def month_label(view: RunView, month: date) -> str:
    """The month picker's entry: the month and the governments' moves in it, so that the
    picker reads as a timeline ("Nov 2019: conditional_suspension, talks_offer, ...")."""
    moves = []
    for e in view.timeline:
        if same_month(e.date, month) and not e.extra.get("exogenous") and e.event not in moves:
            moves.append(e.event)
    return f"{month:%b %Y}" + (f": {', '.join(moves)}" if moves else "")


def month_row(view: RunView, month: date) -> pd.Series:
    """The monthly series' row for the end of ``month``."""
    k = months_between(view.start, month) + 1
    return view.monthly.iloc[k]


# ---- drawings ----------------------------------------------------------------------------------
def figure_svg(fig: Figure) -> bytes:
    """A matplotlib figure as SVG bytes (the browser draws it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def figure_png(fig: Figure, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes (for download)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _edge_label(data: Mapping[str, Any], pair: str = "") -> str:
    tension = num(float(data.get("tension", 0.0)))
    label = f"{pair}\n" if pair else ""
    label += f"{data.get('kind', '')}, tension {tension}"
    if "us_pressure" in data:
        label += f"\nUS pressure {num(float(data['us_pressure']))}"
    if data.get("inducement"):
        label += f"\ninducement {num(float(data['inducement']))}"
    return label


LABEL_SPOTS = tuple(0.5 + sign * k / 40 for k in range(15) for sign in (-1, 1))[1:]
"""Where along an edge its label may sit (share of the way), in order of preference."""


def _overlap_area(box: Any, others: Sequence[Any], pad: float = 4.0) -> float:
    """Display area (px²) shared by ``box``, grown by ``pad``, with ``others``."""
    total = 0.0
    for o in others:
        w = min(box.x1 + pad, o.x1) - max(box.x0 - pad, o.x0)
        h = min(box.y1 + pad, o.y1) - max(box.y0 - pad, o.y0)
        total += max(0.0, w) * max(0.0, h)
    return total


def network_figure(view: RunView) -> Figure:
    """The actor network: nodes by stance, edges by tension, US pressure as a blue band.
    Edge labels are placed where they overlap neither another label nor a node."""
    nodes, pairs = view.network
    edges = [(a, b, dict(items)) for a, b, items in pairs]
    stance_map = mpl.colormaps[STANCE_CMAP]
    tension_map = mpl.colormaps[TENSION_CMAP]
    norm = mpl.colors.Normalize(0.0, STANCE_MAX)
    fig = Figure(figsize=(5.8, 3.9), dpi=90)
    FigureCanvasAgg(fig)  # a renderer to measure the labels with
    ax = fig.add_axes((0.0, 0.0, 0.8, 1.0))
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-1.3, 1.3)
    ax.set_axis_off()
    node_size = 1500
    renderer = fig.canvas.get_renderer()
    radius = math.sqrt(node_size) / 2 * fig.dpi / 72
    taken = []
    for _name, (x, y), _stance, _move in nodes:
        cx, cy = ax.transData.transform((x, y))
        taken.append(mpl.transforms.Bbox([[cx - radius, cy - radius], [cx + radius, cy + radius]]))
    for (x0, y0), (x1, y1), data in edges:
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
    at = {position: name.title() for name, position, _stance, _move in nodes}
    names = {(a, b): f"{at.get(a, '')}–{at.get(b, '')}" for a, b, _data in edges}
    for (x0, y0), (x1, y1), data in edges:
        text = ax.text(
            0,
            0,
            _edge_label(data, pair=names.get(((x0, y0), (x1, y1)), "")),
            fontsize=7,
            ha="center",
            va="center",
            color="#333",
            zorder=4,
            gid="edge-label",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )
        spots = []
        for t in LABEL_SPOTS:
            text.set_position((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
            box = text.get_window_extent(renderer)
            spots.append((_overlap_area(box, taken), t, box))
            if not spots[-1][0]:
                break
        _area, t, box = min(spots, key=lambda s: s[0])  # the first free spot, or the least bad
        text.set_position((x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
        taken.append(box)
    for name, (x, y), stance, move in nodes:
        ax.scatter(
            [x],
            [y],
            s=node_size,
            color=stance_map(norm(min(max(stance, 0.0), STANCE_MAX))),
            edgecolors="black",
            linewidths=1.2,
            zorder=5,
        )
        ax.text(
            x,
            y,
            f"{name.title()}\n{num(stance)}",
            fontsize=8,
            ha="center",
            va="center",
            weight="bold",
            zorder=6,
        )
        if move:
            ax.text(
                x,
                y - 0.22 if y <= 0 else y + 0.22,
                textwrap.fill(action_label(move), 20),
                fontsize=7,
                ha="center",
                va="top" if y <= 0 else "bottom",
                style="italic",
                zorder=6,
            )
    cax = fig.add_axes((0.84, 0.12, 0.03, 0.76))
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=stance_map)
    bar = fig.colorbar(sm, cax=cax, extend="max" if any(n[2] > STANCE_MAX for n in nodes) else None)
    bar.set_label("stance (0 cooperative, 1 hard line,\n+0.5 Seoul's WTO complaint)", fontsize=7)
    cax.tick_params(labelsize=7)
    return fig


def _month_ends(view: RunView) -> list[date]:
    """The date of each row of the monthly series: the end of the month it closes (row 0:
    the day before the start)."""
    return [date.fromisoformat(str(d)) for d in view.monthly["date"]]


def series_figure(view: RunView, highlight: date | None = None) -> Figure:
    """Monthly series on a calendar axis: row ``k`` is the state at the end of month
    ``start + k - 1``, drawn over that month (a step that holds from the month's start),
    so a move made in November shows in November, before a deadline on Nov 23."""
    df = view.monthly
    x = _month_ends(view)
    fig = Figure(figsize=(6.2, 4.1), dpi=90)
    axes = fig.subplots(4, 1, sharex=True)
    fig.subplots_adjust(left=0.2, right=0.97, top=0.98, bottom=0.1, hspace=0.25)
    axes[0].plot(x, df["opinion_share"], color="#b2182b", marker=".", gid="opinion")
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("opinion\n(for ending)", fontsize=8)
    axes[1].step(x, df["curb_level"], where="pre", color="#8c510a", gid="curbs")
    axes[1].set_ylim(-0.2, 2.2)
    axes[1].set_yticks([0, 1, 2], ["none", "targeted", "white list"], fontsize=7)
    axes[1].set_ylabel("curbs", fontsize=8)
    axes[2].step(x, df["us_pressure_seoul"], where="pre", color=PRESSURE_COLOUR, gid="pressure")
    axes[2].step(x, df["us_pressure_tokyo"], where="pre", color="#7fbf7f", ls="--")
    axes[2].legend(["on Seoul", "on Tokyo"], fontsize=6, loc="upper left", frameon=False)
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].set_ylabel("US\npressure", fontsize=8)
    codes = [PACT_STATES.index(s) if s in PACT_STATES else -1 for s in df["pact_state"]]
    axes[3].step(x, codes, where="pre", color="black", gid="pact")
    axes[3].set_yticks(range(len(PACT_STATES)), [s.replace("_", " ") for s in PACT_STATES])
    axes[3].set_ylim(-0.5, len(PACT_STATES) - 0.5)
    axes[3].set_ylabel("pact", fontsize=8)
    axes[3].xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    axes[3].xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    deadline = decisive_deadline(view)
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.set_xlim(view.start - timedelta(days=1), month_end(view.end))
        if deadline is not None:
            ax.axvline(deadline, color="grey", ls=":", lw=1, gid="deadline")
        if highlight is not None:
            ax.axvspan(highlight, month_end(highlight), color="#f0c000", alpha=0.2, lw=0)
    return fig


# ---- tables ------------------------------------------------------------------------------------
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


def _rows(pairs: Sequence[tuple[str, str]]) -> str:
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
        + f"<div><table class='gsomia-table gsomia-month-state'>{_rows(state_pairs(view, month))}"
        + "</table></div>"
        + f"<div><div style='font-weight:bold'>Events in {month:%B %Y}</div>"
        + timeline_html(view, month)
        + "</div></div>"
        + "<div style='font-size:11px;opacity:.75;margin:6px 0'>Expected utility (EU) of each "
        "option, split by payoff component (this month + discounted future); highlighted: "
        "the option chosen.</div>" + f"<div class='gsomia-decision-grid'>{tables}</div>"
    )


# ---- export ------------------------------------------------------------------------------------
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


# ---- the ensemble ------------------------------------------------------------------------------
BAND_SERIES = ("opinion_share", "us_pressure_seoul")


def ensemble_members(params: Mapping[str, Any], seeds: Sequence[int]) -> Iterator[dict[str, Any]]:
    """The ensemble's seeds one after another: the sweep machinery's runs of one parameter
    vector (``run_many``: each run's named outcomes and the monthly series the bands
    need), as each finishes."""
    import experiments.runner

    runs = experiments.runner.run_many(params, seeds, BAND_SERIES)
    for seed, out in zip(seeds, runs, strict=True):
        yield {"seed": int(seed)} | out


@dataclass(frozen=True)
class EnsembleView:
    """The ensemble so far: per-seed rows (as they finish) and how many were asked for."""

    label: str
    requested: int
    rows: tuple[dict[str, Any], ...] = ()
    cancelled: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Runs finished."""
        return len(self.rows)


def ensemble_table(ens: EnsembleView) -> pd.DataFrame:
    """Outcome shares with 95% Wilson intervals (the sweep analysis' ``wilson``)."""
    from experiments.analysis import wilson

    n = ens.done
    counts = pd.Series([r["outcome"] for r in ens.rows], dtype=object).value_counts()
    rows = []
    for outcome in OUTCOMES:
        k = int(counts.get(outcome, 0))
        lo, hi = wilson(k, n)
        rows.append(
            {
                "outcome": outcome,
                "runs": k,
                "share": k / n if n else math.nan,
                "lo95": lo,
                "hi95": hi,
            }
        )
    return pd.DataFrame(rows)


def ensemble_runs_table(ens: EnsembleView) -> pd.DataFrame:
    """One row per finished seed: the sweep runner's named outcomes."""
    return pd.DataFrame(
        [{k: v for k, v in r.items() if k not in ("series", "dates")} for r in ens.rows]
    )


def reversal_histogram(ens: EnsembleView) -> dict[str, int]:
    """Runs by reversal timing: months before expiry (``0`` = the expiry month), plus
    lapses with no reversal."""
    out: dict[str, int] = {}
    lapsed = 0
    for r in ens.rows:
        m = r.get("reversal_months_before_expiry")
        if m is None or (isinstance(m, float) and math.isnan(m)):
            lapsed += r["outcome"] == "terminated"
            continue
        out[str(int(m))] = out.get(str(int(m)), 0) + 1
    ordered = {k: out[k] for k in sorted(out, key=int, reverse=True)}
    return {"lapsed, no reversal": lapsed} | ordered


def ensemble_bands(ens: EnsembleView, name: str) -> pd.DataFrame:
    """Median and 5–95% band of series ``name`` by month over the finished seeds."""
    if not ens.rows:
        return pd.DataFrame(columns=["date", "p5", "median", "p95"])
    data = np.vstack([r["series"][name] for r in ens.rows])
    q = np.percentile(data, [5, 50, 95], axis=0)
    return pd.DataFrame({"date": ens.rows[0]["dates"], "p5": q[0], "median": q[1], "p95": q[2]})


def ensemble_csv(ens: EnsembleView) -> str:
    """The ensemble's tables as one CSV: outcome shares, then one row per seed."""
    shares = ensemble_table(ens).to_csv(index=False)
    runs = ensemble_runs_table(ens).to_csv(index=False)
    return f"# outcome shares over {ens.done} seeds ({ens.label})\n{shares}\n# runs\n{runs}"


def ensemble_figure(ens: EnsembleView) -> Figure:
    """Outcome shares with 95% Wilson intervals, reversal timing, and the opinion and
    US-pressure bands (median, 5–95%) over months."""
    fig = Figure(figsize=(10.5, 3.6), dpi=90)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1.2, 1.0, 1.2, 1.2]})
    fig.subplots_adjust(left=0.06, right=0.99, top=0.9, bottom=0.3, wspace=0.45)
    table = ensemble_table(ens)
    shares = table["share"].fillna(0).to_numpy()
    err = np.vstack(
        [shares - table["lo95"].fillna(0).to_numpy(), table["hi95"].fillna(0).to_numpy() - shares]
    )
    ax = axes[0]
    ax.bar(range(len(table)), shares, yerr=np.clip(err, 0, None), color="#6a8fc7", capsize=3)
    ax.set_xticks(range(len(table)), [o.replace("_", "\n") for o in table["outcome"]], fontsize=6)
    ax.set_ylim(0, 1)
    ax.set_title(f"outcomes ({ens.done} seeds, 95% CI)", fontsize=8)
    hist = reversal_histogram(ens)
    ax = axes[1]
    labels = [
        k if not k.isdigit() else ("expiry\nmonth" if k == "0" else f"{k} mo\nbefore") for k in hist
    ]
    labels[0] = "lapsed,\nno rev."
    ax.bar(range(len(hist)), list(hist.values()), color="#b2182b")
    ax.set_xticks(range(len(hist)), labels, fontsize=6)
    ax.set_title("reversal timing (runs)", fontsize=8)
    for ax, name, title, colour in (
        (axes[2], "opinion_share", "opinion for ending", "#b2182b"),
        (axes[3], "us_pressure_seoul", "US pressure on Seoul", PRESSURE_COLOUR),
    ):
        bands = ensemble_bands(ens, name)
        if len(bands):
            x = [date.fromisoformat(d) for d in bands["date"]]
            ax.fill_between(x, bands["p5"], bands["p95"], color=colour, alpha=0.25, step="pre")
            ax.step(x, bands["median"], where="pre", color=colour)
            ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{title}: median, 5–95%", fontsize=8)
    for ax in axes:
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    return fig


def ensemble_html(ens: EnsembleView) -> str:
    """The outcome-share table."""
    rows = "".join(
        f"<tr><td>{r.outcome.replace('_', ' ')}</td><td class='num'>{r.runs}</td>"
        f"<td class='num'>{num(100 * r.share, 0)}%</td>"
        f"<td class='num'>{num(100 * r.lo95, 0)}–{num(100 * r.hi95, 0)}%</td></tr>"
        for r in ensemble_table(ens).itertuples()
    )
    return (
        TABLE_CSS + "<table class='gsomia-table gsomia-ensemble-table' style='width:auto'><tr>"
        "<th>outcome</th><th>runs</th><th>share</th><th>95% CI (Wilson)</th></tr>"
        + rows
        + "</table>"
    )


def run_ensemble(
    params: Mapping[str, Any],
    seeds: Sequence[int],
    label: str,
    keep_going: Callable[[], bool] = lambda: True,
    progress: Callable[[int, int], None] = lambda done, total: None,
    workers: int = 1,
) -> Iterator[EnsembleView]:
    """Run ``seeds``, yielding the ensemble (rows in seed order) after each finished run;
    stops (with ``cancelled`` set) as soon as ``keep_going()`` is false. With ``workers``
    > 1 the seeds are shared among that many worker processes; the rows are the same."""
    seeds = [int(s) for s in seeds]
    total = len(seeds)
    rows: list[dict[str, Any]] = []

    def view(cancelled: bool = False) -> EnsembleView:
        ordered = tuple(sorted(rows, key=lambda r: r["seed"]))
        return EnsembleView(label, total, ordered, cancelled, params)

    if workers <= 1 or total < 2 or "fork" not in mp.get_all_start_methods():
        members = ensemble_members(params, seeds)
        for _ in seeds:
            if not keep_going():
                yield view(cancelled=True)
                return
            rows.append(next(members))
            progress(len(rows), total)
            yield view()
        return
    for row in _parallel_members(params, seeds, workers, keep_going):
        rows.append(row)
        progress(len(rows), total)
        yield view()
    if len(rows) < total:
        yield view(cancelled=True)


def _member_worker(params: Mapping[str, Any], seeds: Sequence[int], out: Any) -> None:
    """A forked worker: run ``seeds`` and put each row (or the first error) on ``out``."""
    # The server's handlers (uvicorn's SIGTERM sets a flag only its event loop reads) came
    # along with the fork: restore the defaults, so that terminate() stops this worker.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    members = ensemble_members(params, seeds)
    for seed in seeds:
        try:
            out.put(("row", next(members)))
        except Exception as exc:  # reported by the parent, which stops the ensemble
            out.put(("error", f"seed {seed}: {type(exc).__name__}: {exc}"))
            return
    out.put(("done", None))


def _parallel_members(
    params: Mapping[str, Any], seeds: list[int], workers: int, keep_going: Callable[[], bool]
) -> Iterator[dict[str, Any]]:
    """Rows of ``seeds`` from ``workers`` forked processes, as they finish.

    Fork, because the page is a script (``solara run`` executes it as ``__main__``), so its
    worker function cannot be pickled by name for a spawned pool. Forking a threaded server
    is safe here because the children only compute: everything they use is imported before
    the fork, they touch no lock of the server's threads, and they report through a queue.
    Cancelling (or leaving) terminates them."""
    import experiments.calibration
    import experiments.runner  # noqa: F401  (imported before the fork)

    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_member_worker, args=(dict(params), seeds[i::workers], out), daemon=True)
        for i in range(min(workers, len(seeds)))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded, use of fork()"
        for proc in procs:
            proc.start()
    finished = 0
    try:
        while finished < len(procs):
            if not keep_going():
                return
            try:
                kind, payload = out.get(timeout=0.2)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    code = dead[0].exitcode
                    raise RuntimeError(f"an ensemble worker died (exit code {code})") from None
                continue
            if kind == "row":
                yield payload
            elif kind == "error":
                raise RuntimeError(payload)
            else:
                finished += 1
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


# ---- the page ----------------------------------------------------------------------------------
class Session:
    """One browser session's model and its latest snapshot. Only the session's background
    task touches the model, one operation at a time (a Reset pressed while playing waits
    for the month being simulated); the page reads ``view``."""

    def __init__(self) -> None:
        self.model: ScenarioModel | None = None
        self.view: RunView | None = None
        self._lock = threading.Lock()

    def reset(
        self,
        scenario: str,
        seed: Any,
        values: Mapping[str, Any],
        keep_going: Callable[[], bool] = lambda: True,
    ) -> RunView:
        """Build a fresh model from the controls (unless superseded meanwhile)."""
        model = ScenarioModel(scenario=scenario, rng=seed, **dict(values))
        with self._lock:
            if keep_going() or self.model is None:
                self.model = model
                self.view = make_view(model)
            return self.view

    def step(self, keep_going: Callable[[], bool] = lambda: True) -> RunView:
        """Simulate one month (nothing after the end, nothing once superseded)."""
        with self._lock:
            model = self.model
            if model is None:
                raise RuntimeError("no model yet")
            if model.running and keep_going():
                model.step()
            self.view = make_view(model)
            return self.view

    def finish(self, keep_going: Callable[[], bool] = lambda: True) -> RunView:
        """Simulate every remaining month (while ``keep_going()``), one snapshot at the end."""
        with self._lock:
            model = self.model
            if model is None:
                raise RuntimeError("no model yet")
            while model.running and keep_going():
                model.step()
            self.view = make_view(model)
            return self.view


def _pending_changes(view: RunView, scenario: str, seed: str, values: Mapping[str, Any]) -> bool:
    if scenario != view.scenario or parse_seed(seed)[0] != view.seed:
        return True
    return any(not _same(v, view.parameters.get(k)) for k, v in values.items() if k != "name")


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
    with solara.Column(gap="0px", classes=["gsomia-param"], style={"margin-bottom": "6px"}):
        solara.Text(
            f"{param_label(name)}: {format_value(name, value)}",
            classes=["gsomia-param-value"],
            style={"font-size": "13px", "font-weight": "600"},
        )
        if kind == "slider":
            if p.kind is int:
                solara.SliderInt(
                    "",
                    value=int(value),
                    min=int(p.low),
                    max=int(p.high),
                    on_value=set_value,
                    disabled=disabled,
                )
            else:
                solara.SliderFloat(
                    "",
                    value=float(value),
                    min=float(p.low),
                    max=float(p.high),
                    step=slider_step(name),
                    on_value=set_value,
                    disabled=disabled,
                )
        elif kind == "int":
            solara.InputInt("", value=int(value), on_value=set_value, disabled=disabled)
        elif kind == "select":
            solara.Select("", values=list(p.choices), value=value, on_value=set_value)
        elif kind == "date":
            solara.InputText(
                "YYYY-MM-DD",
                value=value.isoformat() if isinstance(value, date) else str(value),
                on_value=lambda text: set_value(_parse_date(text)),
                disabled=disabled,
            )
        else:
            solara.InputText("", value=str(value), on_value=set_value, disabled=disabled)
        rng = f" Range {p.low:g}–{p.high:g}." if p.low is not None and p.high is not None else ""
        solara.Text(
            f"{p.meaning}{rng} Default {format_value(name, p.default)}.",
            classes=["gsomia-param-help"],
            style={"font-size": "11px", "opacity": "0.75", "line-height": "1.25"},
        )


def _parse_date(text: str) -> date | str:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return text  # the model's validation names the key and the format at Reset


def _image(svg: bytes, cls: str) -> None:
    with solara.Column(classes=[cls], style={"min-width": "0"}):
        rw.Image(value=svg, format="svg+xml", layout={"max_width": "100%"})


@solara.component
def FigureImage(build: Callable[[], Figure], key: Any, cls: str) -> None:
    """A figure drawn as SVG, redrawn only when ``key`` changes."""
    svg = solara.use_memo(lambda: figure_svg(build()), [key])
    _image(svg, cls)


@solara.component
def EnsemblePanel(view: RunView, ens_task: Any, n_seeds: solara.Reactive[int]) -> None:
    """Run N seeds of the current run's settings in the background; live results."""
    ens: EnsembleView | None = ens_task.latest
    solara.Text(
        f"Seeds 0…N−1 of the current run's settings (scenario {view.scenario}"
        + (f", {len(view.changed)} changed parameter(s)" if view.changed else "")
        + "), each through the sweep runner's single-run function."
    )
    with solara.Row(style={"align-items": "center"}):
        solara.InputInt(
            "Seeds (N)",
            value=n_seeds,
            disabled=ens_task.pending,
            classes=["gsomia-ensemble-n"],
        )
        n = min(max(int(n_seeds.value or 1), 1), MAX_ENSEMBLE_SEEDS)
        label = f"{view.scenario}" + (
            " + " + ", ".join(f"{k}={v}" for k, v in view.changed.items()) if view.changed else ""
        )
        solara.Button(
            "Run ensemble",
            on_click=lambda: ens_task(dict(view.run_params), list(range(n)), label),
            disabled=ens_task.pending,
            color="primary",
        )
        solara.Button("Cancel", on_click=ens_task.cancel, disabled=not ens_task.pending)
    if ens_task.pending:
        done = ens.done if ens is not None else 0
        solara.ProgressLinear(
            value=ens_task.progress if ens_task.progress is not None else True,
            classes=["gsomia-ensemble-progress"],
        )
        solara.Text(f"running: {done} of {n} seeds done", classes=["gsomia-ensemble-status"])
    if ens_task.error:
        solara.Error(f"Ensemble failed: {ens_task.exception}", classes=["gsomia-ensemble-error"])
    if ens is None or not ens.rows:
        if not ens_task.pending:
            solara.Text("No ensemble yet.", classes=["gsomia-ensemble-status"])
        return
    if not ens_task.pending:
        state = "cancelled" if ens.cancelled or ens_task.cancelled else "finished"
        solara.Text(
            f"{state}: {ens.done} of {ens.requested} seeds ({ens.label})",
            classes=["gsomia-ensemble-status"],
        )
    solara.HTML(tag="div", unsafe_innerHTML=ensemble_html(ens), classes=["gsomia-ensemble-body"])
    FigureImage(
        lambda: ensemble_figure(ens), (ens.done, ens.label, id(ens)), "gsomia-ensemble-figure"
    )


@solara.component
def Page() -> None:
    """The page: controls in the sidebar; status, run, decisions by month, ensemble and
    export in the main area. Everything here is per browser session."""
    scenarios = solara.use_memo(discover_scenarios, [])
    descriptions = solara.use_memo(
        lambda: {n: scenario_description(p) for n, p in scenarios.items()}, []
    )
    session = solara.use_memo(Session, [])
    if session.view is None:  # this session's own model, built on its first render
        session.reset(DEFAULT_SCENARIO, DEFAULT_SEED, {})
    scenario = solara.use_reactive(DEFAULT_SCENARIO)
    seed_text = solara.use_reactive(str(DEFAULT_SEED))
    values = solara.use_reactive(solara.use_memo(lambda: scenario_values(DEFAULT_SCENARIO), []))
    picked_month: solara.Reactive[date | None] = solara.use_reactive(None)
    current_op = solara.use_reactive("")
    tab = solara.use_reactive(0)
    n_seeds = solara.use_reactive(DEFAULT_ENSEMBLE_SEEDS)
    show_advanced = solara.use_reactive(False)

    def operate(op: str, *args: Any) -> Iterator[RunView]:
        if op == "reset":
            yield session.reset(*args, keep_going=ops.is_current)
            return
        if op == "step":
            yield session.step(ops.is_current)
            return
        if op == "end":  # no drawing on the way: one snapshot at the end
            yield session.finish(ops.is_current)
            return
        while session.model is not None and session.model.running and ops.is_current():
            yield session.step(ops.is_current)
            time.sleep(PLAY_INTERVAL_S)

    ops = solara.lab.use_task(operate, dependencies=None, raise_error=False)

    def ensemble(params: dict, seeds: list[int], label: str) -> Iterator[EnsembleView]:
        def progress(done: int, total: int) -> None:
            ens_task.progress = 100.0 * done / total

        yield EnsembleView(label, len(seeds), (), False, params)
        workers = min(ENSEMBLE_WORKERS, os.cpu_count() or 1)
        yield from run_ensemble(params, seeds, label, ens_task.is_current, progress, workers)

    ens_task = solara.lab.use_task(ensemble, dependencies=None, raise_error=False)

    _ = ops.latest  # subscribe: the page redraws when the task yields a snapshot
    view = session.view
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

    solara.Title(TITLE)
    # Two columns of our own (Solara's AppLayout nests into "embedded" mode under
    # `solara run`): the controls scroll on their own, the main area takes the rest.
    page_style = {"flex-wrap": "nowrap", "align-items": "flex-start", "gap": "12px"}
    controls_style = {
        "flex": "0 0 340px",
        "width": "340px",
        "max-height": "100vh",
        "overflow-y": "auto",
        "position": "sticky",
        "top": "0",
        "padding": "8px 4px",
    }
    with solara.Row(classes=["gsomia-page"], style=page_style):
        with solara.Column(classes=["gsomia-controls"], style=controls_style):
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
            if not view.running:
                solara.Text(
                    "The run has ended: press Reset to start again.",
                    classes=["gsomia-ended"],
                    style={"font-size": "12px"},
                )
            if _pending_changes(view, scenario.value, seed_text.value, values.value):
                solara.Warning(
                    "Changed settings: press Reset to run them.",
                    dense=True,
                    classes=["gsomia-pending-changes"],
                )
            solara.Text("Key parameters", style={"font-weight": "bold", "margin-top": "8px"})
            for name in HEADLINE:
                ParamControl(name, values, disabled=busy)
            solara.Button(
                f"Advanced parameters ({len(ADVANCED)}) {'▾' if show_advanced.value else '▸'}",
                on_click=lambda: show_advanced.set(not show_advanced.value),
                text=True,
                classes=["gsomia-advanced-toggle"],
            )
            if show_advanced.value:  # built only when opened: 42 controls cost a render
                with solara.Column(classes=["gsomia-advanced"]):
                    for name in ADVANCED:
                        ParamControl(name, values, disabled=busy)

        main_style = {"flex": "1 1 auto", "min-width": "0", "padding": "8px 8px 0 0"}
        with solara.Column(classes=["gsomia-main"], style=main_style):
            solara.ProgressLinear(busy, classes=["gsomia-busy"] if busy else ["gsomia-idle"])
            StatusBar(view)
            if ops.error:
                solara.Error(f"{ops.exception}", classes=["gsomia-error"])
            with solara.lab.Tabs(value=tab, lazy=True):
                with solara.lab.Tab("Run"):
                    RunPanel(view)
                with solara.lab.Tab("Decisions by month"):
                    MonthPanel(view, picked_month)
                with solara.lab.Tab("Ensemble"):
                    EnsemblePanel(view, ens_task, n_seeds)
                with solara.lab.Tab("Export"):
                    ExportPanel(view, ens_task.latest)
            solara.Text(
                "gsomia: an agent-based, game-theoretic model of the 2019 GSOMIA crisis (Mesa).",
                classes=["gsomia-footer"],
                style={"font-size": "11px", "opacity": "0.7", "margin": "16px 0 8px"},
            )


@solara.component
def StatusBar(view: RunView) -> None:
    """Scenario, seed, the months simulated (as dates), the outcome or what is open."""
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
    with solara.Column(classes=["gsomia-status"], gap="4px"):
        solara.Text(
            f"Scenario {view.scenario}, seed {view.seed}: {span}",
            classes=["gsomia-clock"],
            style={"font-weight": "600"},
        )
        if deadline_passed(view):
            kind = {"terminated": solara.Error, "pending": solara.Warning}.get(
                view.outcome, solara.Success
            )
            kind(outcome_text(view), classes=["gsomia-outcome"], dense=True)
        else:
            solara.Info(
                f"Outcome so far: {outcome_so_far(view)}", classes=["gsomia-open"], dense=True
            )
        for message in view.messages:
            solara.Warning(message, classes=["gsomia-input-error"], dense=True)


@solara.component
def RunPanel(view: RunView) -> None:
    """Network and monthly series; the countdown and the timeline."""
    network = solara.use_memo(lambda: figure_svg(network_figure(view)), [view.network])
    series = solara.use_memo(lambda: figure_svg(series_figure(view)), [view.token])
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        with solara.Column(style={"min-width": "0"}):
            solara.Text(
                "Actor network: nodes by stance, edges by tension; blue band = US pressure",
                style={"font-weight": "bold"},
            )
            _image(network, "gsomia-network")
        with solara.Column(style={"min-width": "0"}):
            solara.Text(
                "Monthly series (each month's state over its month; dotted: the deadline)",
                style={"font-weight": "bold"},
            )
            _image(series, "gsomia-series")
    body = (
        TABLE_CSS
        + f"<table class='gsomia-table gsomia-countdown'>{_rows(countdown(view))}</table>"
        + "<div style='font-weight:bold;margin:6px 0 2px'>Timeline (newest first)</div>"
        + timeline_html(view)
    )
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=["gsomia-timeline-body"])


@solara.component
def MonthPanel(view: RunView, picked: solara.Reactive[date | None]) -> None:
    """Pick any simulated month: the state, its events and every government's decision."""
    months = view.months
    if not months:
        solara.Text("No month simulated yet: press Step.", classes=["gsomia-month-empty"])
        return
    month = picked.value if picked.value in months else months[-1]
    labels = {month_label(view, m): m for m in months}
    i = months.index(month)
    with solara.Row(style={"align-items": "center"}):
        solara.Button("◀", on_click=lambda: picked.set(months[i - 1]), disabled=i == 0)
        solara.Select(
            "Month",
            values=list(labels),
            value=month_label(view, month),
            on_value=lambda text: picked.set(labels[text]),
            classes=["gsomia-month-picker"],
        )
        solara.Button(
            "▶", on_click=lambda: picked.set(months[i + 1]), disabled=i == len(months) - 1
        )
    solara.HTML(tag="div", unsafe_innerHTML=month_html(view, month), classes=["gsomia-month-body"])
    FigureImage(lambda: series_figure(view, month), (view.token, month), "gsomia-month-series")


@solara.component
def ExportPanel(view: RunView, ens: EnsembleView | None) -> None:
    """Downloads: the run's CSVs, each figure as PNG, the ensemble's table."""
    stem = f"gsomia_{view.scenario}_seed{view.seed}"
    solara.Text(
        f"Current run: scenario {view.scenario}, seed {view.seed}, "
        f"{view.months_done} of {view.total_months} months simulated."
    )
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["gsomia-export"]):
        solara.FileDownload(
            lambda: monthly_csv(view),
            f"{stem}_monthly.csv",
            "Monthly series (CSV)",
            mime_type="text/csv",
        )
        solara.FileDownload(
            lambda: timeline_csv(view),
            f"{stem}_timeline.csv",
            "Timeline (CSV)",
            mime_type="text/csv",
        )
        solara.FileDownload(
            lambda: decisions_csv(view),
            f"{stem}_decisions.csv",
            "Decisions (CSV)",
            mime_type="text/csv",
        )
        solara.FileDownload(
            lambda: figure_png(network_figure(view)),
            f"{stem}_network.png",
            "Network (PNG)",
            mime_type="image/png",
        )
        solara.FileDownload(
            lambda: figure_png(series_figure(view)),
            f"{stem}_series.png",
            "Monthly series (PNG)",
            mime_type="image/png",
        )
    if ens is not None and ens.rows:
        with solara.Row(style={"flex-wrap": "wrap"}, classes=["gsomia-export-ensemble"]):
            solara.FileDownload(
                lambda: ensemble_csv(ens),
                f"gsomia_ensemble_{ens.done}_seeds.csv",
                "Ensemble table (CSV)",
                mime_type="text/csv",
            )
            solara.FileDownload(
                lambda: figure_png(ensemble_figure(ens)),
                f"gsomia_ensemble_{ens.done}_seeds.png",
                "Ensemble figure (PNG)",
                mime_type="image/png",
            )
    else:
        solara.Text("Run an ensemble (Ensemble tab) to export its table.")
