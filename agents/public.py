"""Korean domestic opinion as one Mesa agent holding a vectorised public."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from model.opinion import OpinionNetwork, OpinionPush

if TYPE_CHECKING:
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
        """Share of citizens favouring termination of the pact."""
        return self.network.poll()

    @property
    def mean_opinion(self) -> float:
        """Mean support for a hard line."""
        return self.network.mean()

    @property
    def boycott_share(self) -> float:
        """Share of citizens committed enough to boycott Japanese goods."""
        return self.network.share_above(self.boycott_threshold)

    def react(self, push: OpinionPush) -> None:
        """One month of opinion dynamics after the month's events."""
        self.network.step(push)
