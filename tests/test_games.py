"""Tests for model.games: hand-derived equilibria, nashpy / gambit cross-checks and
hypothesis properties of the logit QRE solver."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model.games import (
    QREResult,
    _Bimatrix,
    _trace,
    _trace_one,
    expected_payoffs,
    is_nash,
    logit_qre,
    logit_response,
    mixed_nash_2p,
    nash_regret,
    pure_nash_equilibria,
)

PROPS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ----------------------------------------------------------------------------------------
# classic games (payoffs[i][row, col])
# ----------------------------------------------------------------------------------------
PD_A = np.array([[3.0, 0.0], [5.0, 1.0]])  # actions: 0 = cooperate, 1 = defect
PD = [PD_A, PD_A.T.copy()]
MP_A = np.array([[1.0, -1.0], [-1.0, 1.0]])
MP = [MP_A, -MP_A]
BOS = [np.array([[3.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 0.0], [0.0, 3.0]])]
# row 1 is strictly dominated by row 0 (by 2 against every column)
DOM = [
    np.array([[4.0, 3.0], [2.0, 1.0], [3.0, 5.0]]),
    np.array([[1.0, 2.0], [3.0, 0.0], [2.0, 1.0]]),
]
# a 3x3 game whose principal logit branch bends back in lambda: it rises to a turning
# point at lambda ~ 11.29, returns to ~ 7.62 and rises again, so there are three QRE
# on the branch for lambda in (7.62, 11.29).  Found by a seeded search with gambit.
FOLD = [
    np.array([[-1.0, 1.0, 8.0], [-9.0, -7.0, 9.0], [6.0, -3.0, 7.0]]),
    np.array([[3.0, -6.0, -7.0], [-7.0, 9.0, 5.0], [1.0, -6.0, 7.0]]),
]
# first crossing of each lambda along the branch, from pygambit 16.7.0
# (gbt.qre.logit_solve_lambda), rounded to 6 decimals
FOLD_REF = {
    5.0: ([0.470852, 0.325494, 0.203654], [0.108211, 0.011104, 0.880684]),
    9.0: ([0.484032, 0.328863, 0.187105], [0.112913, 0.002970, 0.884117]),
    12.0: ([0.386518, 0.057266, 0.556216], [0.128791, 0.000000, 0.871209]),
}


# A month's Washington (rows: 4 moves) x Beijing (columns: 3 moves) stage game from a
# baseline-2019 run, at the model's rationality 60: its QRE needs the homotopy (55
# iterations, the most of 40 runs' games) and lands next to a pure profile.
MONTH_A = np.array(
    [
        [7.611997558453654, 0.22133772087470321, -13.893548583984373],
        [1.3760012244563227, 5.301997558593747, 5.301997558593747],
        [6.111997558453654, -1.2786622791252966, -15.393548583984375],
        [-0.12399877554367661, 3.8019975585937473, 3.8019975585937473],
    ]
)
MONTH_B = np.array(
    [
        [0.4650000000090874, 0.20040984178056737, -1.8599999999999997],
        [0.6706186442284676, -0.279, -3.2550000000000003],
        [0.4650000000090874, 0.20040984178056737, -1.8599999999999997],
        [0.6706186442284676, -0.279, -3.2550000000000003],
    ]
)


def volunteer_dilemma() -> list[np.ndarray]:
    """3 players, action 0 = volunteer (cost 1), 1 = ignore; everyone gets 2 if at
    least one volunteers.  Pure equilibria: exactly one volunteer."""
    pays = [np.zeros((2, 2, 2)) for _ in range(3)]
    for prof in itertools.product(range(2), repeat=3):
        anyone = any(a == 0 for a in prof)
        for i in range(3):
            pays[i][prof] = 2.0 * anyone - (prof[i] == 0)
    return pays


def one_hot(profile: tuple[int, ...], actions: tuple[int, ...]) -> list[np.ndarray]:
    return [np.eye(a)[j] for j, a in zip(profile, actions, strict=True)]


def random_game(rng: np.random.Generator, actions: tuple[int, ...], batch=(), lo=-10, hi=10):
    return [rng.uniform(lo, hi, (*batch, *actions)) for _ in actions]


def fixed_point_residual(payoffs, strategies, lam, masks=None) -> float:
    """Independent check of sigma = logit_response(expected_payoffs(sigma))."""
    us = expected_payoffs(payoffs, strategies)
    mks = masks if masks is not None else [None] * len(us)
    res = 0.0
    for u, s, m in zip(us, strategies, mks, strict=True):
        lam_b = np.broadcast_to(np.asarray(lam, dtype=float), u.shape[:-1])
        res = max(res, float(np.max(np.abs(s - logit_response(u, lam_b, m)))))
    return res


# ----------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------
def test_expected_payoffs_matches_brute_force_three_players():
    rng = np.random.default_rng(0)
    actions = (2, 3, 4)
    pays = random_game(rng, actions, batch=(5,))
    strats = [rng.dirichlet(np.ones(a), size=5) for a in actions]
    us = expected_payoffs(pays, strats)
    for b in range(5):
        for i in range(3):
            want = np.zeros(actions[i])
            for prof in itertools.product(*(range(a) for a in actions)):
                w = math.prod(strats[k][b, prof[k]] for k in range(3) if k != i)
                want[prof[i]] += w * pays[i][(b, *prof)]
            np.testing.assert_allclose(us[i][b], want, rtol=1e-12, atol=1e-12)


def test_expected_payoffs_two_players_is_matrix_vector():
    rng = np.random.default_rng(1)
    a_mat, b_mat = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x, y = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(4))
    u1, u2 = expected_payoffs([a_mat, b_mat], [x, y])
    np.testing.assert_allclose(u1, a_mat @ y)
    np.testing.assert_allclose(u2, x @ b_mat)


def test_logit_response_stable_and_masked():
    u = np.array([[1000.0, 999.0, -1e6], [0.0, 0.0, 0.0]])
    p = logit_response(u, 1.0)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(p[0, :2], [1 / (1 + math.exp(-1)), 1 / (1 + math.e)])
    mask = np.array([[True, False, True], [False, True, True]])
    pm = logit_response(u, 2.0, mask)
    assert pm[0, 1] == 0.0 and pm[1, 0] == 0.0
    np.testing.assert_allclose(pm[1], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(logit_response(u, 0.0, mask)[0], [0.5, 0.0, 0.5])


# ----------------------------------------------------------------------------------------
# hand-derived Nash equilibria
# ----------------------------------------------------------------------------------------
def test_prisoners_dilemma():
    assert pure_nash_equilibria(PD) == [(1, 1)]
    eqs = mixed_nash_2p(*PD)
    assert len(eqs) == 1
    np.testing.assert_array_equal(eqs[0][0], [0.0, 1.0])
    np.testing.assert_array_equal(eqs[0][1], [0.0, 1.0])
    assert is_nash(PD, one_hot((1, 1), (2, 2)), tol=1e-12)
    assert not is_nash(PD, one_hot((0, 0), (2, 2)), tol=1e-9)
    assert nash_regret(PD, one_hot((0, 0), (2, 2))) == pytest.approx(2.0)


def test_matching_pennies():
    assert pure_nash_equilibria(MP) == []
    eqs = mixed_nash_2p(*MP)
    assert len(eqs) == 1
    np.testing.assert_allclose(eqs[0][0], [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(eqs[0][1], [0.5, 0.5], atol=1e-12)


def test_battle_of_the_sexes():
    assert pure_nash_equilibria(BOS) == [(0, 0), (1, 1)]
    eqs = mixed_nash_2p(*BOS)
    assert len(eqs) == 3
    np.testing.assert_allclose(eqs[0][0], [1, 0])
    np.testing.assert_allclose(eqs[0][1], [1, 0])
    np.testing.assert_allclose(eqs[1][0], [0, 1])
    np.testing.assert_allclose(eqs[1][1], [0, 1])
    # row mixes p on 0 s.t. column is indifferent: 2p = 3(1-p) -> p = 3/5;
    # column mixes q on 0 s.t. row is indifferent: 3q = 2(1-q) -> q = 2/5
    np.testing.assert_allclose(eqs[2][0], [3 / 5, 2 / 5], atol=1e-12)
    np.testing.assert_allclose(eqs[2][1], [2 / 5, 3 / 5], atol=1e-12)
    for x, y in eqs:
        assert nash_regret(BOS, [x, y]) <= 1e-12


def test_three_player_volunteer_dilemma():
    pays = volunteer_dilemma()
    assert pure_nash_equilibria(pays) == [(0, 1, 1), (1, 0, 1), (1, 1, 0)]
    # symmetric mixed equilibrium: 1 = 2 (1 - (1-p)^2)  ->  p = 1 - 1/sqrt(2)
    p = 1 - 1 / math.sqrt(2)
    mixed = [np.array([p, 1 - p])] * 3
    assert nash_regret(pays, mixed) < 1e-12
    assert is_nash(pays, mixed, tol=1e-12)
    assert not is_nash(pays, [np.array([0.5, 0.5])] * 3, tol=1e-6)


def test_strictly_dominated_action():
    eqs = mixed_nash_2p(*DOM)
    # after deleting row 1: row mixes 1/2 (column indifferent: 2 - p = 1 + p),
    # column mixes 2/3 (row indifferent: 3 + q = 5 - 2q); no pure equilibrium
    assert pure_nash_equilibria(DOM) == []
    assert len(eqs) == 1
    np.testing.assert_allclose(eqs[0][0], [0.5, 0.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(eqs[0][1], [2 / 3, 1 / 3], atol=1e-12)
    # in any logit QRE the dominated row gets at most exp(-2 lam) times the dominating one
    for lam in (0.1, 1.0, 3.0, 10.0):
        s = logit_qre(DOM, lam).strategies[0]
        assert s[1] < s[0]
        assert s[1] / s[0] <= math.exp(-2 * lam) * (1 + 1e-9)


def test_pure_nash_ties_count_as_best_responses():
    zero = np.zeros((2, 3))
    assert len(pure_nash_equilibria([zero, zero])) == 6
    a_mat = np.array([[1.0, 1.0], [0.0, 1.0]])
    assert pure_nash_equilibria([a_mat, np.zeros((2, 2))]) == [(0, 0), (0, 1), (1, 1)]


# ----------------------------------------------------------------------------------------
# against nashpy
# ----------------------------------------------------------------------------------------
def _as_set(eqs, ndigits=8):
    return {(tuple(np.round(x, ndigits) + 0.0), tuple(np.round(y, ndigits) + 0.0)) for x, y in eqs}


def _same_equilibria(ours, theirs, tol=1e-8) -> bool:
    if len(ours) != len(theirs):
        return False
    unmatched = list(theirs)
    for x, y in ours:
        hit = next(
            (
                j
                for j, (tx, ty) in enumerate(unmatched)
                if np.allclose(x, tx, atol=tol, rtol=0) and np.allclose(y, ty, atol=tol, rtol=0)
            ),
            None,
        )
        if hit is None:
            return False
        unmatched.pop(hit)
    return not unmatched


def _solve_exact(mat: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Gauss-Jordan elimination in exact rational arithmetic; None if singular."""
    size = len(rhs)
    aug = [[*row, r] for row, r in zip(mat, rhs, strict=True)]
    for col in range(size):
        piv = next((r for r in range(col, size) if aug[r][col] != 0), None)
        if piv is None:
            return None
        aug[col], aug[piv] = aug[piv], aug[col]
        for r in range(size):
            if r != col and aug[r][col] != 0:
                f = aug[r][col] / aug[col][col]
                aug[r] = [v - f * w for v, w in zip(aug[r], aug[col], strict=True)]
    return [aug[r][size] / aug[r][r] for r in range(size)]


