"""The slow variables of the crisis, as the governments see them in a month."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model.opinion import PublicBelief


@dataclass(frozen=True)
class Environment:
    """Slow variables, held fixed while the month's moves are chosen, and the public the
    governments expect under each state of their game.

    What no government's move changes (the threat, the historical tension, Tokyo's
    grievance over the ruling, Korea's dependence on Japanese materials before any curb)
    each government expects to stay as it is now. What their moves do change is read
    per state of the game, in the months ahead as in this one: the public
    (``public``: the poll and the boycott under the state's curbs, stance, talks and US
    pressure), the commitment a notice creates, the strain it puts on trust, what talks
    restore and what curbs make Korea replace (the actors' ``utility``).
    """

    threat: float
    poll: float
    boycott_share: float
    tension: float
    grievance: float
    trade_dependence: float
    public: PublicBelief | None = None

    def expected_public(self, curb: Any, firm: Any, talks: Any, pressure: Any) -> tuple:
        """(end, keep, boycott) shares expected in the states given (index arrays:
        curb level, firm stance 0/1, talks 0/1, US pressure level); today's poll, with
        nobody undecided, and boycott in every state when no belief is given."""
        if self.public is None:
            poll = np.broadcast_to(self.poll, np.broadcast(curb, firm, talks, pressure).shape)
            return poll, 1.0 - poll, poll * 0.0 + self.boycott_share
        return self.public.at(curb, firm, talks, pressure)
