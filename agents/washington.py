"""Washington: pressure on Seoul (0-3) and on Tokyo (0/1).

The pact is "foundational" to Washington; pressure has a price. Reaching a level of
pressure on Seoul for the first time emits its event: a public statement (2019-07-18),
a senior visit (2019-11-15), the all-out campaign with a Congressional resolution
(2019-11-21).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agents.government import Government
from model.pact import intelligence

if TYPE_CHECKING:
    from model.game import Profiles
    from model.month import Realised

PRESSURE_LEVELS = 4
"""Pressure on Seoul: 0 none .. 3 all-out."""
LEVELS = tuple((ps, pt) for ps in range(PRESSURE_LEVELS) for pt in range(2))
"""Each move's (pressure on Seoul, pressure on Tokyo)."""
MOVES = tuple(f"pressure_seoul={ps},pressure_tokyo={pt}" for ps, pt in LEVELS)
_SEOUL = np.array([ps / (PRESSURE_LEVELS - 1) for ps, _ in LEVELS])
_TOKYO = np.array([float(pt) for _, pt in LEVELS])
PRESSURE_EVENTS = {1: "public_support", 2: "pressure_visit", 3: "congress_resolution"}


class Washington(Government):
    """The United States: pressure on Seoul and on Tokyo."""

    actor = "washington"
    moves = MOVES
    components = ("security", "pressure_cost")
    keeps_stance = True

    @classmethod
    def signals(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """Pressure on Seoul (share of all-out) and on Tokyo."""
        return {"pressure_seoul": _SEOUL[move], "pressure_tokyo": _TOKYO[move]}

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]:
        """The pact's value to the alliance and the cost of pressing. After a deadline
        (``lasting``) Washington keeps pressing only as long as Seoul defies."""
        ps, pt = g.signal("pressure_seoul"), g.signal("pressure_tokyo")
        pressing = ps * g.signal("defiance") if g.lasting else ps
        return {
            "security": p.us_security_weight * intelligence(p, env) * g.signal("alive"),
            "pressure_cost": -p.us_pressure_cost * pressing - p.us_tokyo_pressure_cost * pt,
        }

    def lookahead_moves(self) -> np.ndarray:
        """In the months ahead it is expected to press Seoul only (not Tokyo)."""
        return np.array([i for i, (_, pt) in enumerate(LEVELS) if pt == 0])

    def apply(self, r: Realised) -> None:
        """Events of new pressure levels reached since the last deadline."""
        m = self.model
        ps, pt = LEVELS[r.codes["washington"]]
        for level in range(m.us_peak + 1, ps + 1):
            m.emit(r.month, "washington", PRESSURE_EVENTS[level], f"pressure on Seoul {level}/3")
        m.us_peak = max(m.us_peak, ps)
        if pt and not m.us_pressure[1]:
            m.emit(r.month, "washington", "pressure_on_tokyo", "presses Tokyo on its curbs")
        m.us_pressure = (ps, pt)
        m.pressure_on_seoul = ps / (PRESSURE_LEVELS - 1)
        m.pressure_on_tokyo = float(pt)

    def stance(self) -> float:
        """Pressure on Seoul, as a share of all-out."""
        return self.model.pressure_on_seoul

    def relations(self) -> dict[tuple[str, str], dict[str, float]]:
        """Its pressure on each ally."""
        m = self.model
        return {
            ("seoul", "washington"): {"us_pressure": m.pressure_on_seoul},
            ("tokyo", "washington"): {"us_pressure": m.pressure_on_tokyo},
        }
