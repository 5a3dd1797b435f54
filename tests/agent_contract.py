"""The contract every government agent honours (in the style of Axelrod's strategy tests).

A test class for a government inherits ``GovernmentContract`` and sets:

- ``cls``: the agent class (``agents.Seoul``...);
- ``expected_moves``: the move tuple of its module (``agents.seoul.MOVES``...) its ``moves``
  must equal;
- ``quiet_move``: the move the agent must make every month of ``QUIET``, a scenario where
  every government's choice is forced or strictly dominated at high precision.

The contract then checks declared metadata, placement on the relations network, a clean
start, seeded reproducibility, the record of decisions, and the forced sequence.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest

from model import GSOMIAModel
from model.calendar import add_months, months_between
from model.model import make_cast
from model.vocabulary import vocabulary

CAST = make_cast(None, None)
ACTORS, COMPONENTS = CAST.names, CAST.components

# Through the 2019 notice window, the cut-off and the anniversary, choosing uniformly
# among feasible moves, so that each agent visits many of its moves.
EXPLORE: dict[str, Any] = {
    "start": date(2019, 7, 1),
    "end": date(2019, 12, 31),
    "rationality": 0.0,
    "initial_curb_level": 1,
}
# Sep-Oct 2019: the notice window is closed, no notice stands, no curbs. Tokyo has no
# resolve, so curbs only cost it; Washington's pressure has no weight with Seoul or Tokyo,
# so it only costs; Beijing has no influence, so inducements only cost. With the curbs
# dominated Seoul has nothing to answer and can only hold.
QUIET: dict[str, Any] = {
    "start": date(2019, 9, 1),
    "end": date(2019, 10, 31),
    "pact_state": "active",
    "initial_curb_level": 0,
    "initial_wto": "none",
    "japan_resolve": 0.0,
    "trade_damage": 1.0,
    "japan_exposure": 1.0,
    "us_pressure_weight": 0.0,
    "us_pressure_cost": 1.0,
    "us_tokyo_pressure_cost": 1.0,
    "china_influence": 0.0,
    "inducement_cost": 1.0,
    "rationality": 100.0,
}
if TYPE_CHECKING:
    from agents import Government

QUIET_MONTHS = months_between(QUIET["start"], QUIET["end"]) + 1


def run(seed: int, **kwargs: Any) -> GSOMIAModel:
    model = GSOMIAModel(rng=seed, **kwargs)
    model.run()
    return model


class GovernmentContract:
    """Tests every government agent must pass."""

    cls: ClassVar[type[Government]]
    expected_moves: ClassVar[tuple[str, ...]]
    quiet_move: ClassVar[str]

    # ---- fixtures ------------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def explored(cls) -> list[GSOMIAModel]:
        """Runs of the same scenario: seeds 0, 0 again, 1, 2."""
        return [run(seed, **EXPLORE) for seed in (0, 0, 1, 2)]

    def agent(self, model: GSOMIAModel) -> Government:
        return model.governments[self.cls.actor]

    # ---- declared metadata -----------------------------------------------------------------
    def test_actor_is_declared(self):
        assert self.cls.actor in ACTORS

    def test_moves_declared(self):
        moves = self.cls.moves
        assert isinstance(moves, tuple)
        assert len(moves) > 0
        assert len(set(moves)) == len(moves)
        assert all(isinstance(m, str) and m for m in moves)
        assert moves == self.expected_moves

    def test_quiet_move_is_a_move(self):
        assert self.quiet_move in self.cls.moves

    def test_emitted_events_are_declared(self, explored):
        """Targets and timelines are checked against the events the cast declares
        (``model.vocabulary``): every event of a run is declared, this class's own are
        dated under actors of the cast (or both parties to the pact)."""
        declared = vocabulary(CAST.actors).pairs()
        for model in explored:
            assert {(e.actor, e.event) for e in model.timeline} <= declared
        assert set(self.cls.events) <= {*ACTORS, "both"}
        assert all(names and len(set(names)) == len(names) for names in self.cls.events.values())

    # ---- placement -----------------------------------------------------------------------
    def test_placed_on_the_relations_network(self):
        model = GSOMIAModel(rng=0, n_citizens=50, **QUIET)
        agent = self.agent(model)
        assert type(agent) is self.cls
        assert agent.model is model
        assert agent in model.agents
        assert len(model.agents_by_type[self.cls]) == 1
        assert agent.node_id == ACTORS.index(self.cls.actor)
        assert agent.cell.coordinate == agent.node_id
        assert agent in agent.cell.agents
        assert model.relations.nodes[agent.node_id]["name"] == self.cls.actor

    # ---- a fresh start ---------------------------------------------------------------------
    def test_reset(self, explored):
        used = self.agent(explored[0])
        assert used.decisions  # the run did use the agent
        agent = self.agent(GSOMIAModel(rng=0, **EXPLORE))
        assert agent.last_move == self.cls.moves[0]
        assert agent.decisions == []
        assert agent.last_decision is None
        assert agent.total_payoff == 0.0
        assert agent.last_payoff == dict.fromkeys(COMPONENTS, 0.0)

    # ---- reproducibility -----------------------------------------------------------------
    def test_same_seed_same_moves(self, explored):
        first, again = (self.agent(m) for m in explored[:2])
        assert [d.chosen for d in first.decisions] == [d.chosen for d in again.decisions]
        assert first.decisions == again.decisions
        assert first.total_payoff == again.total_payoff

    def test_seeds_differ_somewhere(self, explored):
        sequences = {tuple(d.chosen for d in self.agent(m).decisions) for m in explored}
        assert len(sequences) > 1

    # ---- the record of decisions -----------------------------------------------------------
    def test_decisions_recorded(self, explored):
        for model in explored:
            agent = self.agent(model)
            assert len(agent.decisions) == model.steps
            assert [d.date for d in agent.decisions] == [
                add_months(model.start, k) for k in range(model.steps)
            ]
            assert agent.decisions == model.explain(self.cls.actor)
            for d in agent.decisions:
                assert d.actor == self.cls.actor
                assert d.chosen in self.cls.moves
                assert {o.action for o in d.options} <= set(self.cls.moves)
                assert d.chosen in {o.action for o in d.options}
            assert agent.last_move == agent.decisions[-1].chosen
            assert agent.last_decision is agent.decisions[-1]

    def test_payoffs_recorded(self, explored):
        model = explored[0]
        agent = self.agent(model)
        assert set(agent.last_payoff) == set(COMPONENTS)
        column = model.monthly()[f"payoff_{self.cls.actor}"].iloc[1:]
        assert math.isclose(agent.total_payoff, float(column.sum()), abs_tol=1e-9)
        assert math.isclose(float(column.iloc[-1]), sum(agent.last_payoff.values()), abs_tol=1e-9)

    def test_choose_follows_degenerate_probabilities(self):
        agent = self.agent(GSOMIAModel(rng=0, n_citizens=50, **QUIET))
        rng = np.random.default_rng(0)
        n = len(self.cls.moves)
        for k in range(n):
            one_hot = np.zeros(n)
            one_hot[k] = 1.0
            assert all(agent.draw(one_hot, rng) == k for _ in range(20))
        if n > 1:
            probs = np.zeros(n)
            probs[[0, n - 1]] = 0.5
            picks = {agent.draw(probs, rng) for _ in range(200)}
            assert picks == {0, n - 1}

    # ---- a forced sequence -------------------------------------------------------------------
    def test_quiet_scenario_sequence(self):
        for seed in (0, 1):
            agent = self.agent(run(seed, **QUIET))
            assert [d.chosen for d in agent.decisions] == [self.quiet_move] * QUIET_MONTHS
            for d in agent.decisions:
                assert d.option(self.quiet_move).probability > 1.0 - 1e-6