def exact_equilibrium_on_support(a_mat, b_mat, rows, cols):
    """The equilibrium with supports (rows, cols), computed and verified exactly (the
    float payoffs are converted to fractions without rounding); None if there is none."""
    fa = [[Fraction(float(v)) for v in r] for r in a_mat]
    fb = [[Fraction(float(v)) for v in r] for r in b_mat]
    k = len(rows)

    def indifferent(payoff, own, other):
        # sum_c payoff[j][c] q_c = v for every j in own, sum q = 1
        mat = [[payoff[j][c] for c in other] + [Fraction(-1)] for j in own]
        mat.append([Fraction(1)] * k + [Fraction(0)])
        return _solve_exact(mat, [Fraction(0)] * k + [Fraction(1)])

    col_sol = indifferent(fa, rows, cols)
    row_sol = indifferent([list(c) for c in zip(*fb, strict=True)], cols, rows)
    if col_sol is None or row_sol is None:
        return None
    q, v = col_sol[:k], col_sol[k]
    p, w = row_sol[:k], row_sol[k]
    if min(p) < 0 or min(q) < 0:
        return None
    x = [Fraction(0)] * len(fa)
    y = [Fraction(0)] * len(fa[0])
    for j, val in zip(rows, p, strict=True):
        x[j] = val
    for j, val in zip(cols, q, strict=True):
        y[j] = val
    row_pay = [sum(fa[r][c] * y[c] for c in range(len(y))) for r in range(len(x))]
    col_pay = [sum(fb[r][c] * x[r] for r in range(len(x))) for c in range(len(y))]
    if max(row_pay) > v or max(col_pay) > w:
        return None
    return np.array([float(t) for t in x]), np.array([float(t) for t in y])


