"""The pact and the dispute around it: the states every actor's rules read.

The pact's lifecycle (negotiating -> active -> notice_pending -> suspended / terminated),
the level of Japan's export curbs and the state of Seoul's WTO complaint are the reduced
state of the month's game; the actor modules in ``agents/`` own the moves that change
them. The pact's intelligence value is read by every government that values the pact.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np


class Pact(IntEnum):
    """Lifecycle of the pact."""

    NEGOTIATING = 0
    ACTIVE = 1
    NOTICE_PENDING = 2
    SUSPENDED = 3
    TERMINATED = 4

    @property
    def label(self) -> str:
        """The state's name as used in configs and outputs."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Pact:
        """Inverse of ``label``."""
        return cls[label.upper()]


N_PACT = len(Pact)
N_CURB = 3
"""Curb levels: 0 none, 1 targeted export controls (2019-07-04), 2 plus the white-list
removal (2019-08-02)."""
WTO_NONE, WTO_ACTIVE, WTO_SUSPENDED = 0, 1, 2
WTO_STATES = ("none", "active", "suspended")
"""Seoul's WTO complaint against the curbs: never filed, standing, paused (2019-11-22)."""

ALIVE = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
"""Whether the pact is in force, by pact state (a notice keeps it in force until it
lapses; a suspended notice too)."""
FIRM = np.array([0, 0, 1, 0, 1])
"""Whether Seoul stands firm in the public's eyes, by pact state: a standing notice or a
terminated pact rallies the hard line."""
COMMITTED = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
"""Whether Seoul is publicly committed to ending the pact, by pact state: a notice
standing or held in abeyance ("could terminate at any moment") makes backing down cost
face (Fearon 1994)."""
STRAINED = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
"""Whether a notice strains Seoul's trust in Tokyo, by pact state (Tokyo's protest of
2019-08-23 lasts while the notice stands, is held in abeyance, or has ended the pact)."""


def strain(p: Any, tension: Any, pact: Any, curb: Any, talks: Any) -> Any:
    """Strain on Seoul's trust in Tokyo (before clipping to [0, 1]): the historical
    tension, a notice's strain while it stands (``STRAINED``), the curbs' blow ("grave
    change", 2019-08-22), less what running talks restore. Arrays or scalars."""
    return (
        tension
        + p.notice_tension * STRAINED[pact]
        + p.trust_loss * curb / (N_CURB - 1)
        - p.talks_relief * talks
    )


def curb_damage(p: Any, env: Any, curb: Any) -> Any:
    """The curbs' damage to trade, before each side's exposure: Korean firms replace
    ``supply_diversification`` of what curbs in force cut off."""
    dependence = env.trade_dependence * (1.0 - p.supply_diversification * (curb > 0))
    return p.trade_damage * dependence * curb / (N_CURB - 1)


def curb_damage_per_dependence(p: Any, curb: Any) -> Any:
    """``curb_damage`` per unit of Korea's trade dependence before any curb (the slow
    variable ``trade_dependence``): what the parameters and the curb level fix."""
    return p.trade_damage * (1.0 - p.supply_diversification * (curb > 0)) * curb / (N_CURB - 1)


def intelligence(p: Any, env: Any) -> float:
    """The pact's intelligence over the TISA fallback: ``security_value`` times the
    threat, less what the 2014 trilateral arrangement would still carry."""
    return p.security_value * env.threat * (1.0 - p.tisa_fallback)
