"""Why each government moved as it did: expected utility of every option, by component.

For every monthly decision the model records, for each feasible move, its choice
probability and its expected utility split into the payoff components of
the cast (``model.game.Cast.components``), separately for this month ("immediate") and for the
discounted future up to and past the next deadline ("continuation"). Expectations are
taken over the later movers' logit responses, as the decision-maker anticipates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from model.game import Policy, Profiles, expect_stage


@dataclass(frozen=True)
class OptionValue:
    """One feasible move, its logit probability and expected utility by component."""

    action: str
    probability: float
    immediate: dict[str, float]
    continuation: dict[str, float]

    @property
    def expected_utility(self) -> float:
        """Immediate plus continuation, all components."""
        return sum(self.immediate.values()) + sum(self.continuation.values())

    def components(self) -> dict[str, float]:
        """Immediate plus continuation, per component."""
        return {c: self.immediate[c] + self.continuation[c] for c in self.immediate}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "action": self.action,
            "probability": round(self.probability, 6),
            "expected_utility": round(self.expected_utility, 6),
            "components": {k: round(v, 6) for k, v in self.components().items()},
            "immediate": {k: round(v, 6) for k, v in self.immediate.items()},
            "continuation": {k: round(v, 6) for k, v in self.continuation.items()},
        }


@dataclass(frozen=True)
class Decision:
    """A government's decision in one month."""

    date: date
    actor: str
    chosen: str
    options: tuple[OptionValue, ...]

    def option(self, action: str) -> OptionValue:
        """The option named ``action`` (KeyError if it was not feasible)."""
        for o in self.options:
            if o.action == action:
                return o
        raise KeyError(action)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "date": self.date.isoformat(),
            "actor": self.actor,
            "chosen": self.chosen,
            "options": [o.to_dict() for o in self.options],
        }


def node_probabilities(g: Profiles, policy: Policy, actor: str, positions: list[int]) -> np.ndarray:
    """``actor``'s choice probabilities at the node the earlier realised moves reached
    (``positions``: menu positions of the movers before it, in move order)."""
    probs = policy.probs[actor]
    idx: list[int] = [0]
    for i in range(g.axis(actor) - 1):
        idx.append(positions[i] if probs.shape[1 + i] > 1 else 0)
    return probs[tuple(idx)].reshape(-1)


def explain_month(
    when: date,
    g: Profiles,
    policy: Policy,
    flow: np.ndarray,
    cont: np.ndarray,
    positions: list[int],
) -> dict[str, Decision]:
    """Every mover's decision at the realised node of a month solved for one state.

    ``flow`` and ``cont`` are the month's utilities and continuation by component,
    (1, A_1..A_n, P, C); ``positions`` the realised menu positions in move order. Each
    mover's options are valued in expectation over the later movers' policies and, in a
    simultaneous stage, over the other movers' strategies.
    """
    cast, movers = g.cast, g.cast.order.movers
    names = cast.components
    vals = [flow, cont]
    out: dict[str, Decision] = {}
    for stage in reversed(cast.order.stages):
        first = g.axis(stage[0])
        for m in stage:
            idx = (0, *positions[: first - 1])
            sub = [v[idx] for v in vals]  # (A_stage..., P, C)
            for o in reversed(stage):
                if o != m:
                    pr = node_probabilities(g, policy, o, positions)
                    sub = [np.moveaxis(x, g.axis(o) - first, -1) @ pr for x in sub]
            player = cast.player(m)
            k = g.axis(m)
            ok = np.broadcast_to(g.ok[m], g.shape)[(0, *positions[: k - 1])]
            ok = ok.reshape(g.shape[k], -1)[:, 0]
            probs = node_probabilities(g, policy, m, positions)
            labels = [cast.actor(m).moves[c] for c in g.menus[m][0]]
            options = tuple(
                OptionValue(
                    action=labels[a],
                    probability=float(probs[a]),
                    immediate=dict(zip(names, map(float, sub[0][a, player]), strict=True)),
                    continuation=dict(zip(names, map(float, sub[1][a, player]), strict=True)),
                )
                for a in range(len(labels))
                if ok[a]
            )
            out[m] = Decision(when, m, labels[positions[movers.index(m)]], options)
        vals = [expect_stage(g, policy, stage, v, 2) for v in vals]
    return {a: out[a] for a in cast.names}
