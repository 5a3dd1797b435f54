"""The slow variables of the crisis, as the governments see them in a month."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Environment:
    """Slow variables, held fixed while the month's moves are chosen.

    They are the governments' beliefs for the lookahead too: each expects the public
    mood, the threat and the relations to stay as they are now.
    """

    threat: float
    poll: float
    boycott_share: float
    tension: float
    grievance: float
    trade_dependence: float
    commitment: float
