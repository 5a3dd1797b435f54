"""Compiled inner loop of the backward induction: one mover's logit response at every
node of a batch, and the values it leads to (numba; the rest of the solver is numpy).

A month of the lookahead is a chain of single movers (Washington, then Tokyo, then
Seoul, with Beijing's stance fixed), solved at every reachable state for every month to
the deadline, every month of a run: on arrays this small numpy's per-call overhead, not
arithmetic, bounds the cost, so the loop is compiled.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, fastmath=False)
def logit_stage(
    values: np.ndarray, ok: np.ndarray, player: int, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """Logit choice of ``player`` over the middle axis of ``values`` (N nodes, A moves,
    P players), infeasible moves (``ok`` False) at probability 0, and every player's
    value in expectation over that choice: ``(probs (N, A), expected (N, P))``."""
    n, a, p = values.shape
    probs = np.zeros((n, a))
    out = np.zeros((n, p))
    for i in range(n):
        zmax = -np.inf
        for k in range(a):
            if ok[i, k]:
                z = lam * values[i, k, player]
                if z > zmax:
                    zmax = z
        total = 0.0
        for k in range(a):
            if ok[i, k]:
                e = np.exp(lam * values[i, k, player] - zmax)
                probs[i, k] = e
                total += e
        for k in range(a):
            pk = probs[i, k] / total
            probs[i, k] = pk
            if pk != 0.0:
                for q in range(p):
                    out[i, q] += pk * values[i, k, q]
    return probs, out