def test_mixed_nash_2p_matches_nashpy_on_random_games():
    nashpy = pytest.importorskip("nashpy")
    rng = np.random.default_rng(20191122)
    for _ in range(200):
        m, n = (int(v) for v in rng.integers(2, 5, size=2))
        a_mat = rng.uniform(-10, 10, (m, n))
        b_mat = rng.uniform(-10, 10, (m, n))
        game = nashpy.Game(a_mat, b_mat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            support = [(np.asarray(x), np.asarray(y)) for x, y in game.support_enumeration()]
            vertex = [(np.asarray(x), np.asarray(y)) for x, y in game.vertex_enumeration()]
        ours = mixed_nash_2p(a_mat, b_mat)
        # generic games have an odd number of equilibria; vertex enumeration (qhull)
        # finds exactly the same set
        assert len(ours) % 2 == 1
        assert _same_equilibria(ours, vertex), (a_mat, b_mat, ours, vertex)
        # nashpy's support enumeration can miss equilibria: its exact tests
        # ``prob >= 0`` / ``prob <= 1e-16`` reject a solution over a round-off of ~1e-17,
        # how often depending on the numpy build (one game in 26 on an earlier build, one
        # in four on numpy 2.5.5). So it is checked as a subset: everything it finds we find, and
        # every equilibrium we report is confirmed in exact rational arithmetic below.
        for x, y in support:
            assert any(
                np.allclose(x, ox, atol=1e-8) and np.allclose(y, oy, atol=1e-8) for ox, oy in ours
            )
        for x, y in ours:
            exact = exact_equilibrium_on_support(
                a_mat, b_mat, tuple(np.flatnonzero(x)), tuple(np.flatnonzero(y))
            )
            assert exact is not None
            np.testing.assert_allclose(x, exact[0], atol=1e-9)
            np.testing.assert_allclose(y, exact[1], atol=1e-9)
        # pure equilibria are the pure ones among nashpy's (complete) vertex set
        pure_theirs = sorted(
            (int(np.argmax(x)), int(np.argmax(y)))
            for x, y in vertex
            if np.isclose(x.max(), 1.0) and np.isclose(y.max(), 1.0)
        )
        assert pure_nash_equilibria([a_mat, b_mat]) == pure_theirs


def test_mixed_nash_2p_order_is_deterministic():
    rng = np.random.default_rng(3)
    a_mat, b_mat = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    first = mixed_nash_2p(a_mat, b_mat)
    second = mixed_nash_2p(a_mat.copy(), b_mat.copy())
    assert len(first) == len(second)
    for (x1, y1), (x2, y2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    sizes = [int((x > 0).sum()) for x, _ in first]
    assert sizes == sorted(sizes)


# ----------------------------------------------------------------------------------------
# logit QRE: specific behaviour
# ----------------------------------------------------------------------------------------
def test_qre_result_fields():
    res = logit_qre(BOS, 2.0)
    assert isinstance(res, QREResult)
    assert res.converged and res.max_residual < 1e-10 and res.iterations > 0
    assert len(res.strategies) == 2
    with pytest.raises(AttributeError):
        res.converged = False  # type: ignore[misc]


def test_matching_pennies_qre_is_uniform_at_every_lambda():
    for lam in (0.0, 0.5, 1.0, 5.0, 50.0, 1e3):
        res = logit_qre(MP, lam)
        assert res.converged
        for s in res.strategies:
            np.testing.assert_allclose(s, [0.5, 0.5], atol=1e-12)


def test_prisoners_dilemma_qre_closed_form():
    # D beats C by exactly 1 + q against a co-player who cooperates with prob. q, so
    # the symmetric QRE solves q = 1 / (1 + exp(lam (1 + q)))
    for lam in (0.3, 1.0, 4.0):
        q = logit_qre(PD, lam).strategies[0][0]
        assert q == pytest.approx(1 / (1 + math.exp(lam * (1 + q))), abs=1e-12)


def test_qre_approaches_the_limiting_nash_equilibrium():
    # battle of the sexes: the principal branch of this game selects (0, 0)
    # (the row player's stake 3 > 2 makes her lean to action 0 from lam = 0 on)
    regrets = [nash_regret(BOS, logit_qre(BOS, lam).strategies) for lam in (1, 10, 100)]
    assert regrets[-1] < 1e-2
    assert regrets == sorted(regrets, reverse=True)


def test_turning_point_game_returns_first_crossing():
    for lam, (ref1, ref2) in FOLD_REF.items():
        res = logit_qre(FOLD, lam)
        assert res.converged
        np.testing.assert_allclose(res.strategies[0], ref1, atol=2e-6)
        np.testing.assert_allclose(res.strategies[1], ref2, atol=2e-6)
    # same answers with one lambda per game in a batch
    lams = np.array(list(FOLD_REF))
    batch = [np.broadcast_to(p, (3, 3, 3)) for p in FOLD]
    res = logit_qre(batch, lams)
    for b, (ref1, ref2) in enumerate(FOLD_REF.values()):
        np.testing.assert_allclose(res.strategies[0][b], ref1, atol=2e-6)
        np.testing.assert_allclose(res.strategies[1][b], ref2, atol=2e-6)


def test_generic_path_agrees_with_two_player_path():
    # a 2-player game with a dummy third player (one action) uses the n-player code
    rng = np.random.default_rng(11)
    a_mat, b_mat = random_game(rng, (3, 4), batch=(6,))
    three = [a_mat[..., None], b_mat[..., None], np.zeros((6, 3, 4, 1))]
    for lam in (0.7, 4.0, 15.0):
        two_p = logit_qre([a_mat, b_mat], lam)
        three_p = logit_qre(three, lam)
        assert two_p.converged and three_p.converged
        for s2, s3 in zip(two_p.strategies, three_p.strategies[:2], strict=True):
            np.testing.assert_allclose(s2, s3, atol=1e-9)
        np.testing.assert_array_equal(three_p.strategies[2], 1.0)


def test_one_player_qre_is_softmax():
    u = np.array([1.0, 2.0, 0.5])
    res = logit_qre([u], 3.0)
    np.testing.assert_allclose(res.strategies[0], logit_response(u, 3.0), atol=1e-12)


def test_deterministic():
    rng = np.random.default_rng(5)
    pays = random_game(rng, (4, 3), batch=(7,))
    r1 = logit_qre(pays, 6.0)
    r2 = logit_qre([p.copy() for p in pays], 6.0)
    assert r1.iterations == r2.iterations
    for s1, s2 in zip(r1.strategies, r2.strategies, strict=True):
        np.testing.assert_array_equal(s1, s2)


def test_iteration_cap_is_reported_not_raised():
    rng = np.random.default_rng(8)
    pays = random_game(rng, (4, 4), batch=(3,))
    res = logit_qre(pays, 10.0, max_iter=3)
    assert not res.converged and res.iterations <= 3 and res.max_residual > 1e-10
    for s in res.strategies:
        assert np.all(np.isfinite(s)) and np.allclose(s.sum(axis=-1), 1.0)


def test_four_player_qre_is_a_fixed_point():
    rng = np.random.default_rng(4)
    pays = random_game(rng, (2, 3, 2, 2), batch=(2,))
    for lam in (0.5, 2.0, 6.0):
        res = logit_qre(pays, lam)
        assert res.converged
        assert fixed_point_residual(pays, res.strategies, lam) < 1e-9


def test_empty_batch():
    res = logit_qre([np.zeros((0, 2, 3)), np.zeros((0, 2, 3))], 1.0)
    assert res.converged and res.strategies[0].shape == (0, 2)


@pytest.mark.parametrize(
    ("payoffs", "lam", "masks", "match"),
    [
        ([np.zeros((2, 2)), np.zeros((2, 3))], 1.0, None, "same shape"),
        ([np.zeros(2), np.zeros(2)], 1.0, None, "at least 2 dimensions"),
        (np.zeros((2, 2, 2)), 1.0, None, "sequence"),
        ([np.zeros((2, 2)), np.full((2, 2), np.nan)], 1.0, None, "non-finite"),
        ([np.zeros((2, 2)), np.zeros((2, 2))], -0.1, None, "lam"),
        ([np.zeros((2, 2)), np.zeros((2, 2))], np.inf, None, "lam"),
        ([np.zeros((3, 2, 2)), np.zeros((3, 2, 2))], np.ones(2), None, "broadcastable"),
        (
            [np.zeros((2, 2)), np.zeros((2, 2))],
            1.0,
            [np.array([False, False]), np.array([True, True])],
            "no feasible action",
        ),
        (
            [np.zeros((2, 2)), np.zeros((2, 2))],
            1.0,
            [np.array([True, True])],
            "one per player",
        ),
        (
            [np.zeros((2, 2)), np.zeros((2, 2))],
            1.0,
            [np.array([True, True, True]), np.array([True, True])],
            "shape",
        ),
        (
            [np.zeros((2, 2)), np.zeros((2, 2))],
            1.0,
            [np.array([1, 1]), np.array([1, 1])],
            "boolean",
        ),
    ],
)
def test_logit_qre_rejects_bad_input(payoffs, lam, masks, match):
    with pytest.raises(ValueError, match=match):
        logit_qre(payoffs, lam, masks=masks)


def test_other_functions_reject_bad_input():
    with pytest.raises(ValueError, match="no batch"):
        pure_nash_equilibria([np.zeros((3, 2, 2)), np.zeros((3, 2, 2))])
    with pytest.raises(ValueError, match="same shape"):
        mixed_nash_2p(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="strategies"):
        nash_regret(PD, [np.array([0.5, 0.5])])
    with pytest.raises(ValueError, match="length 2"):
        expected_payoffs(PD, [np.ones(3) / 3, np.ones(2) / 2])
    with pytest.raises(ValueError, match="lam"):
        logit_response(np.zeros(3), -1.0)


# ----------------------------------------------------------------------------------------
# hypothesis properties
# ----------------------------------------------------------------------------------------
payoff_values = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


value_kinds = st.sampled_from(
    [payoff_values, st.integers(-3, 3).map(float), st.sampled_from([0.0, 1.0])]
)


@st.composite
def games(draw, max_players=3, max_actions=4, max_batch_dims=2, values=None):
    """Arbitrary games, including degenerate ones (ties, symmetric, all-zero)."""
    if values is None:
        values = draw(value_kinds)
    n = draw(st.integers(2, max_players))
    actions = tuple(draw(st.integers(1, max_actions)) for _ in range(n))
    batch = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, max_batch_dims))))
    shape = (*batch, *actions)
    pays = [draw(hnp.arrays(np.float64, shape, elements=values)) for _ in range(n)]
    return pays, batch, actions


