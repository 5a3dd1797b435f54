"""The contract every government agent honours (in the style of Axelrod's strategy tests).

A test class for a government inherits ``GovernmentContract`` and sets:

- ``cls``: the agent class (``agents.Seoul``...);
- ``expected_moves``: the move tuple of its module (``agents.seoul.MOVES``...) its ``moves``
  must equal;
- ``quiet_move``: the move the agent must make every month of ``QUIET``, a scenario where
  every government's choice is forced or strictly dominated at high precision.

- ``terms``, for what its rules compute: a table of ``Sized`` entries, one quantity it
declares (a payoff component, a signal, a state variable after the moves, at the month's
end or as valued at the lookahead's horizon) in one ``Case`` (one profile of the month's
game from one state, with parameters and slow variables set by hand), with the value
derived by hand from the formula in the actor's module (the derivation in ``why``);
- ``lookahead``: the moves the others expect it to consider in the months ahead, in model
  states set by hand (the default: every feasible move, ``lookahead_moves`` None).

The contract then checks declared metadata, placement on the relations network, a clean
start, seeded reproducibility, the record of decisions, the forced sequence, its
``lookahead``, every entry of ``terms`` against its size, and that the table is complete:
every payoff component the actor's ``utility`` reports, every signal it sends, every
state variable it changes (and what ``settle`` and ``at_horizon`` change) has an entry
where it is not trivially zero (or unchanged), and every parameter its module reads
moves some entry. A new term, signal or parameter without a sized entry fails the
contract.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pytest

from model import GSOMIAModel
from model.calendar import MonthCalendar, add_months, months_between
from model.environment import Environment
from model.game import Cast, Profiles, _with_derived, build, utilities
from model.model import make_cast
from model.opinion import PublicBelief
from model.pact import N_CURB, Pact
from model.parameters import PARAMETERS, defaults
from model.params import make_params
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


# ---- sized terms: one profile of the month's game, valued by hand ----------------------------
QUIET_MONTH = MonthCalendar(notice_open=False, expiry=False, signing=False)
"""A month in which the calendar allows nothing: no notice, no deadline, no signing."""
NOTICE_MONTH = MonthCalendar(notice_open=True, expiry=False, signing=False)
EXPIRY_MONTH = MonthCalendar(notice_open=True, expiry=True, signing=False)
SIGNING_MONTH = MonthCalendar(notice_open=False, expiry=False, signing=True)

BASE_PARAMS: dict[str, float] = {
    # the pact's intelligence (model/pact.py: intelligence, strain, curb damage)
    "security_value": 1.2,
    "tisa_fallback": 0.25,
    "notice_tension": 0.05,
    "trust_loss": 0.4,
    "talks_relief": 0.1,
    "trade_damage": 1.5,
    "supply_diversification": 0.2,
    # Seoul
    "korea_exposure": 0.8,
    "talks_prospect": 0.25,
    "wto_cost": 0.35,
    "opinion_weight": 0.9,
    "audience_cost": 4.0,
    "suspension_face": 0.5,
    "face_saving": 0.6,
    "wto_pause_face": 0.15,
    "postpone_cost": 0.45,
    "us_pressure_weight": 0.8,
    "us_baseline_displeasure": 0.3,
    "suspended_defiance": 0.25,
    "suspended_hardness": 0.5,
    "wto_hardness": 0.3,
    "paused_wto_hardness": 0.1,
    # Tokyo
    "japan_exposure": 0.6,
    "tokyo_security_weight": 0.5,
    "boycott_damage": 0.9,
    "wto_pressure": 0.12,
    "japan_resolve": 1.3,
    "talks_grievance_relief": 0.4,
    "lift_face": 5.0,
    "talks_cost": 0.2,
    "tokyo_pressure_sensitivity": 1.5,
    # Washington
    "us_security_weight": 1.5,
    "us_pressure_cost": 1.2,
    "us_tokyo_pressure_cost": 0.9,
    # Beijing
    "china_influence": 1.1,
    "rhetoric_strength": 0.4,
    "rhetoric_cost": 0.3,
    "inducement_cost": 0.7,
}
"""Every parameter the actors' payoffs read, set by hand (no calibrated default enters a
sized term: recalibrating the defaults leaves the tables valid). Distinct values, so a
term that reads the wrong parameter shows."""
P = SimpleNamespace(**BASE_PARAMS)
"""``BASE_PARAMS`` by attribute, for the derivations (``P.audience_cost``)."""

BASE_ENV: dict[str, Any] = {
    "threat": 2.0,
    "poll": 0.6,
    "boycott_share": 0.3,
    "tension": 0.1,
    "grievance": 1.5,
    "trade_dependence": 0.8,
    "public": None,
}
"""The slow variables of a case. Without a public belief the governments expect today's
poll in every state: 0.6 for ending the pact, 0.4 for keeping it, boycott 0.3."""
E = SimpleNamespace(**BASE_ENV)
INTELLIGENCE = P.security_value * E.threat * (1.0 - P.tisa_fallback)
"""model/pact.py ``intelligence``: security_value * threat * (1 - tisa_fallback) = 1.8."""


def hand_belief() -> PublicBelief:
    """A public belief written by hand, every state's shares distinct, so a term that
    reads the public in the wrong state shows: by (curb c, firm f, talks t, US pressure
    level l), end = 0.20 + 0.10c + 0.20f - 0.05t + 0.01l, keep = 0.50 - 0.10c - 0.15f +
    0.05t + 0.02l, boycott = 0.05 + 0.15c + 0.10f - 0.03t + 0.005l."""
    c, f, t, lv = np.ix_(np.arange(N_CURB), np.arange(2), np.arange(2), np.arange(4))
    zero = np.zeros((N_CURB, 2, 2, 4))
    return PublicBelief(
        end=zero + 0.20 + 0.10 * c + 0.20 * f - 0.05 * t + 0.01 * lv,
        keep=zero + 0.50 - 0.10 * c - 0.15 * f + 0.05 * t + 0.02 * lv,
        boycott=zero + 0.05 + 0.15 * c + 0.10 * f - 0.03 * t + 0.005 * lv,
    )


BELIEF = hand_belief()
BASE_START: dict[str, int] = {"pact": int(Pact.ACTIVE)}
"""The state a case starts from unless it says otherwise: an active pact, every other
state variable at 0 (no curbs, no complaint, no talks, no declared pressure)."""


@dataclass(frozen=True)
class Case:
    """One profile of the month's game from one state: the state at the start of the month
    (over ``BASE_START``), each actor's move by name (the others play their first move),
    the calendar, whether the month lasts after a deadline (the lookahead's terminal
    months), the parameters (over ``BASE_PARAMS``) and the slow variables (over
    ``BASE_ENV``)."""

    name: str
    start: Mapping[str, int] = field(default_factory=dict)
    moves: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, float] = field(default_factory=dict)
    env: Mapping[str, Any] = field(default_factory=dict)
    cal: MonthCalendar = QUIET_MONTH
    lasting: bool = False


KINDS = ("payoff", "signal", "state", "next", "horizon")
Kind = Literal["payoff", "signal", "state", "next", "horizon"]


@dataclass(frozen=True)
class Sized:
    """A quantity an actor declares, in one case, with its value derived by hand.

    ``kind``: ``payoff`` (a component of the actor's utility), ``signal`` (what it
    signals, or derives with the parameters), ``state`` (a state variable right after the
    month's moves), ``next`` (at the month's end, after ``settle``) or ``horizon`` (as
    the lookahead values a state left at its horizon, ``at_horizon``). ``why`` is the
    derivation, citing the formula in the actor's module."""

    kind: Kind
    name: str
    case: Case
    expected: float
    why: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}:{self.case.name}"


