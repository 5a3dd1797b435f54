"""The month's hot loops: compiled where the extension is built, plain numpy otherwise.

Backward induction spends its time in two steps repeated for every month of a lookahead:
adding the discounted value of the state each profile leads to (``add_discounted``) and
a mover's logit choice at every node with every player's expected value
(``logit_nodes``). Each exists twice: a numpy expression (the reference, the path when
the extension ``model._kernels`` is not built, and what tests compare the compiled loops
with) and a Cython loop that makes one pass over the nodes without temporaries. Setting
the environment variable ``GSOMIA_KERNELS=numpy`` before import selects the numpy path.
"""

from __future__ import annotations

import os

import numpy as np

try:
    from model import _kernels as _compiled
except ImportError:  # a source tree without the built extension
    _compiled = None

PLAIN = os.environ.get("GSOMIA_KERNELS", "").strip().lower() == "numpy"
"""The numpy path was asked for (``GSOMIA_KERNELS=numpy``)."""
COMPILED = _compiled is not None and not PLAIN
"""The compiled loops are in use."""
_NO_PENALTY = np.zeros((0, 0))
_ALL_LIVE = np.zeros(0, dtype=np.uint8)


def logit_nodes_numpy(
    values: np.ndarray, penalty: np.ndarray | None, player: int, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """Logit choice of ``player`` over the middle axis of ``values`` (N nodes, A moves,
    P players) with ``penalty`` (N, A; 0 feasible, -inf not, or None) added to lam times
    its utility: ``(probs (N, A), expected (N, P))``."""
    z = values[:, :, player] * lam
    if penalty is not None:
        z += penalty
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z, (z[:, None, :] @ values)[:, 0, :]


def add_discounted_numpy(
    flow: np.ndarray, later: np.ndarray, index: np.ndarray, discount: float
) -> np.ndarray:
    """``flow + discount * later[index]`` (flow (N, P), later (M, P), index (N,))."""
    return flow + discount * np.take(later, index, axis=0)


def logit_nodes(
    values: np.ndarray,
    penalty: np.ndarray | None,
    player: int,
    lam: float,
    live: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``logit_nodes_numpy``, compiled when available (``values`` C-contiguous). The
    compiled loop skips the nodes ``live`` (bool (N,), or None: all) marks False, which
    no feasible path reaches: it gives them probability 0 and value 0 (the numpy path
    computes them; either way the earlier stages weigh them by 0)."""
    if not COMPILED:
        return logit_nodes_numpy(values, penalty, player, lam)
    n, a, p = values.shape
    probs = np.empty((n, a))
    out = np.empty((n, p))
    _compiled.logit_blocks(
        values,
        _NO_PENALTY if penalty is None else penalty,
        _ALL_LIVE if live is None else live.view(np.uint8),
        player,
        lam,
        probs,
        out,
    )
    return probs, out


def add_discounted(
    flow: np.ndarray, later: np.ndarray, index: np.ndarray, discount: float
) -> np.ndarray:
    """``add_discounted_numpy``, compiled when available (all C-contiguous, ``index``
    int64)."""
    if not COMPILED:
        return add_discounted_numpy(flow, later, index, discount)
    out = np.empty(flow.shape)
    _compiled.add_discounted(
        np.ascontiguousarray(flow),
        np.ascontiguousarray(later),
        np.ascontiguousarray(index, dtype=np.int64),
        discount,
        out,
    )
    return out