@st.composite
def masks_for(draw, batch, actions):
    out = []
    for a in actions:
        m = draw(hnp.arrays(np.bool_, (*batch, a)))
        # at least one feasible action per player and game
        first = draw(st.integers(0, a - 1))
        m[..., first] = True
        out.append(m)
    return out


@st.composite
def generic_games(draw, max_players=3, max_actions=4, max_batch=4):
    """Random (almost surely nondegenerate) games from a hypothesis-chosen seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.sampled_from([2, 2, 3]))
    actions = tuple(draw(st.integers(2, max_actions if n == 2 else 3)) for _ in range(n))
    nb = draw(st.integers(1, max_batch))
    scale = draw(st.sampled_from([1.0, 5.0, 10.0]))
    rng = np.random.default_rng(seed)
    return random_game(rng, actions, batch=(nb,), lo=-scale, hi=scale), actions


@PROPS
@given(data=st.data(), m=st.integers(1, 4), n=st.integers(1, 4), values=value_kinds)
def test_prop_support_enumeration_returns_equilibria(data, m, n, values):
    a_mat = data.draw(hnp.arrays(np.float64, (m, n), elements=values))
    b_mat = data.draw(hnp.arrays(np.float64, (m, n), elements=values))
    eqs = mixed_nash_2p(a_mat, b_mat)
    for x, y in eqs:
        assert np.all(x >= 0) and np.all(y >= 0)
        assert x.sum() == pytest.approx(1.0) and y.sum() == pytest.approx(1.0)
        assert nash_regret([a_mat, b_mat], [x, y]) <= 1e-8
    for prof in pure_nash_equilibria([a_mat, b_mat]):
        assert nash_regret([a_mat, b_mat], one_hot(prof, (m, n))) <= 1e-12


@PROPS
@given(game=games(max_batch_dims=0, values=st.integers(-3, 3).map(float)))
def test_prop_pure_equilibria_are_exactly_the_zero_regret_profiles(game):
    pays, _, actions = game
    found = set(pure_nash_equilibria(pays))
    for prof in itertools.product(*(range(a) for a in actions)):
        assert (prof in found) == (nash_regret(pays, one_hot(prof, actions)) <= 0.0)


@PROPS
@given(game=games(), lam=st.floats(0, 20))
def test_prop_qre_is_a_fixed_point_and_a_probability_vector(game, lam):
    pays, batch, actions = game
    res = logit_qre(pays, lam)
    assert res.converged, res
    assert res.max_residual < 1e-10
    for s, a in zip(res.strategies, actions, strict=True):
        assert s.shape == (*batch, a)
        assert np.all(s >= 0)
        np.testing.assert_allclose(s.sum(axis=-1), 1.0, atol=1e-12)
    assert fixed_point_residual(pays, res.strategies, lam) < 1e-9


@PROPS
@given(data=st.data(), game=games(max_players=3))
def test_prop_lambda_zero_is_uniform_over_feasible_actions(data, game):
    pays, batch, actions = game
    masks = data.draw(st.one_of(st.none(), masks_for(batch, actions)))
    res = logit_qre(pays, 0.0, masks=masks)
    assert res.converged
    for i, s in enumerate(res.strategies):
        m = np.ones(s.shape, dtype=bool) if masks is None else masks[i]
        want = m / m.sum(axis=-1, keepdims=True)
        np.testing.assert_allclose(s, want, atol=1e-14)


@PROPS
@given(data=st.data(), game=games(max_players=3), lam=st.floats(0, 15))
def test_prop_masked_actions_get_zero_and_their_payoffs_do_not_matter(data, game, lam):
    pays, batch, actions = game
    masks = data.draw(masks_for(batch, actions))
    res = logit_qre(pays, lam, masks=masks)
    assert res.converged, res
    for s, m in zip(res.strategies, masks, strict=True):
        assert np.all(s[~m] == 0.0)
        np.testing.assert_allclose(s.sum(axis=-1), 1.0, atol=1e-12)
    assert fixed_point_residual(pays, res.strategies, lam, masks) < 1e-9
    # overwrite every payoff of a profile that uses an infeasible action
    feasible = np.ones(pays[0].shape, dtype=bool)
    nd = len(batch)
    for k, m in enumerate(masks):
        shape = [*batch] + [1] * len(actions)
        shape[nd + k] = actions[k]
        feasible &= m.reshape(shape)
    junk = data.draw(hnp.arrays(np.float64, pays[0].shape, elements=st.floats(-1e6, 1e6)))
    changed = [np.where(feasible, p, junk * (i + 1)) for i, p in enumerate(pays)]
    res2 = logit_qre(changed, lam, masks=masks)
    for s1, s2 in zip(res.strategies, res2.strategies, strict=True):
        np.testing.assert_array_equal(s1, s2)


@PROPS
@given(game=generic_games(), lam=st.floats(0.1, 20))
def test_prop_batched_solve_equals_separate_solves(game, lam):
    pays, _ = game
    nb = pays[0].shape[0]
    lams = np.linspace(lam / 2, lam, nb)
    batched = logit_qre(pays, lams)
    assert batched.converged
    for b in range(nb):
        single = logit_qre([p[b] for p in pays], float(lams[b]))
        for sb, ss in zip(batched.strategies, single.strategies, strict=True):
            np.testing.assert_allclose(sb[b], ss, atol=1e-9)


@PROPS
@given(
    game=generic_games(),
    lam=st.floats(0.1, 20),
    player=st.integers(0, 2),
    const=st.floats(-50, 50),
)
def test_prop_invariant_to_adding_a_constant_to_a_players_payoffs(game, lam, player, const):
    pays, _ = game
    player %= len(pays)
    shifted = [p + const if i == player else p for i, p in enumerate(pays)]
    r1, r2 = logit_qre(pays, lam), logit_qre(shifted, lam)
    assert r1.converged and r2.converged
    for s1, s2 in zip(r1.strategies, r2.strategies, strict=True):
        np.testing.assert_allclose(s1, s2, atol=1e-8)


@PROPS
@given(data=st.data(), game=generic_games(max_batch=1))
def test_prop_large_lambda_gives_epsilon_nash(data, game):
    pays, actions = game
    pays = [p[0] for p in pays]
    # rescale to [0, 1] and plant a strict pure equilibrium at a random profile
    lo = min(float(p.min()) for p in pays)
    hi = max(float(p.max()) for p in pays)
    pays = [(p - lo) / (hi - lo) * 0.5 for p in pays]
    prof = tuple(data.draw(st.integers(0, a - 1)) for a in actions)
    for i in range(len(pays)):
        pays[i][prof] = 1.0
    assert prof in pure_nash_equilibria(pays)
    res = logit_qre(pays, 1e3)
    assert res.converged, res
    # softmax loses at most entropy / lam <= log(a_i) / lam against a best response
    bound = max(math.log(a) for a in actions) / 1e3
    assert nash_regret(pays, res.strategies) <= bound + 1e-12
    assert nash_regret(pays, res.strategies) < 2e-3


@PROPS
@given(lam=st.floats(0, 1e3), scale=st.floats(0.01, 100))
def test_prop_matching_pennies_uniform(lam, scale):
    res = logit_qre([MP_A * scale, -MP_A * scale], lam)
    assert res.converged
    for s in res.strategies:
        np.testing.assert_allclose(s, [0.5, 0.5], atol=1e-12)


# ----------------------------------------------------------------------------------------
# against gambit's logit QRE (Turocy's path follower)
# ----------------------------------------------------------------------------------------
# pygambit ships only a source distribution for most platforms (minutes of C++ to build),
# so the default suite compares with its answers recorded in tests/data/gambit_qre.json
# (tests/gambit_record.py writes them); with the gambit extra installed
# (pip install -e '.[gambit]'), test_gambit_record_is_gambits_answer checks the record
# against the live pygambit.
GAMBIT_RECORD = Path(__file__).parent / "data" / "gambit_qre.json"
NEEDS_GAMBIT = "pygambit not installed (the gambit extra: pip install -e '.[gambit]')"


def gambit_cases() -> dict[str, tuple[list[np.ndarray], list[float], float]]:
    """The games cross-checked with gambit: name -> (payoffs, lambdas, tolerance). Random
    games of 2 and 3 players (seeded), the turning-point game and a month's stage game."""
    rng = np.random.default_rng(2019)
    shapes = [(2, 2), (3, 3), (5, 4), (4, 6), (2, 3, 2), (3, 2, 3)]
    cases = {
        f"random_{k}_{'x'.join(map(str, actions))}": (
            random_game(rng, actions),
            [0.3, 1.0, 3.0, 8.0, 20.0],
            1e-4,
        )
        for k, actions in enumerate(shapes * 2)
    }
    cases["turning_point"] = (FOLD, [5.0, 9.0, 11.0, 12.0, 15.0], 1e-6)
    cases["month"] = ([MONTH_A, MONTH_B], [1.0, 10.0, 30.0, 60.0], 1e-6)
    return cases