@dataclass(frozen=True)
class Evaluated:
    """Everything the month's game computes for one case."""

    g: Profiles
    view: Profiles  # with the signals derived from the parameters
    params: Any
    payoffs: dict[str, dict[str, float]]  # actor -> component -> utility
    values: dict[str, dict[str, float]]  # kind -> name -> value (payoffs: the actor's)

    def read(self, actor: str, kind: str, name: str) -> float:
        """The value of ``name`` of ``kind`` (a payoff component: ``actor``'s)."""
        table = self.payoffs[actor] if kind == "payoff" else self.values[kind]
        if name not in table:
            raise KeyError(f"{actor} reports no {kind} {name!r}: {sorted(table)}")
        return table[name]


def evaluate(case: Case, cast: Cast, **over: float) -> Evaluated:
    """The month's game for one profile: every actor's feasibility (each move of the
    case must be feasible), transitions, signals and utilities, through ``model.game``
    as the model composes them. ``over`` overrides parameters after the case's own."""
    start = dict.fromkeys(cast.state_vars, 0)
    start |= {k: v for k, v in BASE_START.items() if k in start}
    unknown = set(case.start) - set(start)
    assert not unknown, f"case {case.name}: unknown state variables {unknown}"
    start |= case.start
    menus = {}
    for m in cast.order.movers:
        moves = cast.actor(m).moves
        menus[m] = np.array([moves.index(case.moves.get(m, moves[0]))])
    g = build(
        cast, case.cal, {k: np.array([v]) for k, v in start.items()}, menus, lasting=case.lasting
    )
    for m in cast.order.movers:
        ok = bool(np.all(g.ok[m]))
        assert ok, f"case {case.name}: {m}'s move {case.moves.get(m)!r} is not feasible"
    p = make_params(defaults() | BASE_PARAMS | dict(case.params) | over)
    env = Environment(**(BASE_ENV | dict(case.env)))
    _, comps = utilities(g, p, env)
    view = _with_derived(g, p)

    def scalar(v: Any) -> float:
        return float(np.broadcast_to(np.asarray(v, dtype=float), g.shape).reshape(-1)[0])

    horizon = dict(g.next)
    for actor in cast.actors:
        horizon.update(actor.at_horizon(dict(horizon)))
    values = {
        "signal": {k: scalar(v) for k, v in view.sig.items()},
        "state": {k: scalar(v) for k, v in g.state.items()},
        "next": {k: scalar(v) for k, v in g.next.items()},
        "horizon": {k: scalar(v) for k, v in horizon.items()},
        "start": {k: float(v) for k, v in start.items()},
    }
    payoffs = {a: {c: scalar(v) for c, v in comps[cast.player(a)].items()} for a in cast.names}
    return Evaluated(g=g, view=view, params=p, payoffs=payoffs, values=values)


