"""Washington: its declared pressure on Seoul (0-3), and pressure on Tokyo (0/1).

The pact is "foundational" to Washington; pressure has a price. A public position, once
taken, is not withdrawn before the crisis is decided: the declared pressure on Seoul is
state, raised at most one rung a month (a statement, a senior visit, an all-out campaign)
and held until the next deadline passes. That is Washington's record of 2019: public
support on 07-18, the envoy in August, a steady rise through November (DOMAIN.md,
"Washington's record in 2019"). Reaching a rung for the first time emits its event: a
public statement (2019-07-18), a senior visit (2019-11-15), the all-out campaign with a
Congressional resolution (2019-11-21). Pressure on Tokyo's curbs is a month's choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.government import Government
from model.pact import intelligence

if TYPE_CHECKING:
    from model.game import Profiles
    from model.month import Realised

PRESSURE_LEVELS = 4
"""Declared pressure on Seoul: 0 none, 1 public support for the pact, 2 senior visits,
3 all-out (Congress)."""
MOVES = ("hold", "raise_pressure", "press_tokyo", "raise_pressure+press_tokyo")
HOLD, RAISE, PRESS_TOKYO, RAISE_AND_PRESS_TOKYO = range(len(MOVES))
RAISES = np.array([0, 1, 0, 1])
ON_TOKYO = np.array([0.0, 0.0, 1.0, 1.0])
PRESSURE_EVENTS = {1: "public_support", 2: "pressure_visit", 3: "congress_resolution"}


class Washington(Government):
    """The United States: declared pressure on Seoul, pressure on Tokyo."""

    actor = "washington"
    moves = MOVES
    state_vars: ClassVar[Mapping[str, int]] = {"pressure": PRESSURE_LEVELS}
    components = ("security", "pressure_cost")

    @classmethod
    def feasible(cls, g: Profiles, move: np.ndarray) -> np.ndarray:
        """One rung a month, up to all-out."""
        return (RAISES[move] == 0) | (g.start["pressure"] < PRESSURE_LEVELS - 1)

    @classmethod
    def transition(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """The declared pressure after the move (infeasible raises stay at the top)."""
        return {"pressure": np.minimum(g.start["pressure"] + RAISES[move], PRESSURE_LEVELS - 1)}

    @classmethod
    def signals(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """Pressure on Seoul (share of all-out) and on Tokyo."""
        return {
            "pressure_seoul": g.state["pressure"] / (PRESSURE_LEVELS - 1),
            "pressure_tokyo": ON_TOKYO[move],
        }

    @classmethod
    def prepared(cls, g: Profiles, p: Any) -> dict[str, Any]:
        """The parts of its month that the profiles and parameters fix: the pact's weight
        per unit of intelligence, the cost of pressing."""
        ps, pt = g.signal("pressure_seoul"), g.signal("pressure_tokyo")
        pressing = ps * g.signal("defiance") if g.lasting else ps
        return {
            "security_per_intelligence": p.us_security_weight * g.signal("alive"),
            "pressure_cost": -p.us_pressure_cost * pressing - p.us_tokyo_pressure_cost * pt,
        }

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]:
        """The pact's value to the alliance and the cost of pressing, paid every month a
        position is held. After a deadline (``lasting``) pressing costs only as long as
        Seoul defies."""
        fixed = g.memo_params("washington.prepared", p, cls.prepared)
        return {
            "security": intelligence(p, env) * fixed["security_per_intelligence"],
            "pressure_cost": fixed["pressure_cost"],
        }

    def lookahead_moves(self) -> np.ndarray:
        """In the months ahead it is expected to press Seoul only (not Tokyo)."""
        return np.array([HOLD, RAISE])

    def apply(self, r: Realised) -> None:
        """Events of new rungs reached since the last deadline."""
        m = self.model
        level, pt = int(r.after["pressure"]), int(ON_TOKYO[r.codes["washington"]])
        for rung in range(m.us_peak + 1, level + 1):
            m.emit(r.month, "washington", PRESSURE_EVENTS[rung], f"pressure on Seoul {rung}/3")
        m.us_peak = max(m.us_peak, level)
        if pt and not m.us_pressure[1]:
            m.emit(r.month, "washington", "pressure_on_tokyo", "presses Tokyo on its curbs")
        m.us_pressure = (level, pt)
        m.pressure_on_seoul = level / (PRESSURE_LEVELS - 1)
        m.pressure_on_tokyo = float(pt)

    def deadline_passed(self) -> None:
        """The crisis is decided (renewal, suspension or lapse): the declared position is
        spent, and a new crisis starts from none."""
        m = self.model
        m.pressure = 0
        m.us_peak = 0

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