def gambit_qre(pays, lams) -> list[list[np.ndarray]]:
    """pygambit's logit QRE of the game at each lambda (the first crossing of each along
    the principal branch): per lambda, each player's mixed strategy."""
    import pygambit as gbt

    game = gbt.Game.from_arrays(*pays)
    out = []
    for r in gbt.qre.logit_solve_lambda(game, list(lams)):
        prof = r.profile
        out.append([np.array([float(prof[s]) for s in pl.strategies]) for pl in game.players])
    return out


def gambit_record() -> dict:
    return json.loads(GAMBIT_RECORD.read_text())


def test_the_gambit_record_holds_the_games_tested():
    record = gambit_record()
    assert record["solver"] == "pygambit.qre.logit_solve_lambda" and record["pygambit"]
    cases = gambit_cases()
    assert set(record["cases"]) == set(cases)
    for name, (pays, lams, _) in cases.items():
        recorded = record["cases"][name]
        assert recorded["lambdas"] == lams, name
        for mine, theirs in zip(pays, recorded["payoffs"], strict=True):
            np.testing.assert_array_equal(mine, np.array(theirs), err_msg=name)
        assert len(recorded["strategies"]) == len(lams)


@pytest.mark.parametrize("name", sorted(gambit_cases()))
def test_matches_gambits_logit_qre(name):
    """Our QRE at each lambda, alone and in a batch of the lambdas, is gambit's (as
    recorded) to the case's tolerance."""
    pays, lams, tolerance = gambit_cases()[name]
    refs = gambit_record()["cases"][name]["strategies"]
    batch = logit_qre([np.broadcast_to(p, (len(lams), *p.shape)) for p in pays], np.array(lams))
    assert batch.converged
    for j, (lam, ref) in enumerate(zip(lams, refs, strict=True)):
        alone = logit_qre(pays, lam)
        assert alone.converged
        for i, theirs in enumerate(ref):
            assert np.abs(alone.strategies[i] - theirs).max() < tolerance, (name, lam, i)
            assert np.abs(batch.strategies[i][j] - theirs).max() < tolerance, (name, lam, i)