def params_read(module: Any) -> set[str]:
    """The registry parameters a module's source reads (``p.NAME``)."""
    names = set(re.findall(r"\bp\.([a-z_][a-z0-9_]*)", inspect.getsource(module)))
    return names & set(PARAMETERS)


class GovernmentContract:
    """Tests every government agent must pass."""

    cls: ClassVar[type[Government]]
    expected_moves: ClassVar[tuple[str, ...]]
    quiet_move: ClassVar[str]
    terms: ClassVar[tuple[Sized, ...]] = ()
    """What its rules compute, sized by hand (see the module docstring)."""
    cast: ClassVar[Cast] = CAST
    """The cast the terms' cases are played in (the default cast; an actor outside it
    sets its own)."""
    lookahead: ClassVar[tuple[tuple[Mapping[str, Any], tuple[str, ...] | None], ...]] = (
        ({}, None),
    )
    """What the others expect it to consider in the months ahead (``lookahead_moves``), in
    model states set by hand: (model attributes set on a fresh quiet model, the moves by
    name, or None for every feasible move)."""

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per entry of ``terms`` (its id: kind, name and case)."""
        if "term" in metafunc.fixturenames:
            metafunc.parametrize("term", self.terms, ids=[t.id for t in self.terms])

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

    # ---- sized terms -------------------------------------------------------------------------
    def evaluate(self, case: Case, **over: float) -> Evaluated:
        return evaluate(case, self.cast, **over)

    def test_term_has_its_size(self, term: Sized) -> None:
        """The quantity equals the value derived by hand from the parameters."""
        got = self.evaluate(term.case).read(self.cls.actor, term.kind, term.name)
        assert got == pytest.approx(term.expected, rel=1e-12, abs=1e-12), (
            f"{term.id}: got {got!r}, by hand {term.expected!r} ({term.why})"
        )

    def _covered(self, kind: str, before: str | None = None) -> set[str]:
        """Names of ``kind`` with an entry that is not trivial: a payoff or signal not 0,
        a state variable that differs from its value at ``before`` (the month's start,
        the state after the moves, or at the month's end)."""
        out = set()
        for t in self.terms:
            if t.kind != kind:
                continue
            if before is None:
                trivial = abs(t.expected) < 1e-9
            else:
                trivial = t.expected == self.evaluate(t.case).values[before][t.name]
            if not trivial:
                out.add(t.name)
        return out

    def _probes(self) -> list[Evaluated]:
        """The game of every case of the table, and of a month with a deadline."""
        probe = Case("probe: a deadline month, every actor holding", cal=EXPIRY_MONTH)
        return [self.evaluate(c) for c in [probe, *(t.case for t in self.terms)]]

    def test_terms_are_well_formed(self) -> None:
        assert self.terms, f"{self.cls.actor}: no sized terms"
        ids = [t.id for t in self.terms]
        assert len(set(ids)) == len(ids), "two entries share kind, name and case name"
        assert {t.kind for t in self.terms} <= set(KINDS)
        assert all(t.why for t in self.terms), "every entry says how it was derived"

    def test_every_payoff_component_has_a_sized_term(self) -> None:
        """Every component ``utility`` reports (and ``components`` declares) has an entry
        where it is not 0; no entry names a component the actor does not report."""
        reported = set(self.cls.components)
        for ev in self._probes():
            reported |= set(ev.payoffs[self.cls.actor])
        assert set(self.cls.components) == reported
        missing = reported - self._covered("payoff")
        assert not missing, f"payoff components without a sized entry: {sorted(missing)}"
        assert {t.name for t in self.terms if t.kind == "payoff"} <= reported

    def test_every_signal_has_a_sized_term(self) -> None:
        """Every signal the actor sends (``signals``) or derives (``derived``) has an
        entry where it is not 0."""
        actor = self.cls.actor
        sent: set[str] = set()
        for ev in self._probes():
            sent |= set(self.cls.signals(ev.g, ev.g.move(actor)))
            sent |= set(self.cls.derived(ev.view, ev.params))
        missing = sent - self._covered("signal")
        assert not missing, f"signals without a sized entry: {sorted(missing)}"

    def test_every_transition_has_a_sized_term(self) -> None:
        """Every state variable the actor owns or changes has an entry where a move
        changes it; what ``settle`` changes at the month's end and ``at_horizon`` at the
        lookahead's horizon, an entry where they change it."""
        actor = self.cls.actor
        changed, settled, horizon = set(self.cls.state_vars), set(), set()
        for ev in self._probes():
            changed |= set(self.cls.transition(ev.g, ev.g.move(actor)))
            settled |= set(self.cls.settle(ev.g))
            horizon |= set(self.cls.at_horizon({k: np.asarray(v) for k, v in ev.g.next.items()}))
        for declared, kind, before in (
            (changed, "state", "start"),
            (settled, "next", "state"),
            (horizon, "horizon", "next"),
        ):
            missing = declared - self._covered(kind, before)
            assert not missing, f"{kind} changes without a sized entry: {sorted(missing)}"

    def test_every_parameter_it_reads_moves_a_sized_term(self) -> None:
        """Each registry parameter the actor's module reads changes the value of some
        entry when it changes (a term that reads it has a sized test; a term that should
        read it but reads another parameter fails here too)."""
        module = sys.modules[self.cls.__module__]
        base = {t.id: self.evaluate(t.case) for t in self.terms}
        unmoved = []
        for name in sorted(params_read(module)):
            moved = False
            for t in self.terms:
                value = t.case.params.get(name, BASE_PARAMS.get(name, PARAMETERS[name].default))
                before = base[t.id].read(self.cls.actor, t.kind, t.name)
                after = self.evaluate(t.case, **{name: float(value) + 0.1})
                if abs(after.read(self.cls.actor, t.kind, t.name) - before) > 1e-9:
                    moved = True
                    break
            if not moved:
                unmoved.append(name)
        assert not unmoved, f"parameters {module.__name__} reads that no entry moves: {unmoved}"

    def test_lookahead_moves_as_declared(self) -> None:
        """The moves the lookahead expects of it are the declared ones, in each state."""
        for attrs, expected in self.lookahead:
            model = GSOMIAModel(rng=0, n_citizens=50, **QUIET)
            for name, value in attrs.items():
                assert hasattr(model, name), name
                setattr(model, name, value)
            got = self.agent(model).lookahead_moves()
            names = None if got is None else tuple(self.cls.moves[int(c)] for c in got)
            assert names == expected, attrs
