"""The contract every strategic government fulfils, as a Mesa agent on the relations
network.

A government class declares its moves (``moves[0]`` is the move that changes nothing),
the reduced state variables it owns, its payoff components, whether it keeps its stance
after a deadline, and four vectorised rules the month's game is composed from
(``model.game``): ``feasible``, ``transition``, ``signals`` (``derived`` where they depend
on parameters) and ``utility``. As an agent
it draws its own move from the month's equilibrium (``choose``) and applies it to the
world (``apply``): the events it emits and the state it changes. Adding an actor means
one such class and a place in the scenario's move order; nothing in ``model/`` names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from mesa.discrete_space import CellAgent

if TYPE_CHECKING:
    from mesa import Model
    from mesa.discrete_space import Cell

    from model.explain import Decision
    from model.game import Profiles
    from model.month import Realised
    from model.parameters import Param


class Government(CellAgent):
    """A strategic government: its moves, rules, payoffs and record."""

    actor: ClassVar[str]
    moves: ClassVar[tuple[str, ...]]
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """The timeline events ``apply`` emits, by the actor each is dated under: the names
    targets and timelines are checked against (``model.vocabulary``)."""
    state_vars: ClassVar[Mapping[str, int]] = {}
    components: ClassVar[tuple[str, ...]] = ()
    keeps_stance: ClassVar[bool] = False
    """After a deadline, keep the deadline month's move (a third party's stance) rather
    than hold."""
    parameters: ClassVar[tuple[Param, ...]] = ()
    """Parameters this actor declares itself (``model.parameters.Param``), each named
    ``<actor>.<name>``: a model whose cast includes it validates, documents and sweeps them
    like the central ones (``model.parameters.registry``), and its rules read them as
    ``p.<actor>.<name>``. In TOML they go in ``[parameters.<actor>]``. The shipped actors
    declare none (theirs are in the central registry)."""

    def __init__(self, model: Model, cell: Cell | None = None) -> None:
        super().__init__(model)
        if cell is not None:
            self.cell = cell
        self.move_code: int = 0
        self.last_payoff: dict[str, float] = {}
        self.total_payoff: float = 0.0

    # ---- the game's rules (vectorised over profiles; see model.game.Profiles) ----------
    @classmethod
    def feasible(cls, g: Profiles, move: np.ndarray) -> np.ndarray | bool:
        """Which of ``move`` are feasible given the state and the earlier moves."""
        return True

    @classmethod
    def transition(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """New values of the state variables ``move`` changes."""
        return {}

    @classmethod
    def signals(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """Quantities the other actors' rules read (e.g. ``pressure_seoul``)."""
        return {}

    @classmethod
    def derived(cls, g: Profiles, p: Any) -> dict[str, np.ndarray]:
        """Signals that depend on parameters (computed with the utilities)."""
        return {}

    @classmethod
    def settle(cls, g: Profiles) -> dict[str, np.ndarray]:
        """State changes at the end of the month that no move makes (e.g. a lapse)."""
        return {}

    @classmethod
    def at_horizon(cls, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """How a state left at the end of a lookahead is valued (e.g. a standing notice
        as the lapse it promises)."""
        return {}

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]:
        """The month's utility by payoff component, broadcastable to ``g.shape``. It
        reads the state, the moves and the signals, not the calendar: months of the
        lookahead that differ only in their calendar share their utilities (what the
        calendar allows is ``feasible``'s business)."""
        return {}

    @classmethod
    def initial_state(cls, values: Mapping[str, Any]) -> dict[str, int]:
        """Starting values of the state variables it owns, from the scenario."""
        return dict.fromkeys(cls.state_vars, 0)

    def lookahead_moves(self) -> np.ndarray | None:
        """The moves the others expect it to consider in the months ahead (None: every
        move feasible then)."""
        return None

    # ---- acting --------------------------------------------------------------------------
    @property
    def decisions(self) -> list[Decision]:
        """Every decision it made, with the expected utility of each option."""
        return [d for d in self.model.decisions if d.actor == self.actor]

    @property
    def last_decision(self) -> Decision | None:
        """The most recent decision, if any."""
        return next((d for d in reversed(self.model.decisions) if d.actor == self.actor), None)

    @property
    def last_move(self) -> str:
        """Its latest move (``moves[0]`` before any)."""
        return self.moves[self.move_code]

    def choose(self) -> None:
        """Draw its move from its quantal-response probabilities at the node the
        earlier movers' draws reached in the month's game."""
        game = self.model.month_game
        position = self.draw(game.node_probabilities(self.actor), self.model.decision_rng)
        self.move_code = game.take(self.actor, position)

    def draw(self, probabilities: np.ndarray, rng: np.random.Generator) -> int:
        """Logit choice: the position of a move drawn with its probability."""
        cdf = np.cumsum(probabilities)
        pos = np.searchsorted(cdf, rng.random() * cdf[-1], side="right")
        return int(min(pos, len(probabilities) - 1))

    def move_day(self, month: date, code: int) -> date:
        """The day its move of the month is dated (the first unless the calendar says
        otherwise)."""
        return month

    def apply(self, r: Realised) -> None:
        """Make the realised move in the world: events and state beyond the game's."""

    def deadline_passed(self) -> None:
        """The pact's fate was decided this month (renewal, suspension or lapse): reset
        what lasts only until then."""

    def record(self, payoff: Mapping[str, float]) -> None:
        """Keep the month's realised utility by component."""
        self.last_payoff = dict(payoff)
        self.total_payoff += float(np.sum(np.fromiter(payoff.values(), float)))

    def stance(self) -> float:
        """Its stance for the relations network (0 conciliatory .. 1 hard)."""
        return 0.0

    def relations(self) -> dict[tuple[str, str], dict[str, float]]:
        """Attributes of its ties on the relations network, by (actor, actor)."""
        return {}
