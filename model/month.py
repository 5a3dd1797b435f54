"""One month's game from the model's state: its equilibrium, the draws, the explanations.

The model builds the month's profiles from its current reduced state (cached per
scenario), sums every actor's utility, adds the continuation values of the states the
profiles lead to (``model.lookahead``) and solves the month by backward induction over
the move order (``model.game.solve``). Each government then draws its own move at the
node the earlier movers' draws reached (``node_probabilities``). The explanation of the
month — every option's expected utility by payoff component — is computed when first
asked for (``decisions``), from what was stored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from model.explain import Decision, explain_month, node_probabilities
from model.game import Policy, Profiles, components, solve, utilities
from model.lookahead import Continuation, Horizon, solve_horizon


@dataclass
class Realised:
    """The month's realised moves: each mover's move code and label, the reduced state
    before and right after the moves, and the day each actor acted."""

    month: date
    codes: dict[str, int]
    labels: dict[str, str]
    before: dict[str, int]
    after: dict[str, int]
    days: dict[str, date] = field(default_factory=dict)

    def day(self, actor: str) -> date:
        """The day ``actor`` moved (the first of the month unless it says otherwise)."""
        return self.days.get(actor, self.month)


@dataclass
class MonthGame:
    """The month's game from the current state, solved."""

    month: date
    g: Profiles
    comps: list[dict[str, Any]]
    continuation: Continuation
    policy: Policy
    positions: list[int] = field(default_factory=list)  # realised menu positions

    @classmethod
    def solve(cls, month: date, h: Horizon, p: Any, env: Any) -> MonthGame:
        """Solve the month ``h.first`` with continuation values from the rest of ``h``."""
        lam = float(p.rationality)
        g = h.first.g
        totals, comps = utilities(g, p, env)
        cont = solve_horizon(h, p, env, lam)
        return cls(month, g, comps, cont, solve(g, totals + cont.cont, lam))

    def node_probabilities(self, actor: str) -> np.ndarray:
        """``actor``'s choice probabilities at the node the earlier draws reached."""
        return node_probabilities(self.g, self.policy, actor, self.positions)

    def take(self, actor: str, position: int) -> int:
        """Record the move ``actor`` (the next mover) drew, by menu position; its code."""
        movers = self.g.cast.order.movers
        if movers[len(self.positions)] != actor:
            raise RuntimeError(f"{actor} moved out of the move order {movers}")
        self.positions.append(position)
        return int(self.g.menus[actor][0, position])

    @property
    def node(self) -> tuple[int, ...]:
        """Index of the realised profile in the month's arrays."""
        return (0, *self.positions)

    def realised_state(self, which: str = "after") -> dict[str, int]:
        """The reduced state right after the realised moves (``after``) or at the end of
        the month (``next``)."""
        src = self.g.state if which == "after" else self.g.next
        return {k: int(np.broadcast_to(v, self.g.shape)[self.node]) for k, v in src.items()}

    def payoffs(self) -> dict[str, dict[str, float]]:
        """Each actor's realised utility of the month by component."""
        names, out = self.g.cast.components, {}
        for actor, parts in zip(self.g.cast.names, self.comps, strict=True):
            out[actor] = {
                c: float(np.broadcast_to(parts[c], self.g.shape)[self.node]) if c in parts else 0.0
                for c in names
            }
        return out

    def decisions(self) -> dict[str, Decision]:
        """Every mover's decision, with each option's value by component."""
        flow = components(self.g, self.comps)
        return explain_month(
            self.month,
            self.g,
            self.policy,
            flow,
            self.continuation.components(),
            self.positions,
        )
