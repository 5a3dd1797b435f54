"""Parameters carried typed: a frozen object generated from the registry.

``model.parameters.PARAMETERS`` declares every parameter once; ``Params`` is a frozen
dataclass with one typed field per entry, built once from validated values, so the
model's rules read ``p.audience_cost`` (a float) or ``p.lookahead_months`` (an int)
instead of casting from a string-keyed dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import make_dataclass
from functools import lru_cache
from typing import Any

from model.parameters import PARAMETERS, Param

Params = make_dataclass(
    "Params",
    [(name, p.kind) for name, p in PARAMETERS.items()],
    frozen=True,
    slots=True,
    module=__name__,
)
Params.__doc__ = "Every model parameter, typed as declared in the registry (frozen)."


def _typed(p: Param, v: Any) -> Any:
    return float(v) if p.kind is float else int(v) if p.kind is int else v


@lru_cache(maxsize=64)
def _with_actors(spec: tuple[tuple[str, tuple[tuple[str, type], ...]], ...]) -> tuple[Any, ...]:
    """A ``Params`` subclass with one field per actor namespace (a frozen object of that
    actor's parameters, by their names after the dot), and the namespaces' classes."""
    spaces = tuple(
        make_dataclass(f"Params_{actor}", list(fields), frozen=True, slots=True, module=__name__)
        for actor, fields in spec
    )
    cls = make_dataclass(
        "ParamsWithActors",
        [(actor, space) for (actor, _), space in zip(spec, spaces, strict=True)],
        bases=(Params,),
        frozen=True,
        slots=True,
        module=__name__,
    )
    cls.__doc__ = (
        "The central parameters and, as ``p.<actor>.<name>``, those the cast's actors declare."
    )
    return (cls, *spaces)


def make_params(values: Mapping[str, Any], registry: Mapping[str, Param] | None = None) -> Any:
    """A ``Params`` from validated values (every key of ``registry`` present; default: the
    central registry). An actor's parameter ``<actor>.<name>`` is read as
    ``p.<actor>.<name>``."""
    out = {name: _typed(p, values[name]) for name, p in PARAMETERS.items()}
    if registry is None or len(registry) == len(PARAMETERS):
        return Params(**out)
    by_actor: dict[str, list[tuple[str, Param]]] = {}
    for name, p in registry.items():
        if name not in PARAMETERS:
            actor, _, short = name.partition(".")
            by_actor.setdefault(actor, []).append((short, p))
    spec = tuple(
        (actor, tuple((short, p.kind) for short, p in items)) for actor, items in by_actor.items()
    )
    cls, *spaces = _with_actors(spec)
    for (actor, items), space in zip(by_actor.items(), spaces, strict=True):
        out[actor] = space(**{s: _typed(p, values[f"{actor}.{s}"]) for s, p in items})
    return cls(**out)
