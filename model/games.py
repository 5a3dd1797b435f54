"""Small, pure solvers for finite n-player normal-form games.

Payoff convention
-----------------
An n-player game is a sequence ``payoffs`` of n arrays; ``payoffs[i]`` has shape
``(*batch, a_1, ..., a_n)`` and holds player i's payoff for every pure profile.
``batch`` is zero or more leading dimensions indexing independent games that share
the same action counts, so many games are solved at once without Python loops.
Mixed strategies are lists of n arrays of shape ``(*batch, a_i)``.  Optional
``masks`` are n boolean arrays of shape ``(*batch, a_i)`` marking feasible actions.

Contents
--------
* :func:`expected_payoffs`, :func:`logit_response` - building blocks.
* :func:`logit_qre` - logit quantal response equilibrium (McKelvey & Palfrey 1995)
  on the principal branch, traced from the centroid at lambda = 0 with a vectorised
  predictor-corrector homotopy in (log-probabilities, lambda) (Turocy 2005); a single
  two-player game (the model's case) takes the same steps in a scalar tracer.
* :func:`pure_nash_equilibria`, :func:`mixed_nash_2p` - exact Nash equilibria for
  checks and small analyses (support enumeration: Nisan et al. 2007, Alg. 3.4).
* :func:`nash_regret`, :func:`is_nash` - epsilon-Nash diagnostics.

References
----------
McKelvey, R. D. & Palfrey, T. R. (1995). Quantal response equilibria for normal
form games. Games and Economic Behavior 10, 6-38.
Turocy, T. L. (2005). A dynamic homotopy interpretation of the logistic quantal
response equilibrium correspondence. Games and Economic Behavior 51, 243-263.
Allgower, E. L. & Georg, K. (2003). Introduction to Numerical Continuation Methods.
SIAM (pseudo-arclength predictor-corrector).
Nisan, N., Roughgarden, T., Tardos, E. & Vazirani, V. (2007). Algorithmic Game
Theory, ch. 3 (von Stengel), Cambridge University Press.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg.lapack import dgesv as _dgesv

__all__ = [
    "QREResult",
    "expected_payoffs",
    "is_nash",
    "logit_qre",
    "logit_response",
    "mixed_nash_2p",
    "nash_regret",
    "pure_nash_equilibria",
]

_LETTERS = string.ascii_letters
_max = np.maximum.reduce


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _as_payoffs(payoffs: Sequence[ArrayLike]) -> list[np.ndarray]:
    """Convert and validate a payoff sequence (same shape for all players, finite)."""
    if isinstance(payoffs, np.ndarray) or not isinstance(payoffs, Sequence):
        raise ValueError("payoffs must be a sequence (list/tuple) of n arrays, one per player")
    n = len(payoffs)
    if n == 0:
        raise ValueError("payoffs must contain at least one player")
    if n > len(_LETTERS) // 2:
        raise ValueError(f"at most {len(_LETTERS) // 2} players are supported, got {n}")
    arrs = [np.asarray(p, dtype=float) for p in payoffs]
    shape = arrs[0].shape
    for i, a in enumerate(arrs):
        if a.shape != shape:
            raise ValueError(
                f"all payoff arrays must have the same shape; payoffs[0] has {shape}, "
                f"payoffs[{i}] has {a.shape}"
            )
    if len(shape) < n:
        raise ValueError(
            f"a {n}-player game needs payoff arrays with at least {n} dimensions "
            f"(*batch, a_1, ..., a_{n}); got shape {shape}"
        )
    if any(s < 1 for s in shape[len(shape) - n :]):
        raise ValueError(f"every player needs at least one action; got action counts {shape}")
    for i, a in enumerate(arrs):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"payoffs[{i}] contains non-finite values")
    return arrs


def _split_shape(arrs: list[np.ndarray]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n = len(arrs)
    shape = arrs[0].shape
    return shape[: len(shape) - n], shape[len(shape) - n :]


def _as_masks(
    masks: Sequence[ArrayLike] | None,
    batch: tuple[int, ...],
    actions: tuple[int, ...],
) -> list[np.ndarray] | None:
    """Validate feasibility masks; ``None`` means every action is feasible."""
    if masks is None:
        return None
    if isinstance(masks, np.ndarray) or not isinstance(masks, Sequence):
        raise ValueError("masks must be a sequence of n boolean arrays, one per player")
    if len(masks) != len(actions):
        raise ValueError(f"expected {len(actions)} masks (one per player), got {len(masks)}")
    out = []
    for i, (m, a) in enumerate(zip(masks, actions, strict=True)):
        arr = np.asarray(m)
        if arr.dtype != np.bool_:
            raise ValueError(f"masks[{i}] must be a boolean array, got dtype {arr.dtype}")
        if arr.shape != (*batch, a):
            raise ValueError(f"masks[{i}] must have shape {(*batch, a)}, got {arr.shape}")
        if not np.all(arr.any(axis=-1)):
            raise ValueError(f"player {i} has no feasible action in at least one game (masks[{i}])")
        out.append(arr)
    return out


def _as_strategies(strategies: Sequence[ArrayLike], actions: tuple[int, ...]) -> list[np.ndarray]:
    if isinstance(strategies, np.ndarray) or not isinstance(strategies, Sequence):
        raise ValueError("strategies must be a sequence of n arrays, one per player")
    if len(strategies) != len(actions):
        raise ValueError(
            f"expected {len(actions)} strategies (one per player), got {len(strategies)}"
        )
    out = []
    for i, (s, a) in enumerate(zip(strategies, actions, strict=True)):
        arr = np.asarray(s, dtype=float)
        if arr.ndim < 1 or arr.shape[-1] != a:
            raise ValueError(f"strategies[{i}] must end in an axis of length {a}, got {arr.shape}")
        out.append(arr)
    return out


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------
def _contract(
    payoff: np.ndarray, strategies: Sequence[np.ndarray], keep: Sequence[int]
) -> np.ndarray:
    """Contract ``payoff`` (``(*batch, a_1..a_n)``) with every strategy not in ``keep``.

    The result has shape ``(*batch, a_k for k in keep)`` (in the order of ``keep``).
    """
    n = len(strategies)
    letters = _LETTERS[:n]
    operands: list[np.ndarray] = [payoff]
    subs = ["..." + letters]
    for k, s in enumerate(strategies):
        if k not in keep:
            operands.append(s)
            subs.append("..." + letters[k])
    out = "..." + "".join(letters[k] for k in keep)
    return np.einsum(",".join(subs) + "->" + out, *operands)


def expected_payoffs(
    payoffs: Sequence[ArrayLike], strategies: Sequence[ArrayLike]
) -> list[np.ndarray]:
    """Expected payoff of each pure action of each player against the others' mixtures.

    Returns a list whose i-th entry has shape ``(*batch, a_i)``: entry ``j`` is
    ``E[u_i(j, s_{-i})]`` with the opponents playing ``strategies`` independently.
    This is the (multilinear) payoff map whose fixed points under a response rule
    define equilibria (Nash 1951; McKelvey & Palfrey 1995, eq. 1).
    """
    pays = _as_payoffs(payoffs)
    _, actions = _split_shape(pays)
    strats = _as_strategies(strategies, actions)
    if len(pays) == 2:
        a_mat, b_mat = pays
        s1, s2 = strats
        u1 = np.matmul(a_mat, s2[..., :, None])[..., 0]
        u2 = np.matmul(s1[..., None, :], b_mat)[..., 0, :]
        return [u1, u2]
    return [_contract(p, strats, (i,)) for i, p in enumerate(pays)]


def logit_response(
    utilities: ArrayLike, lam: float | ArrayLike, mask: ArrayLike | None = None
) -> np.ndarray:
    """Logit (softmax) choice probabilities ``exp(lam*u_j) / sum_k exp(lam*u_k)``.

    Computed over the last axis with the max-subtraction trick, so it never
    overflows.  ``lam`` is a scalar or an array broadcastable to ``utilities[..., 0]``.
    Actions with ``mask == False`` get exactly probability 0 (McKelvey & Palfrey 1995).
    """
    u = np.asarray(utilities, dtype=float)
    lam_arr = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam_arr)) or np.any(lam_arr < 0):
        raise ValueError(f"lam must be finite and >= 0, got {lam!r}")
    if u.ndim < 1 or u.shape[-1] < 1:
        raise ValueError(f"utilities must have a non-empty last axis, got shape {u.shape}")
    z = lam_arr[..., None] * u
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_ or m.shape != u.shape:
            raise ValueError(f"mask must be a boolean array of shape {u.shape}")
        if not np.all(m.any(axis=-1)):
            raise ValueError("mask leaves no feasible action for at least one row")
        return _softmax(np.where(m, z, -np.inf))
    return _softmax(z)


def _softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (max-subtracted); -inf entries get exactly 0."""
    z = z - _max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.add.reduce(e, axis=-1, keepdims=True)


