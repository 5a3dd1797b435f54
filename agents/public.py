"""Korean domestic opinion as one Mesa agent holding a vectorised public."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from mesa import Agent

from agents.washington import PRESSURE_LEVELS
from model.opinion import OpinionNetwork, OpinionPush, PublicBelief
from model.pact import FIRM, N_CURB

if TYPE_CHECKING:
    from model.game import Profiles
    from model.model import GSOMIAModel


class KoreanPublic(Agent):
    """The Korean public: citizens on a social graph (``model.opinion``), updated as one
    vector rather than one Python object per citizen. Its poll is what Seoul's payoffs
    read (audience costs and approval, Fearon 1994; Putnam 1988)."""

    def __init__(self, model: GSOMIAModel, network: OpinionNetwork, boycott_threshold: float):
        super().__init__(model)
        self.network = network
        self.boycott_threshold = boycott_threshold

    @property
    def poll(self) -> float:
        """Share of all citizens favouring termination of the pact."""
        return self.network.poll()

    @property
    def shares(self) -> tuple[float, float, float]:
        """The poll's shares of all citizens: for ending, for keeping, undecided."""
        return self.network.shares()

    @property
    def mean_opinion(self) -> float:
        """Mean support for a hard line."""
        return self.network.mean()

    @property
    def boycott_share(self) -> float:
        """Share of citizens committed enough to boycott Japanese goods."""
        return self.network.share_above(self.boycott_threshold)

    def belief(self, launches: float) -> PublicBelief:
        """The public the governments expect under each state of their game."""
        return PublicBelief.expect(
            self.network, self.boycott_threshold, N_CURB, PRESSURE_LEVELS, launches
        )

    def react(self, push: OpinionPush) -> None:
        """One month of opinion dynamics after the month's events."""
        self.network.step(push)


def public_index(g: Profiles) -> np.ndarray:
    """Each profile's position in the flattened tables of the public the governments
    expect (``PublicBelief``: curb level, firm stance, talks, level of US pressure on
    Seoul), from the state after the moves."""
    pressure = np.rint(np.asarray(g.signal("pressure_seoul")) * (PRESSURE_LEVELS - 1))
    dims = (g.state["curb"], FIRM[g.state["pact"]], g.state["talks"], pressure.astype(np.int64))
    return np.ravel_multi_index(np.broadcast_arrays(*dims), (N_CURB, 2, 2, PRESSURE_LEVELS))


def expected_public(g: Profiles, env: Any) -> tuple[Any, Any, Any]:
    """(end, keep, boycott) shares the governments expect in each profile's state after
    the moves: the curbs, Seoul's stance, the talks and Washington's pressure on Seoul
    (a move's effect on opinion counts in the lookahead of the government making it).
    Gathered once per profiles and belief (every government that reads it shares it)."""
    if env.public is None:
        pressure = np.rint(np.asarray(g.signal("pressure_seoul")) * (PRESSURE_LEVELS - 1))
        return env.expected_public(
            g.state["curb"], FIRM[g.state["pact"]], g.state["talks"], pressure.astype(np.int64)
        )
    held = g.memo("public_gathered", lambda _: [None, None])
    if held[0] is not env.public:  # held[0] keeps the belief alive: identity is safe
        held[:] = [env.public, env.public.take(g.memo("public_index", public_index))]
    return held[1]
