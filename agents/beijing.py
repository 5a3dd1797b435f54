"""Beijing: rhetoric or inducements toward Seoul (Beijing called the pact part of US
containment); it gains from a weakened triangle and pays for inducements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agents.government import Government

if TYPE_CHECKING:
    from model.game import Profiles
    from model.month import Realised

MOVES = ("none", "rhetoric", "inducement")


def strength(p: Any) -> np.ndarray:
    """Effect of each move on Seoul's payoff from distancing (share of china_influence)."""
    return np.array([0.0, p.rhetoric_strength, 1.0])


def cost(p: Any) -> np.ndarray:
    """Cost of each move (share of inducement_cost)."""
    return np.array([0.0, p.rhetoric_cost, 1.0])


class Beijing(Government):
    """China: rhetoric or inducements toward Seoul."""

    actor = "beijing"
    moves = MOVES
    components = ("china", "pressure_cost")
    keeps_stance = True

    @classmethod
    def derived(cls, g: Profiles, p: Any) -> dict[str, np.ndarray]:
        """The strength of its pull on Seoul."""
        return {"inducement": strength(p)[g.move("beijing")]}

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]:
        """Gains from Seoul's defiance; the cost of its move (the profiles and parameters
        fix both)."""
        return dict(g.memo_params("beijing.utility", p, cls._utility))

    @classmethod
    def _utility(cls, g: Profiles, p: Any) -> dict[str, Any]:
        return {
            "china": p.china_influence * g.signal("defiance"),
            "pressure_cost": -p.inducement_cost * cost(p)[g.move("beijing")],
        }

    def lookahead_moves(self) -> np.ndarray:
        """It is expected to keep its current stance in the months ahead."""
        return np.array([self.model.beijing_move])

    def apply(self, r: Realised) -> None:
        """An event when it changes to rhetoric or inducement."""
        m, j = self.model, r.codes["beijing"]
        if j != m.beijing_move and j:
            m.emit(r.month, "beijing", MOVES[j], "toward Seoul")
        m.beijing_move = j
        m.beijing_stance = float(strength(m.params)[j])

    def stance(self) -> float:
        """The strength of its pull on Seoul."""
        return self.model.beijing_stance

    def relations(self) -> dict[tuple[str, str], dict[str, float]]:
        """Its inducement of Seoul."""
        return {("seoul", "beijing"): {"inducement": self.model.beijing_stance}}