def test_gambit_record_is_gambits_answer():
    """The recorded answers are what the installed pygambit computes (the gambit extra)."""
    pytest.importorskip("pygambit", reason=NEEDS_GAMBIT)
    record = gambit_record()["cases"]
    for name, (pays, lams, _) in gambit_cases().items():
        for lam, live, kept in zip(
            lams, gambit_qre(pays, lams), record[name]["strategies"], strict=True
        ):
            for i, (a, b) in enumerate(zip(live, kept, strict=True)):
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=f"{name} {lam} {i}")


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=5),
    st.integers(min_value=2, max_value=5),
    st.floats(min_value=0.0, max_value=30.0),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.booleans(),
)
def test_separable_fast_path_equals_the_homotopy(rows, cols, lam, seed, row_player_free):
    """A game where one player's payoff differences ignore the opponent is solved in closed
    form; the result must be the QRE the general tracer finds."""
    rng = np.random.default_rng(seed)
    own = rng.uniform(0, 1, rows if row_player_free else cols)
    shift = rng.uniform(0, 1, cols if row_player_free else rows)
    other = rng.uniform(0, 1, (rows, cols))
    if row_player_free:
        a_mat, b_mat = own[:, None] + shift[None, :], other
    else:
        a_mat, b_mat = other, own[None, :] + shift[:, None]
    fast = logit_qre([a_mat, b_mat], lam)
    assert fast.iterations == 0
    # a tiny perturbation makes the game non-separable and forces the tracer
    bump = np.zeros((rows, cols))
    bump[0, 0] = 1e-6
    slow = logit_qre([a_mat + bump, b_mat + bump], lam)
    assert slow.iterations > 0
    for f, s in zip(fast.strategies, slow.strategies, strict=True):
        np.testing.assert_allclose(f, s, atol=1e-4)


