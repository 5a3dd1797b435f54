"""The cast an experiment runs, as data: a ``[cast]`` table of ``actors`` ("module:Class"
names of government classes) and ``move_order`` (stages of simultaneous movers), the
constructor keywords of the same name (``model.model.make_cast``).

A sweep spec may hold the table; ``gsomia calibrate --cast FILE`` reads it from a TOML
file; a scenario config may hold it too (``model.config.load_config``), and a sweep whose
spec has none runs its base config's. One parser reads it everywhere
(``model.cast.parse_cast``). Left out, the tools run the model's default cast
(``DEFAULT_ACTORS``), and what they write is what they wrote before the cast was data.
The tools read the cast's names (each actor's payoff column, who gives notice) from
here, not from 2019's actors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from model.cast import CAST_KEYS, parse_cast
from model.parameters import ConfigError


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
