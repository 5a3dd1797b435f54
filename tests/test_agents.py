"""The agents: every government passes the shared contract (tests/agent_contract.py), plus
agent-specific forced situations, and the Korean public's vectorised opinion."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from agent_contract import EXPLORE, QUIET, GovernmentContract, run

from agents import (
    Beijing,
    KoreanPublic,
    Seoul,
    Tokyo,
    Washington,
    beijing,
    seoul,
    tokyo,
    washington,
)
from model import GSOMIAModel
from model.calendar import same_month
from model.opinion import OpinionNetwork, OpinionPush


class TestSeoul(GovernmentContract):
    cls = Seoul
    expected_moves = seoul.MOVES
    quiet_move = "hold"

    def test_no_notice_while_the_window_is_closed(self, explored):
        for model in explored:
            for d in self.agent(model).decisions:
                if model.calendar.notice_in_month(d.date) is None:
                    assert d.chosen != "termination_notice"
                    assert "termination_notice" not in {o.action for o in d.options}

    def test_only_hold_when_nothing_is_open(self):
        # window closed, no notice, and Tokyo (no resolve) holds: nothing to answer
        model = run(3, **QUIET)
        assert {d.chosen for d in model.explain("tokyo")} == {"hold"}
        for d in model.explain("seoul"):
            assert model.calendar.notice_in_month(d.date) is None
            assert [o.action for o in d.options] == ["hold"]
            assert d.option("hold").probability == 1.0

    def test_terminated_pact_without_curbs_only_hold(self):
        model = run(
            0,
            **(QUIET | {"pact_state": "terminated", "end": date(2020, 2, 29)}),
        )
        assert [d.chosen for d in model.explain("seoul")] == ["hold"] * 6

    def test_backing_down_only_from_a_standing_notice(self, explored):
        for model in explored:
            states = list(model.monthly()["pact_state"])  # row k: state before month k
            for before, d in zip(states[:-1], model.explain("seoul"), strict=True):
                if d.chosen in ("conditional_suspension", "conditional_suspension+wto_suspension"):
                    assert before == "notice_pending"
                if d.chosen == "rescind_notice":
                    assert before in ("notice_pending", "suspended")


class TestTokyo(GovernmentContract):
    cls = Tokyo
    expected_moves = tokyo.MOVES
    quiet_move = "hold"

    def test_curbs_climb_one_rung_at_a_time(self, explored):
        for model in explored:
            levels = list(model.monthly()["curb_level"])
            for before, d in zip(levels[:-1], model.explain("tokyo"), strict=True):
                if d.chosen == "targeted_export_controls":
                    assert before == 0
                if d.chosen == "whitelist_removal":
                    assert before == 1
                if d.chosen == "lift_controls":
                    assert before > 0


class TestWashington(GovernmentContract):
    cls = Washington
    expected_moves = washington.MOVES
    quiet_move = "pressure_seoul=0,pressure_tokyo=0"


class TestBeijing(GovernmentContract):
    cls = Beijing
    expected_moves = beijing.MOVES
    quiet_move = "none"


def test_every_government_has_a_contract_test():
    tested = {TestSeoul.cls, TestTokyo.cls, TestWashington.cls, TestBeijing.cls}
    model = GSOMIAModel(rng=0, n_citizens=50, **QUIET)
    assert {type(g) for g in model.governments.values()} == tested


def test_import_agents_first():
    done = subprocess.run(
        [sys.executable, "-c", "from agents import Seoul"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr


# ---- the Korean public -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def public_runs() -> list[GSOMIAModel]:
    kw = EXPLORE | {"n_citizens": 400}
    return [run(5, **kw), run(5, **kw), run(6, **kw)]


def test_public_is_one_agent_whatever_its_size():
    for n in (50, 5000):
        model = GSOMIAModel(rng=0, n_citizens=n, **QUIET)
        assert isinstance(model.public, KoreanPublic)
        assert model.public in model.agents
        assert len(model.agents) == 5
        assert model.public.network.opinion.shape == (n,)
        assert model.public.network.n == n


def test_poll_and_shares_in_unit_interval(public_runs):
    for model in public_runs:
        df = model.monthly()
        assert df["opinion_share"].between(0.0, 1.0).all()
        assert df["opinion_mean"].between(0.0, 1.0).all()
        assert df["boycott_share"].between(0.0, 1.0).all()
        public = model.public
        assert 0.0 <= public.poll <= 1.0
        assert np.isclose(public.poll, np.mean(public.network.opinion > 0.5))
        assert ((public.network.opinion >= 0.0) & (public.network.opinion <= 1.0)).all()


def test_same_seed_same_opinions(public_runs):
    a, b, c = (m.public.network.opinion for m in public_runs)
    assert a.shape == (400,)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_opinion_update_is_sparse_and_vectorised():
    n, degree = 1000, 8
    model = GSOMIAModel(rng=0, n_citizens=n, citizen_degree=degree, **QUIET)
    net = model.public.network
    assert sp.issparse(net.weights)
    assert net.weights.shape == (n, n)
    assert net.weights.nnz <= n * (degree + 1)  # linear in citizens, not quadratic
    assert np.allclose(np.asarray(net.weights.sum(axis=1)).ravel(), 1.0)  # row-stochastic
    assert isinstance(net.graph, nx.Graph)
    assert net.graph.number_of_nodes() == n


def _twin_networks(**kw: float) -> tuple[OpinionNetwork, OpinionNetwork]:
    args = {
        "n": 500,
        "degree": 6,
        "initial_opinion": 0.4,
        "conformity": 0.2,
        "noise": 0.0,
        "sensitivity": 1.0,
    } | kw
    return tuple(
        OpinionNetwork(**args, rng=np.random.default_rng(1), graph_seed=2) for _ in range(2)
    )


QUIET_PUSH = OpinionPush(curbs=0, firm=False, talks=False, launches=0.0, us_pressure=0.0)


def test_curbs_harden_opinion_and_talks_calm_it():
    a, b = _twin_networks()
    assert np.array_equal(a.opinion, b.opinion)
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=2, firm=False, talks=False, launches=0.0, us_pressure=0.0))
    assert b.mean() > a.mean()
    c, d = _twin_networks()
    c.step(QUIET_PUSH)
    d.step(OpinionPush(curbs=0, firm=False, talks=True, launches=0.0, us_pressure=0.0))
    assert d.mean() < c.mean()


def test_no_sensitivity_events_do_not_move_opinion():
    a, b = _twin_networks(sensitivity=0.0)
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=2, firm=True, talks=False, launches=3.0, us_pressure=1.0))
    assert np.array_equal(a.opinion, b.opinion)


def test_us_pressure_polarises():
    a, b = _twin_networks()
    a.step(QUIET_PUSH)
    b.step(OpinionPush(curbs=0, firm=False, talks=False, launches=0.0, us_pressure=1.0))
    hawks = a.predisposition > 0.5
    assert (b.opinion[hawks] >= a.opinion[hawks]).all()
    assert (b.opinion[~hawks] <= a.opinion[~hawks]).all()


def test_public_reacts_to_the_month(public_runs):
    # the poll column moves over a run in which curbs stand
    df = public_runs[0].monthly()
    assert df["opinion_share"].nunique() > 1
    assert same_month(public_runs[0].start, date(2019, 7, 1))
