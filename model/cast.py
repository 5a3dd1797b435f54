"""The cast as data: a ``[cast]`` table of ``actors`` ("module:Class" names of government
classes) and ``move_order`` (stages of simultaneous movers), the constructor keywords of
the same name (``model.model.make_cast``).

One parser for every file that may hold the table: a scenario config (``load_config``,
so ``GSOMIAModel.from_config``, ``gsomia run --config``, ``gsomia calibrate --config``
and a sweep's base config run that cast), a sweep spec and ``gsomia calibrate --cast
FILE`` (``experiments.cast``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.parameters import ConfigError, reject_unknown

CAST_KEYS = ("actors", "move_order")

_GOVERNMENTS = (
    "'module:Class' names of importable government classes (agents.Government subclasses)"
)


def _actor_class(spec: str, source: str) -> Any:
    """The government class named ``spec``; ConfigError naming ``[cast]`` 'actors'."""
    from agents.government import Government
    from model.model import resolve_actor

    try:
        cls = resolve_actor(spec)
    except ConfigError as exc:
        cause = exc.__cause__
        why = f"{type(cause).__name__}: {cause}" if cause is not None else "not importable"
        raise ConfigError(
            f"{source}: [cast]: invalid value {spec!r} for 'actors' (cannot import it: {why}); "
            f"allowed: {_GOVERNMENTS}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Government)):
        raise ConfigError(
            f"{source}: [cast]: invalid value {spec!r} for 'actors' (not a government "
            f"class: {cls!r}); allowed: {_GOVERNMENTS}"
        )
    if not isinstance(getattr(cls, "actor", None), str) or not cls.actor:
        raise ConfigError(
            f"{source}: [cast]: invalid value {spec!r} for 'actors' (the class names no "
            f"actor: its 'actor' attribute is not a name); allowed: {_GOVERNMENTS}"
        )
    return cls


def parse_cast(table: Any, source: str) -> dict[str, Any]:
    """The constructor keywords of a ``[cast]`` table (``actors`` and, optionally,
    ``move_order``), checked by building the cast; ConfigError naming the key and what is
    allowed."""
    from model.model import DEFAULT_MOVE_ORDER, make_cast

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
    names = [_actor_class(a, source).actor for a in out["actors"]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"{source}: [cast]: invalid value {out['actors']!r} for 'actors' (two classes "
            f"play {', '.join(map(repr, twice))}); allowed: government classes of distinct "
            "actors"
        )
    default = sorted(n for stage in DEFAULT_MOVE_ORDER for n in stage)
    if "move_order" not in out and sorted(names) != default:
        raise ConfigError(
            f"{source}: missing key 'cast.move_order' (the actors are not the default "
            f"cast's); allowed: a list of stages naming each of {', '.join(names)} once"
        )
    if "move_order" in out:
        movers = [n for stage in out["move_order"] for n in stage]
        strangers = [n for n in movers if n not in names]
        repeated = sorted({n for n in movers if movers.count(n) > 1})
        missing = [n for n in names if n not in movers]
        why = (
            f"names {', '.join(map(repr, strangers))}, not in the cast"
            if strangers
            else f"names {', '.join(map(repr, repeated))} more than once"
            if repeated
            else f"leaves out {', '.join(map(repr, missing))}"
            if missing
            else ""
        )
        if why:
            raise ConfigError(
                f"{source}: [cast]: invalid value {out['move_order']!r} for 'move_order' "
                f"({why}); allowed: a list of stages naming each of {', '.join(names)} once"
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


def cast_classes(cast: Mapping[str, Any]) -> tuple[Any, ...]:
    """The actor classes of parsed cast keywords (``parse_cast``)."""
    from model.model import resolve_actor

    return tuple(resolve_actor(a) for a in cast["actors"])
