"""The compiled loops of the backward induction equal their numpy expressions
(``model.kernels``), and a whole run is the same on either path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import kernels

REPO = Path(__file__).resolve().parents[1]
compiled = pytest.mark.skipif(kernels._compiled is None, reason="extension not built")


def test_the_extension_is_built_and_used():
    """`make install` builds model._kernels; a normal import uses it (the numpy path only
    when GSOMIA_KERNELS=numpy asks for it)."""
    assert kernels._compiled is not None
    assert kernels.COMPILED is (not kernels.PLAIN)


@st.composite
def stage(draw):
    n = draw(st.integers(1, 40))
    a = draw(st.integers(1, 6))
    p = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.normal(scale=draw(st.sampled_from([0.01, 1.0, 20.0])), size=(n, a, p))
    ok = rng.random((n, a)) < 0.7
    ok[np.arange(n), rng.integers(0, a, n)] = True  # one feasible move at every node
    masked = draw(st.booleans())
    penalty = np.where(ok, 0.0, -np.inf) if masked else None
    lam = draw(st.sampled_from([0.0, 1.0, 60.0, 500.0]))
    return values, penalty, draw(st.integers(0, p - 1)), lam


@compiled
@settings(max_examples=200, deadline=None)
@given(stage())
def test_logit_nodes_compiled_equals_numpy(case):
    values, penalty, player, lam = case
    want_p, want_v = kernels.logit_nodes_numpy(values, penalty, player, lam)
    got_p, got_v = np.empty_like(want_p), np.empty_like(want_v)
    kernels._compiled.logit_blocks(
        values,
        kernels._NO_PENALTY if penalty is None else penalty,
        kernels._ALL_LIVE,
        player,
        lam,
        got_p,
        got_v,
    )
    np.testing.assert_allclose(got_p, want_p, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-12, atol=1e-12)
    if penalty is not None:
        assert np.all(got_p[np.isinf(penalty)] == 0.0)  # infeasible: exactly never chosen
    np.testing.assert_allclose(got_p.sum(axis=1), 1.0, rtol=1e-12)


@compiled
@settings(max_examples=100, deadline=None)
@given(stage(), st.integers(0, 2**32 - 1))
def test_nodes_no_path_reaches_are_skipped(case, seed):
    """Nodes marked dead get probability 0 and value 0; the live ones are as on the numpy
    path."""
    values, penalty, player, lam = case
    live = np.random.default_rng(seed).random(values.shape[0]) < 0.5
    want_p, want_v = kernels.logit_nodes_numpy(values, penalty, player, lam)
    got_p, got_v = kernels.logit_nodes(values, penalty, player, lam, live)
    np.testing.assert_allclose(got_p[live], want_p[live], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got_v[live], want_v[live], rtol=1e-12, atol=1e-12)
    assert np.all(got_p[~live] == 0.0) and np.all(got_v[~live] == 0.0)


@compiled
@settings(max_examples=100, deadline=None)
@given(st.integers(1, 50), st.integers(1, 20), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_add_discounted_compiled_equals_numpy(n, m, p, seed):
    rng = np.random.default_rng(seed)
    flow, later = rng.normal(size=(n, p)), rng.normal(size=(m, p))
    index = rng.integers(0, m, n)
    want = kernels.add_discounted_numpy(flow, later, index, 0.97)
    got = np.empty_like(want)
    kernels._compiled.add_discounted(flow, later, index.astype(np.int64), 0.97, got)
    np.testing.assert_array_equal(got, want)


def test_logit_nodes_by_hand():
    """Two moves worth 0 and log(3)/lam to the chooser: probabilities 1/4 and 3/4, and
    every player's value is the mixture of the two rows; an infeasible third move gets 0."""
    lam = 2.0
    values = np.array([[[0.0, 10.0], [np.log(3.0) / lam, 20.0], [99.0, 99.0]]])
    penalty = np.array([[0.0, 0.0, -np.inf]])
    probs, value = kernels.logit_nodes(values, penalty, 0, lam)
    np.testing.assert_allclose(probs, [[0.25, 0.75, 0.0]])
    np.testing.assert_allclose(value, [[0.75 * np.log(3.0) / lam, 0.25 * 10 + 0.75 * 20]])