# ----------------------------------------------------------------------------------------
# the single-game tracer (the model's path) against the batched one
# ----------------------------------------------------------------------------------------
def _both_tracers(pays, lam, masks=None):
    """The batched tracer and the single-game one on the same one-game system."""
    system = _Bimatrix([p[None] for p in pays], None if masks is None else [m[None] for m in masks])
    batched = _trace(system, np.array([lam]), 1e-10, 1000)
    single = _trace_one(system, float(lam), 1e-10, 1000)
    return batched, single


def _assert_same_trace(batched, single):
    (p_b, it_b, ok_b), (p_s, it_s, ok_s) = batched, single
    assert it_s == it_b  # step for step: the same accepted and rejected steps
    np.testing.assert_array_equal(ok_s, ok_b)
    np.testing.assert_allclose(p_s, p_b, rtol=0, atol=1e-9)


def test_month_game_single_tracer_equals_batched():
    """The month's game needs the homotopy at every lambda gambit is compared at
    (test_matches_gambits_logit_qre), and the single-game tracer takes the batched one's
    steps."""
    _assert_same_trace(*_both_tracers([MONTH_A, MONTH_B], 60.0))
    for lam in gambit_cases()["month"][1]:
        res = logit_qre([MONTH_A, MONTH_B], lam)  # one game: the single-game tracer
        assert res.converged and res.iterations > 0


