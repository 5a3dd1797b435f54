"""The names a run's timeline uses, declared once: which actor emits which event.

A run's events come from three places: each government class of the cast declares the
events its ``apply`` emits (``Government.events``, by the actor they are dated under:
Seoul's notice brings Tokyo's protest), the model's own calendar emits the pact's renewal
and lapse (``CALENDAR_EVENTS``), and the scenario's ``[[exogenous]]`` shocks bring their
own names. Every name a user writes (a target's actor and event, a timeline row) is
checked against this vocabulary (``Vocabulary.check``): an unknown name stops with a
``ConfigError`` naming the key, the value and the closest allowed names, instead of a
target no run can meet or an ``absent`` target always met.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from model.calendar import month_start
from model.parameters import ConfigError, suggest

CALENDAR_EVENTS: Mapping[str, tuple[str, ...]] = {"both": ("pact_renewed", "pact_terminated")}
"""Events the model's calendar emits itself (``GSOMIAModel._run_calendar``): the automatic
renewal at an anniversary and the lapse of a standing notice."""


@dataclass(frozen=True)
class Vocabulary:
    """Actor -> the events it can have in a timeline."""

    events: Mapping[str, frozenset[str]]

    @property
    def actors(self) -> tuple[str, ...]:
        """Every actor, sorted."""
        return tuple(sorted(self.events))

    def pairs(self) -> set[tuple[str, str]]:
        """Every (actor, event) pair."""
        return {(a, e) for a, names in self.events.items() for e in names}

    def with_events(self, more: Mapping[str, Iterable[str]]) -> Vocabulary:
        """This vocabulary plus ``more`` (actor -> events)."""
        merged = {a: set(names) for a, names in self.events.items()}
        for actor, names in more.items():
            merged.setdefault(actor, set()).update(names)
        return Vocabulary({a: frozenset(names) for a, names in merged.items()})

    def check(
        self,
        actor: str,
        event: str,
        where: str,
        actor_key: str = "actor",
        event_key: str = "event",
    ) -> None:
        """ConfigError unless ``actor`` has ``event`` in a timeline: it names the key, the
        value, the closest allowed name and every allowed one."""
        if actor not in self.events:
            raise ConfigError(
                f"{where}: unknown actor {actor!r} for '{actor_key}'"
                f"{suggest(actor, self.actors)}; allowed: " + ", ".join(self.actors)
            )
        own = sorted(self.events[actor])
        if event in self.events[actor]:
            return
        allowed = f"allowed for {actor}: " + ", ".join(own)
        others = sorted(a for a in self.actors if event in self.events[a])
        if others:
            raise ConfigError(
                f"{where}: invalid value {event!r} for '{event_key}' ({actor} never has it; "
                f"it is {' and '.join(others)}'s){suggest(event, own)}; {allowed}"
            )
        everything = sorted({e for names in self.events.values() for e in names})
        near = suggest(event, own) or suggest(event, everything)
        raise ConfigError(f"{where}: unknown event {event!r} for '{event_key}'{near}; {allowed}")


def vocabulary(actors: Sequence[Any] | None = None, exogenous: Iterable[Any] = ()) -> Vocabulary:
    """The vocabulary of a cast (government classes, or ``"module:Class"`` names; default:
    the model's own cast), its calendar, and the given exogenous shocks."""
    from model.model import DEFAULT_ACTORS, resolve_actor

    classes = [resolve_actor(a) for a in (DEFAULT_ACTORS if actors is None else actors)]
    merged: dict[str, set[str]] = {}
    declared = [CALENDAR_EVENTS, *(cls.events for cls in classes)]
    for table in declared:
        for actor, names in table.items():
            merged.setdefault(actor, set()).update(names)
    for shock in exogenous:
        merged.setdefault(shock.actor, set()).add(shock.event)
    return Vocabulary({a: frozenset(names) for a, names in merged.items()})


def check_shocks(
    shocks: Iterable[Any], start: date, source: str, actors: Sequence[Any] | None = None
) -> None:
    """ConfigError for a shock that would be silently lost or mistaken for a move: one
    dated before the month of ``start`` (it never applies), or one named as an event the
    cast's governments emit (targets and the calibration would count it as their move)."""
    moves = vocabulary(actors)
    for shock in shocks:
        where = f"{source}: [[exogenous]] {shock.event!r} of {shock.date.isoformat()}"
        if shock.date < month_start(start):
            raise ConfigError(
                f"{where}: invalid value '{shock.date.isoformat()}' for 'date' (before the "
                f"scenario's start {start.isoformat()}, so it would never apply); allowed: a "
                f"date from {month_start(start).isoformat()} on (or an earlier 'start', or "
                "the run without the scenario's shocks: exogenous = [])"
            )
        if (shock.actor, shock.event) in moves.pairs():
            raise ConfigError(
                f"{where}: invalid value {shock.event!r} for 'event' ({shock.actor} emits it "
                "as a move of the model: a shock named so would count as that move in "
                "targets and the calibration); allowed: a name no move uses"
            )
