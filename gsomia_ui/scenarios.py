"""The scenarios the page offers, the settings its controls make, and ScenarioModel.

Scenarios: every shipped config with a ``[scenario]`` table (``gsomia scenarios``), plus
the file ``gsomia ui --config PATH`` names (``GSOMIA_UI_CONFIG``), which the page opens
first. A control equal to the scenario's own value changes nothing; the others are the
settings' changes, and the label of an ensemble lists them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gsomia_ui.inputs import format_value, parse_seed, same
from model import PARAMETERS, ConfigError, GSOMIAModel
from model.config import data_dir, load_config
from model.parameters import check_consistency, defaults, validate

SHIPPED_DEFAULT = "baseline_2019"
DEFAULT_SEED = 0
"""The seed a newcomer sees: seed 0 of the 2019 baseline ends in a last-minute suspension
(the case the model is about), and it is ``gsomia run``'s default seed too."""
CONFIG_ENV = "GSOMIA_UI_CONFIG"
"""A scenario file the page lists first (``gsomia ui --config PATH`` sets it)."""


def extra_config() -> Path | None:
    """The scenario file named by ``GSOMIA_UI_CONFIG``, if any."""
    value = os.environ.get(CONFIG_ENV, "").strip()
    return Path(value).resolve() if value else None


def default_scenario() -> str:
    """The scenario the page opens: ``--config``'s, else the 2019 baseline."""
    extra = extra_config()
    return next(iter(discover_scenarios())) if extra is not None else SHIPPED_DEFAULT


def discover_scenarios(config_dir: Path | None = None) -> dict[str, Path]:
    """Scenario configs by name (file stem): every ``*.toml`` in ``config_dir`` (the
    shipped configs) that has a ``[scenario]`` table, the ``--config`` file first, then
    the 2019 baseline, then by name. A ``--config`` file whose stem is a shipped name is
    listed under its path."""
    config_dir = data_dir() if config_dir is None else config_dir
    found: dict[str, Path] = {}
    for path in sorted(config_dir.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("scenario"), dict):
            found[path.stem] = path
    ordered = {n: found[n] for n in sorted(found, key=lambda n: (n != SHIPPED_DEFAULT, n))}
    extra = extra_config()
    if extra is None or extra in ordered.values():
        return ordered
    name = extra.stem if extra.stem not in ordered else str(extra)
    return {name: extra} | ordered


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


def scenario_config(name: str, scenarios: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """Constructor keywords of scenario ``name`` (ConfigError naming the allowed ones)."""
    scenarios = discover_scenarios() if scenarios is None else scenarios
    path = scenarios.get(name)
    if path is None:
        raise ConfigError(
            f"unknown scenario {name!r}; allowed: " + ", ".join(scenarios or ["(none)"])
        )
    return load_config(path)


def scenario_values(name: str, scenarios: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """Every parameter's value in scenario ``name`` (the registry default unless its config
    sets it): what the controls show when the scenario is picked."""
    config = scenario_config(name, scenarios)
    return {k: config.get(k, p.default) for k, p in PARAMETERS.items()}


@dataclass(frozen=True)
class Settings:
    """What a run or an ensemble runs: a scenario's config and the controls that differ
    from its own values."""

    scenario: str
    config: Mapping[str, Any]
    changed: Mapping[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        """Constructor keywords (config + changes): ``run_one(params, seed)`` runs it."""
        return dict(self.config) | dict(self.changed)

    @property
    def label(self) -> str:
        """The scenario and every changed value, e.g. ``baseline_2019 + audience cost =
        0 u (one-off)``."""
        changes = [f"{k} = {format_value(k, v)}" for k, v in self.changed.items()]
        return self.scenario + (" + " + ", ".join(changes) if changes else "")


def settings_from(
    scenario: str, values: Mapping[str, Any], scenarios: Mapping[str, Path] | None = None
) -> Settings:
    """The settings of the controls (``values``: parameter -> value) on ``scenario``;
    ConfigError (naming the key and what is allowed) when a changed value is invalid."""
    config = scenario_config(scenario, scenarios)
    own = {k: config.get(k, p.default) for k, p in PARAMETERS.items()}
    unknown = sorted(k for k in values if k not in PARAMETERS)
    if unknown:
        raise ConfigError(
            "unknown setting(s) " + ", ".join(unknown) + "; allowed: `gsomia params` names"
        )
    changed = {k: v for k, v in values.items() if k != "name" and not same(v, own[k])}
    if changed:
        checked = validate(changed, "control")
        check_consistency(
            defaults() | {k: v for k, v in config.items() if k != "exogenous"} | checked, "control"
        )
        changed = {k: checked[k] for k in changed}
    return Settings(scenario, config, changed)


class ScenarioModel(GSOMIAModel):
    """A GSOMIAModel built from a scenario config and the page's controls.

    ``scenario`` is a scenario's name (``discover_scenarios``); ``rng`` the seed as typed;
    other keywords are control values, applied where they differ from the scenario's own
    value (so controls showing the scenario change nothing). Bad input never raises: it
    falls back (default seed, the default scenario, the scenario's own values) and the
    reason is kept in ``messages`` for the page to show.
    """

    def __init__(self, scenario: str | None = None, rng: Any = DEFAULT_SEED, **overrides: Any):
        messages: list[str] = []
        seed, problem = parse_seed(rng, DEFAULT_SEED)
        if problem:
            messages.append(problem)
        scenarios = discover_scenarios()
        name = default_scenario() if scenario is None else str(scenario)
        try:
            settings = settings_from(name, {}, scenarios)
        except ConfigError as exc:
            if name == SHIPPED_DEFAULT:
                raise
            messages.append(f"{exc}. Ran {SHIPPED_DEFAULT} instead.")
            name = SHIPPED_DEFAULT
            settings = settings_from(name, {}, scenarios)
        ignored = sorted(k for k in overrides if k not in PARAMETERS)
        if ignored:
            messages.append("Ignored unknown setting(s): " + ", ".join(ignored) + ".")
        try:
            settings = settings_from(
                name, {k: v for k, v in overrides.items() if k in PARAMETERS}, scenarios
            )
        except ConfigError as exc:
            messages.append(f"{exc}. Ran with the scenario's own values instead.")
        super().__init__(rng=seed, **settings.params)
        self.settings: Settings = settings
        self.scenario_name: str = name
        self.messages: list[str] = messages

    @property
    def changed_values(self) -> dict[str, Any]:
        """The controls that differ from the scenario's own values."""
        return dict(self.settings.changed)

    @property
    def run_params(self) -> dict[str, Any]:
        """Constructor keywords reproducing this run with any seed (config + changes)."""
        return self.settings.params
