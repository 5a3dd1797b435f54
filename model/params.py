"""Parameters carried typed: a frozen object generated from the registry.

``model.parameters.PARAMETERS`` declares every parameter once; ``Params`` is a frozen
dataclass with one typed field per entry, built once from validated values, so the
model's rules read ``p.audience_cost`` (a float) or ``p.lookahead_months`` (an int)
instead of casting from a string-keyed dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import make_dataclass
from typing import Any

from model.parameters import PARAMETERS

Params = make_dataclass(
    "Params",
    [(name, p.kind) for name, p in PARAMETERS.items()],
    frozen=True,
    slots=True,
    module=__name__,
)
Params.__doc__ = "Every model parameter, typed as declared in the registry (frozen)."


def make_params(values: Mapping[str, Any]) -> Any:
    """A ``Params`` from validated values (every registry key present)."""
    out = {}
    for name, p in PARAMETERS.items():
        v = values[name]
        out[name] = float(v) if p.kind is float else int(v) if p.kind is int else v
    return Params(**out)
