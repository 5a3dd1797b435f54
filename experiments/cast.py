"""The cast an experiment runs, as data: a ``[cast]`` table of ``actors`` ("module:Class"
names of government classes) and ``move_order`` (stages of simultaneous movers), the
constructor keywords of the same name (``model.model.make_cast``).

A sweep spec may hold the table; ``gsomia calibrate --cast FILE`` reads it from a TOML
file. Left out, the tools run the model's default cast (``DEFAULT_ACTORS``), and what they
write is what they wrote before the cast was data. The tools read the cast's names (each
actor's payoff column, who gives notice) from here, not from 2019's actors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from model.parameters import ConfigError, reject_unknown

CAST_KEYS = ("actors", "move_order")


def parse_cast(table: Any, source: str) -> dict[str, Any]:
    """The constructor keywords of a ``[cast]`` table (``actors`` and, optionally,
    ``move_order``), checked by building the cast; ConfigError naming the key and what is
    allowed."""
    from model.model import DEFAULT_MOVE_ORDER, make_cast, resolve_actor

    if not isinstance(table, Mapping):
        raise ConfigError(
            f"{source}: invalid value {table!r} for 'cast'; allowed: a table with keys "
            + ", ".join(CAST_KEYS)
        )
    reject_unknown(dict(table), CAST_KEYS, source, prefix="cast.")
    actors = table.get("actors")
    if (
        not isinstance(actors, list)
        or not actors
        or not all(isinstance(a, str) and ":" in a for a in actors)
    ):
        raise ConfigError(
            f"{source}: invalid value {actors!r} for 'cast.actors'; allowed: a non-empty list "
            "of 'module:Class' names of government classes"
        )
    out: dict[str, Any] = {"actors": list(actors)}
    order = table.get("move_order")
    if order is not None:
        if not isinstance(order, list) or not all(
            isinstance(s, list) and s and all(isinstance(n, str) for n in s) for s in order
        ):
            raise ConfigError(
                f"{source}: invalid value {order!r} for 'cast.move_order'; allowed: a list of "
                "stages, each a non-empty list of actor names"
            )
        out["move_order"] = [list(s) for s in order]
    try:
        names = [resolve_actor(a).actor for a in out["actors"]]
    except ConfigError as exc:
        raise ConfigError(f"{source}: [cast]: {exc}") from exc
    except AttributeError as exc:
        raise ConfigError(
            f"{source}: invalid value for 'cast.actors' ({exc}); allowed: 'module:Class' "
            "names of government classes (agents.Government subclasses)"
        ) from exc
    default = sorted(n for stage in DEFAULT_MOVE_ORDER for n in stage)
    if "move_order" not in out and sorted(names) != default:
        raise ConfigError(
            f"{source}: missing key 'cast.move_order' (the actors are not the default "
            f"cast's); allowed: a list of stages naming each of {', '.join(names)} once"
        )
    try:
        make_cast(out["actors"], out.get("move_order"))
    except ConfigError as exc:
        raise ConfigError(f"{source}: [cast]: {exc}") from exc
    except Exception as exc:  # a class that breaks the cast's contract
        raise ConfigError(
            f"{source}: invalid value for 'cast' ({type(exc).__name__}: {exc}); allowed: "
            "'module:Class' names of government classes and a move order naming each once"
        ) from exc
    return out


def load_cast(path: str | Path) -> dict[str, Any]:
    """The ``[cast]`` table of a TOML file (``gsomia calibrate --cast``)."""
    from model.config import read_toml

    where = f"--cast: {path}"
    try:
        data, _ = read_toml(Path(path), "cast")
    except ConfigError as exc:
        raise ConfigError(f"--cast: {exc}") from exc
    if "cast" not in data:
        raise ConfigError(f"{where}: missing table '[cast]' (keys: {', '.join(CAST_KEYS)})")
    return parse_cast(data["cast"], where)


def cast_of(params: Mapping[str, Any]) -> Any:
    """The ``Cast`` of a run's constructor keywords (the default cast without ``actors``)."""
    from model.model import make_cast

    return make_cast(params.get("actors"), params.get("move_order"))


def actor_names(params: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The actors of a run's constructor keywords, in player order."""
    return cast_of(params or {}).names


def label(actor: str) -> str:
    """How reports name an actor: ``seoul`` -> ``Seoul``."""
    return actor.replace("_", " ").title()


NOTICE_EVENT = "termination_notice"


def notice_givers(actors: Sequence[Any] | None = None) -> tuple[str, ...]:
    """The actors a cast declares the pact's notice under (``Seoul`` in 2019's)."""
    from model.vocabulary import vocabulary

    names = vocabulary(actors)
    return tuple(a for a in names.actors if NOTICE_EVENT in names.events[a])


def notice_wording(actors: Sequence[Any] | None = None) -> str:
    """Who gave notice, as a report words it: ``Seoul`` for 2019's cast, ``A or B`` for a
    cast in which two actors may, ``an actor`` for one that declares no notice."""
    givers = [label(a) for a in notice_givers(actors)]
    return " or ".join(givers) if givers else "an actor"
