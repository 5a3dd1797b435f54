"""The four strategic governments as Mesa agents on the relations network.

The month's game is solved jointly by the model (``model.decisions``), because every
government's best move depends on the others'; each agent then makes its own logit draw
from its equilibrium strategy, keeps its stance and payoffs, and remembers why it moved
(``model.explain.Decision``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from mesa.discrete_space import CellAgent

from model.actions import (
    ACTORS,
    BEIJING_ACTIONS,
    COMPONENTS,
    SEOUL_ACTIONS,
    TOKYO_ACTIONS,
    US_LABELS,
)
from model.decisions import draw

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from model.explain import Decision
    from model.model import GSOMIAModel


class Government(CellAgent):
    """A government: one node of the relations network, a menu of moves, a record."""

    actor: ClassVar[str]
    moves: ClassVar[tuple[str, ...]]

    def __init__(self, model: GSOMIAModel, cell: Cell) -> None:
        super().__init__(model)
        self.cell = cell
        self.node_id: int = ACTORS.index(self.actor)
        self.last_move: str = self.moves[0]
        self.decisions: list[Decision] = []
        self.last_payoff: dict[str, float] = dict.fromkeys(COMPONENTS, 0.0)
        self.total_payoff: float = 0.0

    def choose(self, probabilities: np.ndarray, rng: np.random.Generator) -> int:
        """Logit choice: draw a move with its quantal-response probability."""
        return draw(rng, probabilities)

    def record(self, decision: Decision, payoff: np.ndarray) -> None:
        """Keep the month's decision and realised utility (one value per component)."""
        self.decisions.append(decision)
        self.last_move = decision.chosen
        self.last_payoff = dict(zip(COMPONENTS, map(float, payoff), strict=True))
        self.total_payoff += float(payoff.sum())

    @property
    def last_decision(self) -> Decision | None:
        """The most recent decision, if any."""
        return self.decisions[-1] if self.decisions else None


class Seoul(Government):
    """South Korea: the pact's notice, suspension and revival, the WTO complaint."""

    actor = "seoul"
    moves = SEOUL_ACTIONS


class Tokyo(Government):
    """Japan: export curbs, their lifting, and working-level talks."""

    actor = "tokyo"
    moves = TOKYO_ACTIONS


class Washington(Government):
    """The United States: pressure on Seoul and on Tokyo."""

    actor = "washington"
    moves = US_LABELS


class Beijing(Government):
    """China: rhetoric or inducements toward Seoul."""

    actor = "beijing"
    moves = BEIJING_ACTIONS