def _run_json(env_extra: dict[str, str]) -> dict:
    code = (
        "import json; from model import GSOMIAModel; "
        "m = GSOMIAModel.from_config('baseline_2019', rng=3); m.run(); "
        "print(json.dumps({'outcome': m.outcome, 'events': [e.to_dict() for e in m.timeline],"
        " 'seoul': [[o.expected_utility for o in d.options] for d in m.explain('seoul')]}))"
    )
    env = os.environ | env_extra
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, check=True
    )
    return json.loads(res.stdout)


@compiled
def test_a_run_is_the_same_on_the_numpy_path():
    """The same seed gives the same events and values with GSOMIA_KERNELS=numpy."""
    fast = _run_json({})
    plain = _run_json({"GSOMIA_KERNELS": "numpy"})
    assert fast["outcome"] == plain["outcome"]
    assert fast["events"] == plain["events"]
    for a, b in zip(fast["seoul"], plain["seoul"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_prepared_utilities_follow_the_parameters():
    """What the actors prepare from the profiles and parameters is shared through the
    cached profiles: two parameter vectors alternating on the same profiles each get
    their own, equal to a run on cold caches."""
    from model import GSOMIAModel
    from model.lookahead import clear_caches

    def run(**kw):
        m = GSOMIAModel.from_config("baseline_2019", rng=5, **kw)
        m.run()
        return [e.to_dict() for e in m.timeline], [
            [o.expected_utility for o in d.options] for d in m.explain("seoul")
        ]

    clear_caches()
    cold_low = run(audience_cost=2.0, opinion_weight=0.4)
    clear_caches()
    cold_high = run(audience_cost=9.0, opinion_weight=2.0)
    assert cold_low[1] != cold_high[1]
    for kw, want in [
        ({"audience_cost": 2.0, "opinion_weight": 0.4}, cold_low),
        ({"audience_cost": 9.0, "opinion_weight": 2.0}, cold_high),
        ({"audience_cost": 2.0, "opinion_weight": 0.4}, cold_low),
    ]:
        got = run(**kw)
        assert got[0] == want[0]
        for a, b in zip(got[1], want[1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_live_nodes_are_those_every_earlier_move_reaches():
    """``Profiles.flat_live``: a mover's node is live exactly when every earlier mover's
    move there is feasible (checked against the feasibility of each profile)."""
    from model import GSOMIAModel
    from model.calendar import add_months, months_between
    from model.game import feasible_profiles
    from model.lookahead import fixed_key, horizon

    m = GSOMIAModel.from_config("baseline_2019", rng=0)
    for _ in range(9):  # to July 2019: the widest lookahead of the crisis
        m.step()
    deadline = m.deadline(m.date)
    ahead = min(months_between(m.date, deadline), m.params.lookahead_months)
    cals = tuple(m.month_calendar(add_months(m.date, k), deadline) for k in range(1, ahead + 1))
    expected = {
        g.actor: g.lookahead_moves()
        for g in m.governments.values()
        if g.lookahead_moves() is not None
    }
    code = int(m.codec.encode(m.reduced_state()))
    h = horizon(m.cast, code, m.month_calendar(m.date), cals, fixed_key(expected))
    g = h.months[0].g
    checked = 0
    for mover in g.cast.order.movers:
        k = g.axis(mover)
        live = g.flat_live(mover)
        want = np.ones(g.shape[:k], dtype=bool)
        for earlier in g.cast.order.movers[: k - 1]:
            want &= np.broadcast_to(g.ok[earlier], g.shape).reshape(*g.shape[:k], -1).any(-1)
        got = np.ones(want.size, dtype=bool) if live is None else live
        assert np.array_equal(got, want.reshape(-1))
        checked += live is not None
    assert checked  # some mover has unreachable nodes in this month
    assert feasible_profiles(g).any()
