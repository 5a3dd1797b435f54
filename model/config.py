"""Scenario configs (TOML): ``[scenario]``, ``[parameters]`` and ``[[exogenous]]`` events.

A key in ``[scenario]`` or ``[parameters]`` is the constructor keyword of the same name
(``model.parameters.PARAMETERS``). ``[[exogenous]]`` lists dated shocks from outside the
four governments (a court ruling, a radar incident, a China-Russia air patrol); they move
the slow variables, never a government's decision.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from model.parameters import PARAMETERS, ConfigError, Param, suggest

TABLES = ("scenario", "parameters", "exogenous")


@dataclass(frozen=True)
class ExogenousEvent:
    """A dated shock: adds to Tokyo's grievance, the historical Seoul-Tokyo tension, the
    North Korean/regional threat stock, or every citizen's opinion."""

    date: date
    event: str
    actor: str = "exogenous"
    domain: str = ""
    detail: str = ""
    grievance: float = 0.0
    tension: float = 0.0
    threat: float = 0.0
    opinion: float = 0.0


_EXO_FIELDS: dict[str, Param] = {
    "date": Param("date", date, None),
    "event": Param("event", str, None),
    "actor": Param("actor", str, "exogenous"),
    "domain": Param("domain", str, ""),
    "detail": Param("detail", str, ""),
    "grievance": Param("grievance", float, 0.0, 0.0, 5.0),
    "tension": Param("tension", float, 0.0, -1.0, 1.0),
    "threat": Param("threat", float, 0.0, 0.0, 10.0),
    "opinion": Param("opinion", float, 0.0, -1.0, 1.0),
}


def parse_exogenous(items: Any, source: str) -> tuple[ExogenousEvent, ...]:
    """Validate a list of exogenous-event tables; raise ConfigError naming the key."""
    if isinstance(items, tuple) and all(isinstance(e, ExogenousEvent) for e in items):
        return items
    if not isinstance(items, list | tuple):
        raise ConfigError(
            f"{source}: invalid value {items!r} for 'exogenous'; allowed: a list of tables "
            "with keys " + ", ".join(_EXO_FIELDS)
        )
    out = []
    for i, item in enumerate(items):
        if isinstance(item, ExogenousEvent):
            out.append(item)
            continue
        where = f"{source}: exogenous[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: invalid value {item!r}; allowed: a table")
        values: dict[str, Any] = {}
        for key, value in item.items():
            spec = _EXO_FIELDS.get(key)
            if spec is None:
                raise ConfigError(
                    f"{where}: unknown key '{key}' (value {value!r})"
                    f"{suggest(key, tuple(_EXO_FIELDS))}; allowed keys: " + ", ".join(_EXO_FIELDS)
                )
            values[key] = spec.coerce(value, where)
        for required in ("date", "event"):
            if required not in values:
                raise ConfigError(
                    f"{where}: missing key '{required}'; allowed: "
                    + _EXO_FIELDS[required].allowed()
                )
        out.append(ExogenousEvent(**values))
    return tuple(sorted(out, key=lambda e: e.date))


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a scenario TOML into constructor keywords; ConfigError on any bad key."""
    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: no such config file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    out: dict[str, Any] = {}
    for table, body in data.items():
        if table not in TABLES:
            raise ConfigError(
                f"{source}: unknown table '{table}'{suggest(table, TABLES)}; allowed tables: "
                + ", ".join(TABLES)
            )
        if table == "exogenous":
            out["exogenous"] = parse_exogenous(body, source)
            continue
        if not isinstance(body, Mapping):
            raise ConfigError(f"{source}: '{table}' must be a table")
        allowed = [k for k, p in PARAMETERS.items() if p.group == table]
        for key, value in body.items():
            param = PARAMETERS.get(key)
            if param is None or param.group != table:
                where = f" (it belongs in [{param.group}])" if param is not None else ""
                raise ConfigError(
                    f"{source}: unknown key '{table}.{key}' (value {value!r}){where}"
                    f"{suggest(key, allowed)}; allowed keys in [{table}]: " + ", ".join(allowed)
                )
            out[key] = param.coerce(value, f"{source}: [{table}]")
    return out