def test_turning_point_single_tracer_equals_batched():
    for lam in (*FOLD_REF, 11.0, 15.0):
        batched, single = _both_tracers(FOLD, lam)
        _assert_same_trace(batched, single)
        assert single[2].all()


# 0/1 games whose principal branch meets a bifurcation point: the tracer crosses it
# with a tiny step and an orientation flip (found by a seeded search)
FLIPS = [
    ([[0, 1], [0, 1], [1, 0]], [[1, 1], [0, 1], [1, 0]], 60.0),
    ([[0, 1], [1, 0]], [[0, 1], [1, 0]], 2.0),
    (
        [[0, 0, 1], [1, 1, 1], [1, 1, 1], [1, 1, 0]],
        [[1, 1, 1], [0, 0, 1], [1, 1, 0], [1, 1, 0]],
        60.0,
    ),
    ([[0, 1], [0, 0]], [[0, 0], [1, 0]], 20.0),
]


@pytest.mark.parametrize(("a_mat", "b_mat", "lam"), FLIPS)
def test_single_tracer_equals_batched_across_a_bifurcation(a_mat, b_mat, lam):
    pays = [np.array(a_mat, dtype=float), np.array(b_mat, dtype=float)]
    batched, single = _both_tracers(pays, lam)
    _assert_same_trace(batched, single)
    assert logit_qre(pays, lam).converged


@PROPS
@given(
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 5),
    cols=st.integers(1, 5),
    scale=st.sampled_from([1.0, 5.0, 10.0]),
    lam=st.floats(0, 80),
)
def test_prop_single_tracer_equals_batched(data, seed, rows, cols, scale, lam):
    pays = random_game(np.random.default_rng(seed), (rows, cols), lo=-scale, hi=scale)
    masks = data.draw(masks_for((), (rows, cols))) if data.draw(st.booleans()) else None
    _assert_same_trace(*_both_tracers(pays, lam, masks))


@PROPS
@given(game=games(max_players=2, max_actions=4, max_batch_dims=0), lam=st.floats(0, 50))
def test_prop_single_tracer_equals_batched_on_degenerate_games(game, lam):
    """Ties and symmetries (where the tracer may give up and _natural finishes)."""
    pays, _, _ = game
    _assert_same_trace(*_both_tracers(pays, lam))
