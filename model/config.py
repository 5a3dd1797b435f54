"""Scenario configs (TOML): ``[scenario]``, ``[treaty]``, ``[parameters]``, ``[cast]`` and
``[[exogenous]]`` events.

A key in ``[scenario]``, ``[treaty]`` or ``[parameters]`` is the constructor keyword of the
same name (``model.parameters.PARAMETERS``, whose ``group`` is the table). ``[treaty]``
holds the pact's rules (``notice_days``, ``renewal``; model/calendar.py); left out, they
are GSOMIA's. ``[[exogenous]]`` lists dated shocks from outside the
four governments (a court ruling, a radar incident, a China-Russia air patrol); they move
the slow variables, never a government's decision. ``[cast]`` (``actors``, ``move_order``;
``model.cast``) sets the governments the scenario runs with; left out, the default cast.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from model.parameters import (
    PARAMETERS,
    ConfigError,
    Param,
    actor_hint,
    registry,
    reject_unknown,
    require_table,
    suggest,
)

TABLES = ("scenario", "treaty", "parameters", "cast", "exogenous")


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
        reject_unknown(item, tuple(_EXO_FIELDS), where)
        values = {key: _EXO_FIELDS[key].coerce(value, where) for key, value in item.items()}
        for required in ("date", "event"):
            if required not in values:
                raise ConfigError(
                    f"{where}: missing key '{required}'; allowed: "
                    + _EXO_FIELDS[required].allowed()
                )
        out.append(ExogenousEvent(**values))
    return tuple(sorted(out, key=lambda e: e.date))


DATA_SUBDIR = "share/gsomia/configs"
"""Where a wheel installs the shipped configs, relative to the installation prefix."""


def data_dir() -> Path:
    """The shipped configs: ``configs/`` of the source tree (a clone, an editable install)
    or the copy a wheel installed (found through the distribution's file list)."""
    source = Path(__file__).resolve().parents[1] / "configs"
    if (source / "baseline_2019.toml").is_file():
        return source
    from importlib import metadata

    try:
        files = metadata.distribution("gsomia").files or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == "baseline_2019.toml" and f.as_posix().endswith(
            f"{DATA_SUBDIR}/baseline_2019.toml"
        ):
            return Path(str(f.locate())).resolve().parent
    return source


def first_comment(text: str) -> str:
    """A TOML file's description: its first comment line (without the ``#``)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if line:
            break
    return ""


def list_scenarios() -> dict[str, tuple[Path, str]]:
    """The shipped scenarios: name (file stem) -> (path, description)."""
    out = {}
    for path in sorted(data_dir().glob("*.toml")):
        out[path.stem] = (path, first_comment(path.read_text(encoding="utf-8", errors="replace")))
    return out


def resolve_path(
    ref: str | Path, kind: str, shipped: dict[str, tuple[Path, str]], key: str
) -> Path:
    """A path given as ``ref``, or the shipped file named ``ref`` (``baseline_2019``);
    ConfigError naming ``key`` for an empty, missing or unknown reference."""
    text = str(ref)
    if not text.strip():
        raise ConfigError(
            f"{key}: invalid value {text!r} (empty); allowed: a path to a {kind} TOML or a "
            "shipped name: " + ", ".join(shipped)
        )
    path = Path(ref)
    if path.exists():
        return path
    looks_like_name = len(path.parts) == 1 and path.suffix == ""
    if looks_like_name and text in shipped:
        return shipped[text][0]
    if looks_like_name:
        raise ConfigError(
            f"{key}: invalid value {text!r} (no such file and no shipped {kind} of that "
            f"name){suggest(text, tuple(shipped))}; allowed: a path to a {kind} TOML or a "
            "shipped name: " + ", ".join(shipped)
        )
    raise ConfigError(f"{path}: no such {kind} file")


MAX_INPUT_BYTES = 1 << 20
"""The largest config, spec, targets file or timeline read (1 MiB; the shipped ones are
under 20 KB): a path naming something huge is refused before it is read."""


def read_input(path: Path, kind: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a file a user names; ConfigError naming it for anything but a readable
    regular file of at most ``limit`` bytes (a directory, a FIFO or a device such as
    /dev/zero, which would block or never end, a missing or unreadable file)."""
    source = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: no such {kind} file") from exc
    except OSError as exc:
        raise ConfigError(
            f"{source}: cannot read the {kind} file ({exc.strerror}); allowed: a readable file"
        ) from exc
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{source}: is a directory; allowed: a {kind} file")
    if not stat.S_ISREG(info.st_mode):
        what = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device, socket or FIFO"
        raise ConfigError(
            f"{source}: not a regular file ({what}); allowed: a {kind} file (a regular file)"
        )
    too_big = ConfigError(
        f"{source}: too large ({info.st_size} bytes); allowed: a {kind} file of at most "
        f"{limit} bytes"
    )
    if info.st_size > limit:
        raise too_big
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except PermissionError as exc:
        raise ConfigError(
            f"{source}: cannot read the {kind} file (permission denied); allowed: a readable file"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"{source}: cannot read the {kind} file ({exc.strerror}); allowed: a readable file"
        ) from exc
    if len(raw) > limit:  # it grew since the stat
        raise too_big
    return raw


def decode_text(raw: bytes, source: str, kind: str) -> str:
    """UTF-8 text (a leading byte-order mark, as some Windows editors write, is dropped);
    ConfigError naming the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source}: not a text file (byte {raw[exc.start]:#04x} at offset {exc.start} "
            f"is not UTF-8); allowed: a {kind} file in UTF-8"
        ) from exc


def read_toml(path: Path, kind: str) -> tuple[dict[str, Any], str]:
    """Read a TOML file as (data, text); ConfigError for anything that is not a readable,
    non-empty UTF-8 TOML file (a directory, an unreadable file, binary data)."""
    source = str(path)
    text = decode_text(read_input(path, f"{kind} TOML"), source, f"{kind} TOML")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    if not data:
        raise ConfigError(
            f"{source}: empty {kind} file (no table); allowed: a {kind} TOML file with its tables"
        )
    return data, text


def load_config(path: str | Path, actors: Sequence[Any] | None = None) -> dict[str, Any]:
    """Read a scenario TOML (a path, or a shipped scenario's name such as
    ``baseline_2019``) into constructor keywords; ConfigError on any bad key.

    The cast is the file's ``[cast]`` table (``model.cast``; its ``actors`` and
    ``move_order`` are returned as the keywords of the same name), else the default cast.
    ``actors`` (classes), when given, is the cast the scenario will run with instead: the
    file's ``[cast]`` is still checked but not returned. The parameters the cast's actors
    declare are read from ``[parameters.<actor>]`` sub-tables (or the dotted keys
    ``<actor>.<name>`` in ``[parameters]``, the same thing in TOML) as ``<actor>.<name>``."""
    from model.cast import cast_classes, parse_cast

    path = resolve_path(path, "scenario", list_scenarios(), "config")
    source = str(path)
    data, _ = read_toml(path, "scenario")
    reject_unknown(data, TABLES, source, kind="table", show_value=False)
    out: dict[str, Any] = {}
    if "cast" in data:
        cast = parse_cast(data["cast"], source)
        if actors is None:
            actors = cast_classes(cast)
            out.update(cast)
    known = registry(() if actors is None else actors)
    for table, body in data.items():
        if table == "cast":
            continue
        if table == "exogenous":
            out["exogenous"] = parse_exogenous(body, source)
            continue
        body = require_table(body, source, table)
        if table == "parameters":
            body = _flatten_actor_tables(body)
        allowed = tuple(k for k, p in known.items() if p.group == table)
        reject_unknown(
            body, allowed, source, prefix=f"{table}.", scope=f"[{table}]", hint=_belongs_in
        )
        for key, value in body.items():
            out[key] = known[key].coerce(value, f"{source}: [{table}]")
    if out.get("exogenous"):
        from model.vocabulary import check_shocks

        start = out.get("start", PARAMETERS["start"].default)
        check_shocks(out["exogenous"], start, source, actors or None)
    return out


def _flatten_actor_tables(body: Mapping[str, Any]) -> dict[str, Any]:
    """``[parameters]`` with each sub-table ``[parameters.<actor>]`` (not a central
    parameter's name) spelled as its keys ``<actor>.<name>``."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, Mapping) and key not in PARAMETERS:
            for name, v in value.items():
                out[f"{key}.{name}"] = v
        else:
            out[key] = value
    return out


def _belongs_in(key: str) -> str:
    param = PARAMETERS.get(key)
    if param is not None:
        return f" (it belongs in [{param.group}])"
    if key in ("cast", "actors", "move_order"):
        return " (the cast belongs in the [cast] table: actors, move_order)"
    return actor_hint(key)
