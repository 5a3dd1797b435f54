"""Why each government moved as it did: expected utility of every option, by component.

For every monthly decision the model records, for each feasible move, its choice
probability and its expected utility split into the payoff components of
``model.actions.COMPONENTS``, separately for this month ("immediate") and for the
discounted future up to and past the next deadline ("continuation"). Expectations are
taken over the later movers' logit responses, as the decision-maker anticipates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from model.actions import (
    BEIJING,
    BEIJING_ACTIONS,
    COMPONENTS,
    SEOUL,
    SEOUL_ACTIONS,
    TOKYO,
    TOKYO_ACTIONS,
    US_LABELS,
    WASHINGTON,
)
from model.decisions import MonthSolution
from model.payoffs import Menus, Profiles


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
        return {c: self.immediate[c] + self.continuation[c] for c in COMPONENTS}

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


def _options(
    labels: list[str], probs: np.ndarray, flow: np.ndarray, cont: np.ndarray, keep: np.ndarray
) -> tuple[OptionValue, ...]:
    out = []
    for label, pr, f, c, ok in zip(labels, probs, flow, cont, keep, strict=True):
        if ok:
            out.append(
                OptionValue(
                    action=label,
                    probability=float(pr),
                    immediate=dict(zip(COMPONENTS, map(float, f), strict=True)),
                    continuation=dict(zip(COMPONENTS, map(float, c), strict=True)),
                )
            )
    return tuple(out)


def explain_month(
    when: date,
    sol: MonthSolution,
    prof: Profiles,
    menus: Menus,
    moves: tuple[int, int, int, int],
) -> dict[str, Decision]:
    """Decisions of the month for the realised moves ``(u, j, t, s)`` (positions in the
    menus), for a solution over a batch of one state."""
    u, j, t, s = moves
    flow = sol.flow[0]
    cont = np.broadcast_to(sol.cont[0], flow.shape)
    ps, pt = sol.p_seoul[0], sol.p_tokyo[0]
    su, sj = sol.sigma_us[0], sol.sigma_beijing[0]
    seoul_labels = [SEOUL_ACTIONS[a] for a in menus.seoul[0]]
    tokyo_labels = [TOKYO_ACTIONS[a] for a in menus.tokyo[0]]
    us_labels = [US_LABELS[a] for a in menus.us]
    bj_labels = [BEIJING_ACTIONS[a] for a in menus.beijing]

    after_s = [np.einsum("ujts,ujtspc->ujtpc", ps, x) for x in (flow, cont)]
    after_t = [np.einsum("ujt,ujtpc->ujpc", pt, x) for x in after_s]
    us_side = [np.einsum("j,ujpc->upc", sj, x)[:, WASHINGTON] for x in after_t]
    bj_side = [np.einsum("u,ujpc->jpc", su, x)[:, BEIJING] for x in after_t]

    def decision(actor: str, labels: list[str], chosen: int, options: tuple) -> Decision:
        return Decision(when, actor, labels[chosen], options)

    all_us = np.ones(len(us_labels), dtype=bool)
    all_bj = np.ones(len(bj_labels), dtype=bool)
    return {
        "washington": decision(
            "washington", us_labels, u, _options(us_labels, su, *us_side, all_us)
        ),
        "beijing": decision("beijing", bj_labels, j, _options(bj_labels, sj, *bj_side, all_bj)),
        "tokyo": decision(
            "tokyo",
            tokyo_labels,
            t,
            _options(
                tokyo_labels,
                pt[u, j],
                after_s[0][u, j, :, TOKYO],
                after_s[1][u, j, :, TOKYO],
                prof.tokyo_ok[0],
            ),
        ),
        "seoul": decision(
            "seoul",
            seoul_labels,
            s,
            _options(
                seoul_labels,
                ps[u, j, t],
                flow[u, j, t, :, SEOUL],
                cont[u, j, t, :, SEOUL],
                prof.seoul_ok[0, t],
            ),
        ),
    }