def _logit(u: np.ndarray, lam: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """:func:`logit_response` for inputs its callers here have checked (``lam`` of
    shape ``u.shape[:-1]``)."""
    z = lam[..., None] * u
    return _softmax(z if mask is None else np.where(mask, z, -np.inf))


# --------------------------------------------------------------------------------------
# logit QRE: principal branch by pseudo-arclength continuation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QREResult:
    """Result of :func:`logit_qre`.

    ``strategies``: n arrays of shape ``(*batch, a_i)``; ``iterations``: number of
    vectorised Newton/continuation evaluations; ``converged``: every game reached the
    target lambda with ``max_residual < tol``; ``max_residual``: largest
    ``|sigma - logit_response(expected_payoffs(sigma))|`` over the batch.
    """

    strategies: list[np.ndarray]
    iterations: int
    converged: bool
    max_residual: float


class _LogitSystem:
    """The logit-QRE equations in log-probabilities for a flat batch of n-player games.

    Unknowns ``x = (y_1, ..., y_n, lam)`` with ``y_i`` the log-probabilities of player
    i.  With ``sigma_i = softmax(y_i)`` the equations are
    ``H_i(x) = y_i - log softmax(lam * u_i(sigma_{-i})) = 0``.  Log-coordinates (as in
    Turocy 2005) stay well conditioned when probabilities become tiny at large lambda.
    Infeasible actions have ``y = 0`` and ``H = 0`` and are excluded from every softmax.
    """

    def __init__(self, pays: list[np.ndarray], masks: list[np.ndarray] | None) -> None:
        n = len(pays)
        nb = pays[0].shape[0]
        self.n = n
        self.actions = tuple(int(a) for a in pays[0].shape[1:])
        self.offsets = [0, *itertools.accumulate(self.actions)]
        self.dim = self.offsets[-1]
        self.masked = masks is not None and not all(bool(m.all()) for m in masks)
        if self.masked and masks is not None:
            # Zero every profile that uses an infeasible action: such profiles have
            # probability 0, so this changes nothing mathematically, but it makes the
            # result independent of whatever (finite) numbers were stored there.
            feasible = np.ones(pays[0].shape, dtype=bool)
            for k, m in enumerate(masks):
                shape = [nb] + [1] * n
                shape[k + 1] = self.actions[k]
                feasible = feasible & m.reshape(shape)
            pays = [np.where(feasible, p, 0.0) for p in pays]
            self.masks = list(masks)
            self.neg = [np.where(m, 0.0, -np.inf) for m in masks]
        else:
            self.masks = [np.ones((nb, a), dtype=bool) for a in self.actions]
            self.neg = []
        self.pays = pays
        self.eye = np.eye(self.dim)

    def subset(self, idx: np.ndarray) -> _LogitSystem:
        """The same system restricted to the games ``idx``."""
        sub = object.__new__(_LogitSystem)
        sub.__dict__.update(self.__dict__)
        sub.pays = [p[idx] for p in self.pays]
        sub.masks = [m[idx] for m in self.masks]
        sub.neg = [g[idx] for g in self.neg]
        return sub

    def start(self) -> np.ndarray:
        """Uniform over the feasible actions at lambda = 0, shape ``(b, N+1)``."""
        x = np.zeros((self.masks[0].shape[0], self.dim + 1))
        for i, m in enumerate(self.masks):
            cnt = m.sum(axis=-1, keepdims=True)
            x[:, self.offsets[i] : self.offsets[i + 1]] = np.where(m, -np.log(cnt), 0.0)
        return x

    def strategies(self, x: np.ndarray) -> list[np.ndarray]:
        return self.sigma(x[:, : self.dim])

    def sigma(self, y: np.ndarray) -> list[np.ndarray]:
        """Mixed strategies ``softmax(y_i)`` (infeasible actions get exactly 0)."""
        out = []
        for i in range(self.n):
            yi = y[:, self.offsets[i] : self.offsets[i + 1]]
            if self.masked:
                yi = yi + self.neg[i]
            e = np.exp(yi - yi.max(axis=-1, keepdims=True))
            out.append(e / e.sum(axis=-1, keepdims=True))
        return out

    def utilities(self, sig: list[np.ndarray]) -> list[np.ndarray]:
        if self.n == 1:
            return [self.pays[0]]
        return [_contract(p, sig, (i,)) for i, p in enumerate(self.pays)]

    def evaluate(
        self, x: np.ndarray, need_jac: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """``H`` (b, N); ``[DH; 0]`` (b, N+1, N+1) or None; max |sigma - p| (b,)."""
        nb = x.shape[0]
        dim = self.dim
        y = x[:, :dim]
        lam = x[:, dim : dim + 1]
        sig = self.sigma(y)
        us = self.utilities(sig)
        mat = np.zeros((nb, dim + 1, dim + 1)) if need_jac else None
        big_h = np.empty((nb, dim))
        resid = np.zeros(nb)
        probs = []
        for i, (u, s) in enumerate(zip(us, sig, strict=True)):
            o0, o1 = self.offsets[i], self.offsets[i + 1]
            z = lam * u
            if self.masked:
                z = z + self.neg[i]
            z = z - z.max(axis=-1, keepdims=True)
            e = np.exp(z)
            tot = e.sum(axis=-1, keepdims=True)
            p = e / tot
            hi = y[:, o0:o1] - (z - np.log(tot))
            if self.masked:
                hi = np.where(self.masks[i], hi, 0.0)
            big_h[:, o0:o1] = hi
            resid = np.maximum(resid, np.abs(s - p).max(axis=-1))
            probs.append(p)
            if mat is not None:
                # dH_i/dlam = -(u_i - p_i.u_i)
                dl = np.matmul(u[:, None, :], p[:, :, None])[:, :, 0] - u
                if self.masked:
                    dl = np.where(self.masks[i], dl, 0.0)
                mat[:, o0:o1, dim] = dl
        if mat is None:
            return big_h, None, resid
        mat[:, :dim, :dim] = self.eye
        for i in range(self.n):
            o0, o1 = self.offsets[i], self.offsets[i + 1]
            for k in range(self.n):
                if k == i:
                    continue
                # d u_i/d y_k = M_ik (diag s_k - s_k s_k^T) = (M_ik - u_i 1^T) * s_k^T,
                # since u_i = M_ik s_k; then d log softmax(z)/dz = I - 1 p_i^T.
                m_ik = _contract(self.pays[i], sig, (i, k))  # d u_i / d sigma_k
                c = (m_ik - us[i][:, :, None]) * sig[k][:, None, :]
                c = np.matmul(probs[i][:, None, :], c) - c
                c *= lam[:, :, None]
                if self.masked:
                    c = np.where(self.masks[i][:, :, None], c, 0.0)
                mat[:, o0:o1, self.offsets[k] : self.offsets[k + 1]] = c
        return big_h, mat, resid


class _Bimatrix:
    """Specialised :class:`_LogitSystem` for two players (the common case).

    Both players' actions are padded to ``amax`` (padding = permanently infeasible
    actions) so that each step of the evaluation is a single array operation over both
    players; ``P[:, 0]`` is A and ``P[:, 1]`` is B transposed, both indexed
    ``[own action, other's action]``.
    """

    def __init__(self, pays: list[np.ndarray], masks: list[np.ndarray] | None) -> None:
        a_mat, b_mat = pays
        nb, a1, a2 = a_mat.shape
        amax = max(a1, a2)
        self.actions = (a1, a2)
        self.amax = amax
        self.dim = 2 * amax
        self.n = 2
        feas = np.zeros((nb, 2, amax), dtype=bool)
        if masks is None:
            feas[:, 0, :a1] = True
            feas[:, 1, :a2] = True
        else:
            feas[:, 0, :a1] = masks[0]
            feas[:, 1, :a2] = masks[1]
        pay = np.zeros((nb, 2, amax, amax))
        pay[:, 0, :a1, :a2] = a_mat
        pay[:, 1, :a2, :a1] = np.swapaxes(b_mat, -1, -2)
        # zero every profile that uses an infeasible action (see _LogitSystem)
        self.pay = np.where(feas[:, :, :, None] & feas[:, ::-1, None, :], pay, 0.0)
        self.feas = feas
        self.neg = np.where(feas, 0.0, -np.inf)
        self.eye = np.eye(self.dim)

    def subset(self, idx: np.ndarray) -> _Bimatrix:
        sub = object.__new__(_Bimatrix)
        sub.__dict__.update(self.__dict__)
        sub.pay = self.pay[idx]
        sub.feas = self.feas[idx]
        sub.neg = self.neg[idx]
        return sub

    def start(self) -> np.ndarray:
        nb = self.feas.shape[0]
        cnt = self.feas.sum(axis=-1, keepdims=True)
        x = np.zeros((nb, self.dim + 1))
        x[:, : self.dim] = np.where(self.feas, -np.log(cnt), 0.0).reshape(nb, self.dim)
        return x

    def _sigma(self, x: np.ndarray) -> np.ndarray:
        y = x[:, : self.dim].reshape(-1, 2, self.amax) + self.neg
        e = np.exp(y - y.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def strategies(self, x: np.ndarray) -> list[np.ndarray]:
        s = self._sigma(x)
        return [s[:, 0, : self.actions[0]], s[:, 1, : self.actions[1]]]

    def evaluate(
        self, x: np.ndarray, need_jac: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """``H`` (b, N); ``[DH; 0]`` (b, N+1, N+1) or None; max |sigma - p| (b,)."""
        nb = x.shape[0]
        dim, amax = self.dim, self.amax
        y = x[:, :dim].reshape(nb, 2, amax)
        lam = x[:, dim, None, None]
        s = self._sigma(x)
        so = s[:, ::-1]
        u = np.matmul(self.pay, so[:, :, :, None])[:, :, :, 0]
        z = lam * u + self.neg
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        tot = e.sum(axis=-1, keepdims=True)
        p = e / tot
        big_h = np.where(self.feas, y - (z - np.log(tot)), 0.0).reshape(nb, dim)
        resid = np.abs(s - p).max(axis=(1, 2))
        if not need_jac:
            return big_h, None, resid
        mat = np.zeros((nb, dim + 1, dim + 1))
        mat[:, :dim, :dim] = self.eye
        # dH/dlam = -(u - p.u)
        dl = np.matmul(p[:, :, None, :], u[:, :, :, None])[:, :, :, 0] - u
        mat[:, :dim, dim] = np.where(self.feas, dl, 0.0).reshape(nb, dim)
        # dH_i/dy_k = -lam (I - 1 p_i^T) (M_ik - u_i 1^T) diag(s_k)
        c = (self.pay - u[:, :, :, None]) * so[:, :, None, :]
        c = (np.matmul(p[:, :, None, :], c) - c) * lam[:, :, :, None]
        c = np.where(self.feas[:, :, :, None], c, 0.0)
        mat[:, :amax, amax:dim] = c[:, 0]
        mat[:, amax:dim, :amax] = c[:, 1]
        return big_h, mat, resid

    def evaluate_one(self, x: np.ndarray, mat: np.ndarray) -> tuple[np.ndarray, float]:
        """:meth:`evaluate` for a system of one game, without the batch axis: ``H`` (N,)
        and max |sigma - p|; writes ``DH`` into ``mat[:N]`` (whose diagonal blocks are
        the identity already). The same formulas on arrays of a
        few elements: fewer, cheaper numpy calls for :func:`_trace_one` (reductions call
        the ufunc directly, skipping ``ndarray.max``'s Python wrapper)."""
        dim, amax = self.dim, self.amax
        pay, feas, neg = self.pay[0], self.feas[0], self.neg[0]
        y = x[:dim].reshape(2, amax)
        lam = x[dim]
        yy = y + neg
        s = np.exp(yy - _max(yy, axis=1, keepdims=True))
        s /= s.sum(axis=1, keepdims=True)
        so = s[::-1]
        u = np.matmul(pay, so[:, :, None])[:, :, 0]
        z = lam * u + neg
        z -= _max(z, axis=1, keepdims=True)
        e = np.exp(z)
        tot = e.sum(axis=1, keepdims=True)
        p = e / tot
        big_h = np.where(feas, y - (z - np.log(tot)), 0.0).reshape(dim)
        resid = float(_max(np.abs(s - p), axis=None))
        dl = np.matmul(p[:, None, :], u[:, :, None])[:, :, 0] - u
        mat[:dim, dim] = np.where(feas, dl, 0.0).reshape(dim)
        c = (pay - u[:, :, None]) * so[:, None, :]
        c = (np.matmul(p[:, None, :], c) - c) * lam
        c = np.where(feas[:, :, None], c, 0.0)
        mat[:amax, amax:dim] = c[0]
        mat[amax:dim, :amax] = c[1]
        return big_h, resid


def _solve_batched(mat: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched ``solve``; a singular system yields NaN instead of failing the batch."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(mat, rhs)
        except np.linalg.LinAlgError:
            out = np.full(rhs.shape, np.nan)
            for b in range(mat.shape[0]):
                try:
                    out[b] = np.linalg.solve(mat[b], rhs[b])
                except np.linalg.LinAlgError:
                    continue
            return out


# Continuation constants, tuned against gambit on random 2..6-action games including
# games whose principal branch bends back in lambda (see tests/test_games.py).
_H0 = 0.3  # first arclength step
_H_MIN = 1e-10  # a game whose step falls below this is declared stuck
_H_FLIP = 1e-4  # steps this short may cross a bifurcation point (orientation flip)
_H_FLOOR = 1e-2  # step length below which the relative distance test stops tightening
_CORR_TOL = 0.05  # a step is accepted once the Newton correction is this short (applied)
_TIGHT_TOL = 1e-6  # tolerance for anchor points (start / re-polished points)
_EXACT_TOL = 1e-4  # a point whose last Newton step was this short needs no polishing
_SHRINK = 0.5  # step length factor after a rejected step
_MAX_CORR = 4  # corrector iterations per step before the step is rejected
_MAX_CONTRACT = 0.5  # reject when a Newton step is not at least this much shorter
_MAX_DIST = 0.2  # accept a step only if the total correction is at most this long ...
_MAX_RATIO = 0.3  # ... and at most this fraction of the step ...
_MIN_COS = 0.9  # ... and consecutive tangents are at most ~25 degrees apart.
_AIM_DIST = 0.03  # step lengths are adapted towards these values for the first correction
_AIM_RATIO = 0.1
_GROW_MIN, _GROW_MAX = 0.3, 2.0
_MAX_FINAL = 12  # Newton iterations at the target lambda before backing up
_MAX_RETRIES = 4


def logit_qre(
    payoffs: Sequence[ArrayLike],
    lam: float | ArrayLike,
    *,
    masks: Sequence[ArrayLike] | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> QREResult:
    """Logit QRE on the principal branch (McKelvey & Palfrey 1995), for a batch of games.

    The QRE at precision ``lam`` solves ``sigma_i = logit_response(u_i(sigma_{-i}), lam)``
    for every player i.  At ``lam = 0`` the unique solution is uniform over the feasible
    actions; the principal branch is the curve of solutions connected to it.  As in
    Turocy (2005) the branch is traced in (log-probabilities, lambda) space by
    pseudo-arclength continuation (tangent predictor, Newton corrector; Allgower & Georg
    2003).  Arclength rather than lambda parametrisation follows the branch through
    turning points, where it bends back in lambda, so the returned point is the first
    crossing of ``lam`` along the branch (what gambit's ``logit_solve_lambda`` returns).
    The crossing is refined by Newton's method at fixed ``lam`` until
    ``max|sigma - logit_response(expected_payoffs(sigma), lam)| < tol``.

    Why not a damped fixed-point iteration: near mixed equilibria at large ``lam`` its
    contraction factor tends to 1 (or it cycles), so it needs thousands of sweeps;
    Newton converges quadratically.  All games in the batch advance together with their
    own step lengths (no Python loop over games), so a game's result does not depend on
    the rest of the batch; a batch of one two-player game is traced by ``_trace_one``,
    the same algorithm without index arrays (tested step for step against the batch).
    In degenerate games (exact ties or symmetries) the branch can pass through a
    singular bifurcation point; the tracer then crosses it with tiny steps, or, if it
    gets stuck, that game is finished by natural continuation in lambda (``_natural``),
    which still returns a QRE on a branch reached continuously.
    ``lam``: scalar, or an array of shape ``batch`` (one precision per game).
    ``iterations`` counts vectorised Newton evaluations (``max_iter`` caps them; if it
    is hit, ``converged`` is False and the current iterates are returned).
    Deterministic; raises ``ValueError`` on bad shapes, ``lam < 0`` or a player with no
    feasible action.
    """
    pays = _as_payoffs(payoffs)
    batch, actions = _split_shape(pays)
    mks = _as_masks(masks, batch, actions)
    lam_arr = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam_arr)) or np.any(lam_arr < 0):
        raise ValueError(f"lam must be finite and >= 0, got {lam!r}")
    try:
        lam_arr = np.broadcast_to(lam_arr, batch)
    except ValueError as err:
        raise ValueError(f"lam must be a scalar or broadcastable to batch shape {batch}") from err
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")

    n = len(pays)
    nb = math.prod(batch)
    if nb == 0:
        empty = [np.zeros((*batch, a)) for a in actions]
        return QREResult(strategies=empty, iterations=0, converged=True, max_residual=0.0)
    flat = [p.reshape((nb, *actions)) for p in pays]
    flat_masks = (
        None if mks is None else [m.reshape(nb, a) for m, a in zip(mks, actions, strict=True)]
    )
    if n == 2:
        quick = _separable_2p(flat, flat_masks, lam_arr.reshape(nb))
        if quick is not None:
            return QREResult(
                strategies=[q.reshape((*batch, a)) for q, a in zip(quick, actions, strict=True)],
                iterations=0,
                converged=True,
                max_residual=0.0,
            )
    system = _Bimatrix(flat, flat_masks) if n == 2 else _LogitSystem(flat, flat_masks)
    target = np.array(lam_arr, dtype=float).reshape(nb)
    if isinstance(system, _Bimatrix) and nb == 1:  # the model's one game a month
        point, iterations, ok = _trace_one(system, float(target[0]), tol, max_iter)
    else:
        point, iterations, ok = _trace(system, target, tol, max_iter)
    if not ok.all() and iterations < max_iter:
        bad = np.flatnonzero(~ok)
        fixed, more, ok_bad = _natural(
            system.subset(bad), point[bad], target[bad], tol, max_iter - iterations
        )
        point[bad] = fixed
        ok[bad] = ok_bad
        iterations += more
    point[:, system.dim] = target
    _, _, resid = system.evaluate(point, need_jac=False)
    sig = system.strategies(point)
    max_resid = float(np.max(np.where(np.isnan(resid), np.inf, resid)))
    return QREResult(
        strategies=[s.reshape((*batch, a)) for s, a in zip(sig, actions, strict=True)],
        iterations=iterations,
        converged=bool(ok.all() and max_resid < tol),
        max_residual=max_resid,
    )


SEPARABLE_RTOL = 1e-9
"""Relative tolerance under which a player's payoff differences count as independent of
the opponent's action."""


def _separable_2p(
    flat: list[np.ndarray], masks: list[np.ndarray] | None, lam: np.ndarray
) -> list[np.ndarray] | None:
    """Closed-form QRE when, in every game of the batch, one player's payoff differences
    between its own actions do not depend on the opponent's action.

    Such a player's logit response is the same against any opponent strategy, so it is
    the QRE strategy; the opponent's QRE strategy is its logit response to it. Returns
    ``None`` unless every game has such a player (the homotopy handles the rest).
    """
    a_mat, b_mat = flat
    if masks is not None:
        row_ok, col_ok = masks
        a_mat = np.where(row_ok[:, :, None] & col_ok[:, None, :], a_mat, 0.0)
        b_mat = np.where(row_ok[:, :, None] & col_ok[:, None, :], b_mat, 0.0)
    else:
        row_ok = col_ok = None
    scale = 1.0 + np.maximum(np.abs(a_mat).max(axis=(1, 2)), np.abs(b_mat).max(axis=(1, 2)))
    da = a_mat - a_mat[:, :1, :]
    db = b_mat - b_mat[:, :, :1]
    if col_ok is not None:  # judge only the opponent's feasible actions
        da = np.where(col_ok[:, None, :], da, da[:, :, :1])
        db = np.where(row_ok[:, :, None], db, db[:, :1, :])
    rows_free = np.ptp(da, axis=2).max(axis=1) <= SEPARABLE_RTOL * scale
    cols_free = np.ptp(db, axis=1).max(axis=1) <= SEPARABLE_RTOL * scale
    if not np.all(rows_free | cols_free):
        return None
    nb = a_mat.shape[0]
    # reference opponent action: the first feasible one
    ref_col = np.zeros(nb, dtype=int) if col_ok is None else np.argmax(col_ok, axis=1)
    ref_row = np.zeros(nb, dtype=int) if row_ok is None else np.argmax(row_ok, axis=1)
    idx = np.arange(nb)
    if rows_free.all():  # (one game: only the pair it needs)
        rows = _logit(a_mat[idx, :, ref_col], lam, row_ok)
        return [rows, _logit(np.einsum("bij,bi->bj", b_mat, rows), lam, col_ok)]
    sig_col_free = _logit(b_mat[idx, ref_row, :], lam, col_ok)
    sig_row_reply = _logit(np.einsum("bij,bj->bi", a_mat, sig_col_free), lam, row_ok)
    if not rows_free.any():
        return [sig_row_reply, sig_col_free]
    sig_row_free = _logit(a_mat[idx, :, ref_col], lam, row_ok)
    sig_col_reply = _logit(np.einsum("bij,bi->bj", b_mat, sig_row_free), lam, col_ok)
    rows = np.where(rows_free[:, None], sig_row_free, sig_row_reply)
    cols = np.where(rows_free[:, None], sig_col_reply, sig_col_free)
    return [rows, cols]


def _trace(
    system: _LogitSystem | _Bimatrix, target: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int, np.ndarray]:
    """Vectorised pseudo-arclength continuation from lambda = 0 to ``target``.

    Every game carries its own state (phase, step length, corrector count).  One loop
    iteration evaluates and linearises all unfinished games at once and solves one
    bordered system per game, ``[DH; c^T] [delta, tau] = [[-H, 0], [0, 1]]``, giving
    both the Newton correction ``delta`` (restricted to ``c^T dx = 0``) and the tangent
    ``tau``.  While tracking, ``c`` is the current tangent (pseudo-arclength); in the
    final phase ``c = e_lambda`` (Newton at fixed lambda).  Steps use a second-order
    predictor and are accepted after a single Newton correction when it is short; a
    loosely corrected point is re-polished before retrying a rejected step.  Returns the
    final points ``(nb, N+1)``, the number of iterations and per-game success flags.
    """
    nb = target.shape[0]
    dim = system.dim
    e_lam = np.zeros(dim + 1)
    e_lam[dim] = 1.0

    x = system.start()  # log of the uniform distribution at lambda = 0
    out = x.copy()
    ok = np.zeros(nb, dtype=bool)
    rhs_buf = np.zeros((nb, dim + 1, 2))
    rhs_buf[:, dim, 1] = 1.0

    ids = np.arange(nb)
    sysa = system
    tgt = target.copy()
    t = np.tile(e_lam, (nb, 1))  # tangent at x; initial orientation: lambda increasing
    c = t.copy()  # bordering row of the linear systems
    xp, tp = x.copy(), t.copy()  # previous step's point and tangent (predictor history)
    z = x.copy()  # current iterate (where the next evaluation happens)
    zp = x.copy()  # predicted point of the current step
    h = np.full(nb, _H0)  # step length
    d0 = np.zeros(nb)  # length of the first correction of the current step
    dprev = np.full(nb, np.inf)  # length of the previous correction
    k = np.zeros(nb, dtype=np.int64)  # Newton iterations in the current step
    retries = np.zeros(nb, dtype=np.int64)
    # ``anchor``: x is to be converged tightly, without geometric tests (the start
    # point, or re-polishing a loosely corrected point after a rejected step)
    anchor = np.ones(nb, dtype=bool)
    orient = np.ones(nb)  # sign of det [DH; t^T] along the branch
    exact = np.ones(nb, dtype=bool)  # x's last Newton step was <= _EXACT_TOL
    fin = tgt <= 0.0  # final phase: Newton at lambda = target
    c[fin] = e_lam

    def predict(idx: np.ndarray) -> None:
        """Start a new step from x[idx] (quadratic extrapolation along the curve)."""
        xi, ti = x[idx], t[idx]
        tl = ti[:, dim]
        # do not overshoot the target lambda by much
        cap = np.where(tl > 1e-3, 1.5 * (tgt[idx] - xi[:, dim]) / tl, np.inf)
        hi = np.minimum(h[idx], np.maximum(cap, 1e-3))
        dx = xi - xp[idx]
        hp = np.sqrt(np.einsum("bi,bi->b", dx, dx))
        coef = np.where(hp > 0.2 * hi, 0.5 * hi * hi / hp, 0.0)
        pred = xi + hi[:, None] * ti + coef[:, None] * (ti - tp[idx])
        h[idx] = hi
        z[idx] = pred
        zp[idx] = pred
        c[idx] = ti
        k[idx] = 0
        dprev[idx] = np.inf

    iterations = 0
    # NaN / inf are detected explicitly (``finite``), so silence their warnings
    with np.errstate(all="ignore"):
        while ids.size and iterations < max_iter:
            iterations += 1
            m = ids.size
            big_h, mat, res = sysa.evaluate(z)
            if mat is None:  # pragma: no cover - evaluate always returns it here
                raise RuntimeError("internal error: missing Jacobian")
            mat[:, dim, :] = c
            rhs = rhs_buf[:m]
            rhs[:, :dim, 0] = -big_h
            # orientation: sign det [DH; t^T] is constant along a regular, consistently
            # oriented curve (+1 at the start); a flip means the corrector landed on
            # another part of the branch, traversed backwards (Allgower & Georg 2003),
            # unless the step is tiny: then a bifurcation point (only in degenerate
            # games) was crossed and we keep going forward with the new sign.
            det_sign = np.linalg.slogdet(mat)[0]
            sol = _solve_batched(mat, rhs)
            sq = np.sqrt(np.einsum("bik,bik->bk", sol, sol))
            finite = np.isfinite(sq).all(axis=1) & (sq[:, 1] > 0)
            dn = np.where(finite, sq[:, 0], np.inf)
            z_new = z + sol[:, :, 0]
            fi = np.flatnonzero(fin)
            ti = np.flatnonzero(~fin)
            done_idx = fi[:0]
            fail_idx = fi[:0]

            # ---- final phase: Newton at fixed lambda --------------------------------
            if fi.size:
                conv_f = res[fi] < tol
                done_idx = fi[conv_f]
                rest = fi[~conv_f]
                if rest.size:
                    bad = ~finite[rest] | (k[rest] >= _MAX_FINAL)
                    step = rest[~bad]
                    z[step] = z_new[step]
                    z[step, dim] = tgt[step]
                    k[step] += 1
                    back = rest[bad]
                    if back.size:
                        # Newton failed at the crossing (e.g. next to a turning point):
                        # go back to the previous point and track again with short steps
                        retries[back] += 1
                        fail_idx = back[retries[back] > _MAX_RETRIES]
                        redo = back[retries[back] <= _MAX_RETRIES]
                        dx = x[redo] - xp[redo]
                        span = np.sqrt(np.einsum("bi,bi->b", dx, dx))
                        x[redo] = xp[redo]
                        t[redo] = tp[redo]
                        h[redo] = np.maximum(span * 0.25 ** retries[redo], 4 * _H_MIN)
                        exact[redo] = False
                        anchor[redo] = True
                        fin[redo] = False
                        z[redo] = x[redo]
                        zp[redo] = x[redo]
                        c[redo] = t[redo]
                        k[redo] = 0
                        dprev[redo] = np.inf

            # ---- tracking: accept / reject / keep correcting ------------------------
            if ti.size:
                whole = ti.size == m
                s_t = sol if whole else sol[ti]
                zn = z_new if whole else z_new[ti]
                tau = s_t[:, :, 1] / sq[ti, 1:]
                off = zn - zp[ti]
                cum = np.sqrt(np.einsum("bi,bi->b", off, off))
                cos = np.einsum("bi,bi->b", tau, t[ti])
                an = anchor[ti]
                kk = k[ti]
                dd = dn[ti]
                hh = h[ti]
                ok_t = finite[ti]
                d0_t = np.where(kk == 0, dd, d0[ti])
                d0[ti] = d0_t
                conv = dd <= np.where(an, _TIGHT_TOL, _CORR_TOL)
                geom = an | (
                    (cum <= _MAX_DIST)
                    & (cum <= _MAX_RATIO * np.maximum(hh, _H_FLOOR))
                    & (cos >= _MIN_COS)
                )
                flip = det_sign[ti] != orient[ti]
                valid = (~flip | (hh <= _H_FLIP)) & (zn[:, dim] >= 0.0)
                acc_m = ok_t & conv & geom & valid
                failing = (
                    ~ok_t
                    | (kk >= _MAX_CORR)
                    | ((kk >= 1) & (dd > _MAX_CONTRACT * dprev[ti]))
                    | (~an & (conv | (cum > _MAX_DIST)))
                    | (conv & ~valid)
                )
                rej_m = ~acc_m & failing
                cor_m = ~acc_m & ~failing

                cs = ti[cor_m]
                if cs.size:
                    z[cs] = z_new[cs]
                    k[cs] += 1
                    dprev[cs] = dn[cs]

                acc = ti[acc_m]
                if acc.size:
                    an_a = an[acc_m]
                    hist = acc[~an_a]  # re-polished anchors keep the predictor history
                    xp[hist] = x[hist]
                    tp[hist] = t[hist]
                    x[acc] = zn[acc_m]
                    t[acc] = tau[acc_m]
                    d0_a = d0_t[acc_m]
                    h_a = hh[acc_m]
                    # predictor error ~ h^3: aim at _AIM_DIST and _AIM_RATIO * h
                    grow = np.minimum(
                        (_AIM_DIST / d0_a) ** (1 / 3), np.sqrt(_AIM_RATIO * h_a / d0_a)
                    )
                    grow = np.where(np.isnan(grow), _GROW_MAX, grow)
                    grow = np.minimum(np.maximum(grow, _GROW_MIN), _GROW_MAX)
                    grow = np.where(kk[acc_m] >= 2, np.minimum(grow, 1.0), grow)
                    h[acc] = np.where(an_a, h_a, h_a * grow)
                    exact[acc] = dd[acc_m] <= _EXACT_TOL
                    orient[acc] = det_sign[acc]
                    anchor[acc] = False
                    crossed = x[acc, dim] >= tgt[acc]
                    cr = acc[crossed]
                    if cr.size:
                        lo, hi = xp[cr], x[cr]
                        w = (tgt[cr] - lo[:, dim]) / (hi[:, dim] - lo[:, dim])
                        w = np.where(np.isfinite(w), np.minimum(np.maximum(w, 0.0), 1.0), 1.0)
                        zc = lo + w[:, None] * (hi - lo)
                        zc[:, dim] = tgt[cr]
                        z[cr] = zc
                        c[cr] = e_lam
                        k[cr] = 0
                        dprev[cr] = np.inf
                        fin[cr] = True
                    nxt = acc[~crossed]
                    if nxt.size:
                        predict(nxt)

                rej = ti[rej_m]
                if rej.size:
                    h[rej] *= _SHRINK
                    dead = an[rej_m] | (h[rej] < _H_MIN)
                    fail_idx = np.concatenate([fail_idx, rej[dead]])
                    live = rej[~dead]
                    pol = live[~exact[live]]
                    if pol.size:  # polish x before trying a shorter step
                        anchor[pol] = True
                        z[pol] = x[pol]
                        zp[pol] = x[pol]
                        c[pol] = t[pol]
                        k[pol] = 0
                        dprev[pol] = np.inf
                    again = live[exact[live]]
                    if again.size:
                        predict(again)

            # ---- retire finished games -----------------------------------------------
            if done_idx.size or fail_idx.size:
                out[ids[done_idx]] = z[done_idx]
                ok[ids[done_idx]] = True
                out[ids[fail_idx]] = np.where(fin[fail_idx, None], z[fail_idx], x[fail_idx])
                keep = np.ones(m, dtype=bool)
                keep[done_idx] = False
                keep[fail_idx] = False
                kept = np.flatnonzero(keep)
                ids, tgt, x, t, c, xp, tp, z, zp = (
                    a[kept] for a in (ids, tgt, x, t, c, xp, tp, z, zp)
                )
                h, d0, dprev, k, retries = (a[kept] for a in (h, d0, dprev, k, retries))
                anchor, exact, fin, orient = (a[kept] for a in (anchor, exact, fin, orient))
                sysa = sysa.subset(kept)

    if ids.size:  # out of iterations
        out[ids] = np.where(fin[:, None], z, x)
    return out, iterations, ok


def _solve_signed(mat: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, float]:
    """``solve(mat, rhs)`` and the sign of ``det(mat)`` from one LU factorisation
    (LAPACK ``dgesv``); a singular ``mat`` gives NaN and sign 0 (as ``_solve_batched``
    and ``slogdet`` do)."""
    lu, piv, sol, info = _dgesv(mat, rhs)
    if info > 0:
        return np.full(rhs.shape, np.nan), 0.0
    sign = float(np.multiply.reduce(np.sign(lu.diagonal())))
    if np.count_nonzero(piv != np.arange(piv.size)) % 2:  # 0-based row swaps
        sign = -sign
    return sol, sign


def _trace_one(
    system: _Bimatrix, target: float, tol: float, max_iter: int
) -> tuple[np.ndarray, int, np.ndarray]:
    """:func:`_trace` for one two-player game, step for step: the same predictor,
    corrector, acceptance tests and step-length rules with the game's state held in
    Python scalars and one preallocated bordered matrix. A batched trace of one game
    pays numpy's per-call overhead on index arrays in every one of its few dozen
    iterations; this one does not. Same return values as :func:`_trace` (batch of one).
    """
    dim = system.dim
    amax = system.amax
    size = dim + 1
    e_lam = np.zeros(size)
    e_lam[dim] = 1.0
    mat = np.zeros((size, size))
    mat[:amax, :amax] = np.eye(amax)
    mat[amax:dim, amax:dim] = np.eye(amax)
    rhs = np.zeros((size, 2))
    rhs[dim, 1] = 1.0

    x = system.start()[0]
    t = e_lam.copy()
    c = t
    xp, tp = x, t
    z = x.copy()
    zp = x
    h = _H0
    d0 = 0.0
    dprev = math.inf
    k = 0
    retries = 0
    anchor = True
    orient = 1.0
    exact = True
    fin = target <= 0.0
    if fin:
        c = e_lam
    ok = False

    def predict() -> None:
        nonlocal h, z, zp, c, k, dprev
        tl = float(t[dim])
        cap = 1.5 * (target - float(x[dim])) / tl if tl > 1e-3 else math.inf
        hi = min(h, max(cap, 1e-3))
        dx = x - xp
        hp = math.sqrt(float(np.dot(dx, dx)))
        coef = 0.5 * hi * hi / hp if hp > 0.2 * hi else 0.0
        z = x + hi * t + coef * (t - tp)
        zp = z
        h = hi
        c = t
        k = 0
        dprev = math.inf

    iterations = 0
    with np.errstate(all="ignore"):
        while iterations < max_iter:
            iterations += 1
            big_h, res = system.evaluate_one(z, mat)
            mat[dim] = c
            rhs[:dim, 0] = -big_h
            sol, det_sign = _solve_signed(mat, rhs)
            s0 = math.sqrt(float(np.dot(sol[:, 0], sol[:, 0])))
            s1 = math.sqrt(float(np.dot(sol[:, 1], sol[:, 1])))
            finite = math.isfinite(s0) and math.isfinite(s1) and s1 > 0
            dn = s0 if finite else math.inf
            z_new = z + sol[:, 0]

            if fin:  # ---- final phase: Newton at fixed lambda
                if res < tol:
                    ok = True
                    break
                if finite and k < _MAX_FINAL:
                    z = z_new
                    z[dim] = target
                    k += 1
                    continue
                # Newton failed at the crossing: back to the previous point, short steps
                retries += 1
                if retries > _MAX_RETRIES:
                    break
                dx = x - xp
                span = math.sqrt(float(np.dot(dx, dx)))
                x, t = xp, tp
                h = max(span * 0.25**retries, 4 * _H_MIN)
                exact = False
                anchor = True
                fin = False
                z = x.copy()
                zp = x
                c = t
                k = 0
                dprev = math.inf
                continue

            # ---- tracking: accept / reject / keep correcting
            tau = sol[:, 1] / s1
            off = z_new - zp
            cum = math.sqrt(float(np.dot(off, off)))
            cos = float(np.dot(tau, t))
            if k == 0:
                d0 = dn
            conv = dn <= (_TIGHT_TOL if anchor else _CORR_TOL)
            geom = anchor or (
                cum <= _MAX_DIST and cum <= _MAX_RATIO * max(h, _H_FLOOR) and cos >= _MIN_COS
            )
            flip = det_sign != orient
            valid = (not flip or h <= _H_FLIP) and z_new[dim] >= 0.0
            if finite and conv and geom and valid:  # accept
                if not anchor:  # re-polished anchors keep the predictor history
                    xp, tp = x, t
                x, t = z_new, tau
                # predictor error ~ h^3: aim at _AIM_DIST and _AIM_RATIO * h
                grow = min(_ratio(_AIM_DIST, d0) ** (1 / 3), math.sqrt(_ratio(_AIM_RATIO * h, d0)))
                if math.isnan(grow):
                    grow = _GROW_MAX
                grow = min(max(grow, _GROW_MIN), _GROW_MAX)
                if k >= 2:
                    grow = min(grow, 1.0)
                if not anchor:
                    h *= grow
                exact = dn <= _EXACT_TOL
                orient = det_sign
                anchor = False
                if x[dim] >= target:  # crossed: interpolate, then Newton at the target
                    lo, hi = xp, x
                    w = (target - lo[dim]) / (hi[dim] - lo[dim])
                    w = min(max(w, 0.0), 1.0) if math.isfinite(w) else 1.0
                    z = lo + w * (hi - lo)
                    z[dim] = target
                    c = e_lam
                    k = 0
                    dprev = math.inf
                    fin = True
                else:
                    predict()
            elif (
                not finite
                or k >= _MAX_CORR
                or (k >= 1 and dn > _MAX_CONTRACT * dprev)
                or (not anchor and (conv or cum > _MAX_DIST))
                or (conv and not valid)
            ):  # reject
                h *= _SHRINK
                if anchor or h < _H_MIN:  # stuck
                    break
                if exact:
                    predict()
                else:  # polish x before trying a shorter step
                    anchor = True
                    z = x.copy()
                    zp = x
                    c = t
                    k = 0
                    dprev = math.inf
            else:  # keep correcting
                z = z_new
                k += 1
                dprev = dn

    point = z if fin else x  # a failed or unfinished game: its last good point
    return point[None, :].copy(), iterations, np.array([ok])


def _ratio(num: float, den: float) -> float:
    """``num / den`` as numpy divides floats: inf for a zero ``den``, nan for 0 / 0."""
    if den == 0.0:
        return math.nan if num == 0.0 else math.copysign(math.inf, num)
    return num / den


def _natural(
    system: _LogitSystem | _Bimatrix,
    start: np.ndarray,
    target: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, np.ndarray]:
    """Fallback: natural-parameter continuation in lambda from ``start`` to ``target``.

    Used only for games where the arclength tracer gave up, which in practice means
    degenerate games (exact ties / symmetries) whose branch passes through a singular
    bifurcation point.  Each stage solves the equations at fixed lambda by Newton's
    method from a first-order (tangent) prediction and halves the lambda step on
    failure; stepping in lambda jumps over singular points.
    """
    nb = target.shape[0]
    dim = system.dim
    out = start.copy()
    ok = np.zeros(nb, dtype=bool)
    ids = np.arange(nb)
    sysa = system
    tgt = target.copy()
    x = start.copy()
    x[:, dim] = np.minimum(x[:, dim], tgt)
    z = x.copy()
    slope = np.zeros_like(x)  # d x / d lambda at x
    hl = np.maximum(0.05 * tgt, 1e-3)  # lambda step
    k = np.zeros(nb, dtype=np.int64)
    dprev = np.full(nb, np.inf)
    rhs_buf = np.zeros((nb, dim + 1, 2))
    rhs_buf[:, dim, 1] = 1.0
    iterations = 0
    with np.errstate(all="ignore"):
        while ids.size and iterations < max_iter:
            iterations += 1
            m = ids.size
            big_h, mat, res = sysa.evaluate(z)
            if mat is None:  # pragma: no cover - evaluate always returns it here
                raise RuntimeError("internal error: missing Jacobian")
            mat[:, dim, :] = 0.0
            mat[:, dim, dim] = 1.0
            rhs = rhs_buf[:m]
            rhs[:, :dim, 0] = -big_h
            sol = _solve_batched(mat, rhs)
            finite = np.isfinite(sol).all(axis=(1, 2))
            dn = np.where(finite, np.abs(sol[:, :, 0]).max(axis=1), np.inf)
            final = z[:, dim] >= tgt
            conv = res < np.where(final, tol, np.sqrt(tol))
            done = conv & final
            stage = conv & ~final  # converged at an intermediate lambda: move on
            fail = ~conv & (~finite | (k >= 8) | ((k >= 2) & (dn > 0.9 * dprev)))
            step = ~conv & ~fail

            z[step] += sol[step, :, 0]
            z[step, dim] = np.where(final[step], tgt[step], z[step, dim])
            k[step] += 1
            dprev[step] = dn[step]

            if stage.any():
                x[stage] = z[stage]
                slope[stage] = sol[stage, :, 1]
                hl[stage] *= 1.5
            hl[fail] *= 0.5
            new = stage | fail
            if new.any():
                lam_new = np.minimum(x[new, dim] + hl[new], tgt[new])
                z[new] = x[new] + (lam_new - x[new, dim])[:, None] * slope[new]
                z[new, dim] = lam_new
                k[new] = 0
                dprev[new] = np.inf

            dead = fail & (hl < 1e-9)
            finished = done | dead
            if finished.any():
                out[ids[finished]] = z[finished]
                ok[ids[done]] = True
                kept = np.flatnonzero(~finished)
                ids, tgt, x, z, slope, hl, k, dprev = (
                    a[kept] for a in (ids, tgt, x, z, slope, hl, k, dprev)
                )
                sysa = sysa.subset(kept)
    if ids.size:
        out[ids] = z
    return out, iterations, ok


# --------------------------------------------------------------------------------------
# Nash equilibria and diagnostics
# --------------------------------------------------------------------------------------
def pure_nash_equilibria(payoffs: Sequence[ArrayLike], tol: float = 1e-12) -> list[tuple[int, ...]]:
    """All pure-strategy Nash equilibria of a single game, any number of players.

    A profile is an equilibrium when every player's payoff is within ``tol`` of her
    best payoff against the others' actions (ties count as best responses).  Returned
    in lexicographic order of the profiles.
    """
    pays = _as_payoffs(payoffs)
    batch, _ = _split_shape(pays)
    if batch:
        raise ValueError(f"pure_nash_equilibria takes one game (no batch dims), got batch {batch}")
    ok = np.ones(pays[0].shape, dtype=bool)
    for i, p in enumerate(pays):
        ok &= p >= p.max(axis=i, keepdims=True) - tol
    return [tuple(int(v) for v in idx) for idx in np.argwhere(ok)]


def _indifference(mat: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Solve ``mat @ q = v 1``, ``sum q = 1`` for a square ``mat``; None if singular."""
    size = mat.shape[0]
    system = np.zeros((size + 1, size + 1))
    system[:size, :size] = mat
    system[:size, size] = -1.0
    system[size, :size] = 1.0
    rhs = np.zeros(size + 1)
    rhs[size] = 1.0
    try:
        sol = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(sol)):
        return None
    return sol[:size], float(sol[size])


def mixed_nash_2p(
    A: ArrayLike, B: ArrayLike, tol: float = 1e-9
) -> list[tuple[np.ndarray, np.ndarray]]:
    """All Nash equilibria of the bimatrix game (A, B) by support enumeration.

    For each support size k and each pair of k-subsets (I, J) (rows in lexicographic
    order, then columns), solve the indifference conditions and keep the profile if it
    is a probability vector on (I, J) and both players best respond (Nisan et al. 2007,
    Alg. 3.4).  Equal-size supports suffice for nondegenerate games; degenerate games may
    have equilibria (or continua) this misses.  The order of the output is deterministic.
    """
    a_mat = np.asarray(A, dtype=float)
    b_mat = np.asarray(B, dtype=float)
    if a_mat.ndim != 2 or a_mat.shape != b_mat.shape or 0 in a_mat.shape:
        raise ValueError(
            "A and B must be non-empty matrices of the same shape, "
            f"got {a_mat.shape} and {b_mat.shape}"
        )
    if not (np.all(np.isfinite(a_mat)) and np.all(np.isfinite(b_mat))):
        raise ValueError("A and B must be finite")
    m, n = a_mat.shape
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for size in range(1, min(m, n) + 1):
        for rows in itertools.combinations(range(m), size):
            ri = np.asarray(rows)
            for cols in itertools.combinations(range(n), size):
                ci = np.asarray(cols)
                col_sol = _indifference(a_mat[np.ix_(ri, ci)])
                if col_sol is None:
                    continue
                row_sol = _indifference(b_mat[np.ix_(ri, ci)].T)
                if row_sol is None:
                    continue
                q, v = col_sol
                p, w = row_sol
                if np.any(p < -tol) or np.any(q < -tol):
                    continue
                x = np.zeros(m)
                y = np.zeros(n)
                x[ri] = np.clip(p, 0.0, None)
                y[ci] = np.clip(q, 0.0, None)
                x /= x.sum()
                y /= y.sum()
                scale = tol * max(1.0, float(np.abs(a_mat).max()), float(np.abs(b_mat).max()))
                if np.max(a_mat @ y) > v + scale or np.max(x @ b_mat) > w + scale:
                    continue
                if any(
                    np.allclose(x, fx, atol=tol, rtol=0) and np.allclose(y, fy, atol=tol, rtol=0)
                    for fx, fy in found
                ):
                    continue
                found.append((x, y))
    return found


def nash_regret(payoffs: Sequence[ArrayLike], strategies: Sequence[ArrayLike]) -> float:
    """Largest gain any player can get by deviating to a pure best response.

    ``max_i (max_j u_i(j, s_{-i}) - u_i(s))``, maximised over the batch as well; 0 exactly
    at a Nash equilibrium, and a profile with regret <= eps is an eps-Nash equilibrium.
    """
    pays = _as_payoffs(payoffs)
    _, actions = _split_shape(pays)
    strats = _as_strategies(strategies, actions)
    us = expected_payoffs(pays, strats)
    regret = 0.0
    for u, s in zip(us, strats, strict=True):
        gap = u.max(axis=-1) - np.sum(u * s, axis=-1)
        regret = max(regret, float(np.max(gap)))
    return regret


def is_nash(
    payoffs: Sequence[ArrayLike], strategies: Sequence[ArrayLike], tol: float = 1e-9
) -> bool:
    """True if ``strategies`` are probability vectors and ``nash_regret <= tol``."""
    pays = _as_payoffs(payoffs)
    _, actions = _split_shape(pays)
    strats = _as_strategies(strategies, actions)
    for s in strats:
        if np.any(s < -tol) or np.any(np.abs(s.sum(axis=-1) - 1.0) > tol):
            return False
    return nash_regret(pays, strats) <= tol
