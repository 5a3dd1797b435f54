# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled loops of the month's backward induction (``model.kernels`` dispatches here).

Each function is the loop form of a numpy expression in ``model.kernels`` (the plain
path, which tests compare these with): one pass over the nodes, no temporary arrays.
"""

from libc.math cimport exp, INFINITY

cdef double EXP_UNDERFLOW = -745.2
"""exp(x) is exactly 0.0 in double precision for every x below this (the smallest
subnormal number is exp(-744.44))."""


def logit_blocks(
    const double[:, :, ::1] values,
    const double[:, ::1] penalty,
    const unsigned char[::1] live,
    Py_ssize_t player,
    double lam,
    double[:, ::1] probs,
    double[:, ::1] out,
):
    """Logit choice of ``player`` over the middle axis of ``values`` (N nodes, A moves,
    P players), ``penalty`` (N, A) added to lam * utility (0 feasible, -inf not; an empty
    array when every move is feasible), into ``probs`` (N, A); every player's value in
    expectation over the choice into ``out`` (N, P). Nodes that ``live`` (N,; empty: all)
    marks 0 are never reached (an earlier mover's move there is infeasible): they get
    probability 0 and value 0, which the earlier stages weigh by 0."""
    cdef Py_ssize_t n_nodes = values.shape[0]
    cdef Py_ssize_t n_moves = values.shape[1]
    cdef Py_ssize_t n_players = values.shape[2]
    cdef bint masked = penalty.shape[0] > 0
    cdef bint pruned = live.shape[0] > 0
    cdef Py_ssize_t i, a, k
    cdef double z, top, total, p
    for i in range(n_nodes):
        if pruned and not live[i]:
            for a in range(n_moves):
                probs[i, a] = 0.0
            for k in range(n_players):
                out[i, k] = 0.0
            continue
        top = -INFINITY
        for a in range(n_moves):
            z = lam * values[i, a, player]
            if masked:
                z = z + penalty[i, a]
            probs[i, a] = z
            if z > top:
                top = z
        total = 0.0
        for a in range(n_moves):
            z = probs[i, a] - top
            # exp underflows to exactly 0 below this: skip the call (most moves at high
            # rationality, and every infeasible one)
            z = exp(z) if z > EXP_UNDERFLOW else 0.0
            probs[i, a] = z
            total = total + z
        for k in range(n_players):
            out[i, k] = 0.0
        for a in range(n_moves):
            p = probs[i, a] / total
            probs[i, a] = p
            if p != 0.0:
                for k in range(n_players):
                    out[i, k] = out[i, k] + p * values[i, a, k]


def add_discounted(
    const double[:, ::1] flow,
    const double[:, ::1] later,
    const long long[::1] index,
    double discount,
    double[:, ::1] out,
):
    """``out = flow + discount * later[index]``: a month's utilities plus the discounted
    value of the state each profile leads to."""
    cdef Py_ssize_t n = flow.shape[0]
    cdef Py_ssize_t n_players = flow.shape[1]
    cdef Py_ssize_t i, k, j
    for i in range(n):
        j = index[i]
        for k in range(n_players):
            out[i, k] = flow[i, k] + discount * later[j, k]
