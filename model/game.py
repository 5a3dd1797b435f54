"""The month's game, composed from the actors and a move order declared as data.

Nothing here names an actor. Each actor (``agents/``) declares its moves, the reduced
state variables it owns, and four vectorised rules: which moves are feasible, what a move
does to the state, which quantities it signals to the others (Washington's pressure,
Seoul's defiance...) and its utility by payoff component. This module composes them into
the month's extensive-form game: for a batch of states and every profile of moves it
builds the array of outcomes (``build``), sums utilities (``utilities``) and solves the
month by backward induction over the stages of a ``MoveOrder`` (``solve``): a logit
quantal response for a stage with one mover, a logit QRE (``model.games.logit_qre``) for
a stage of simultaneous movers (McKelvey & Palfrey 1995, 1998 for the agent form).

Array axes: ``(B, A_1, ..., A_n)`` = batch of states, then one axis per mover in move
order; utilities add a player axis (actors in declaration order) and, for explanations,
a component axis.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from model import games, kernels
from model.calendar import MonthCalendar


class Actor(Protocol):
    """What the game needs of an actor class (``agents.government.Government``)."""

    actor: str
    moves: tuple[str, ...]
    state_vars: Mapping[str, int]
    components: tuple[str, ...]

    @classmethod
    def feasible(cls, g: Profiles, move: np.ndarray) -> np.ndarray | bool: ...

    @classmethod
    def transition(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]: ...

    @classmethod
    def signals(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]: ...

    @classmethod
    def derived(cls, g: Profiles, p: Any) -> dict[str, np.ndarray]: ...

    @classmethod
    def settle(cls, g: Profiles) -> dict[str, np.ndarray]: ...

    @classmethod
    def at_horizon(cls, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class MoveOrder:
    """Who moves when within a month: stages in order; the actors of one stage move
    simultaneously, each later stage sees every earlier move."""

    stages: tuple[tuple[str, ...], ...]
    movers: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "movers", tuple(a for stage in self.stages for a in stage))


@dataclass(frozen=True)
class Cast:
    """The strategic actors of a scenario and their move order.

    ``actors`` fixes the player axis (and the order decisions are recorded in);
    ``order`` the profile axes. State variables are those the actors declare.
    """

    actors: tuple[Any, ...]
    order: MoveOrder
    names: tuple[str, ...] = field(init=False, compare=False)
    """Actor names, in player order."""
    components: tuple[str, ...] = field(init=False, compare=False)
    """Payoff components of every actor, first-declared first."""
    state_vars: dict[str, int] = field(init=False, compare=False)
    """Reduced state variables and their number of values."""

    def __post_init__(self) -> None:
        names = tuple(a.actor for a in self.actors)
        if sorted(names) != sorted(self.order.movers):
            raise ValueError(
                f"move order {self.order.movers} must name every actor once: {list(names)}"
            )
        comps: list[str] = []
        state: dict[str, int] = {}
        for a in self.actors:
            comps += [c for c in a.components if c not in comps]
            state.update(a.state_vars)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "components", tuple(comps))
        object.__setattr__(self, "state_vars", state)
        object.__setattr__(self, "_players", {n: i for i, n in enumerate(names)})

    def __hash__(self) -> int:
        return hash((self.actors, self.order))

    def actor(self, name: str) -> Any:
        """The actor class named ``name``."""
        return self.actors[self._players[name]]  # type: ignore[attr-defined]

    def player(self, name: str) -> int:
        """Position of ``name`` on the player axis."""
        return self._players[name]  # type: ignore[attr-defined]


# ---- profiles -------------------------------------------------------------------------
@dataclass(eq=False)
class Profiles:
    """Every profile of moves from a batch of states: the state each leads to, what the
    movers signal, and which moves are feasible. Independent of parameters and of the
    slow variables, so it is built once per (states, calendar, menus) and cached.

    ``state`` is the state as built so far (right after the moves once ``build`` is
    done), ``start`` the state at the start of the month, ``next`` the state at its end.
    Arrays broadcast to ``shape``.
    """

    cast: Cast
    cal: MonthCalendar
    shape: tuple[int, ...]
    menus: dict[str, np.ndarray]  # (B, A) codes per state (padded)
    valid: dict[str, np.ndarray]  # (B, A) False on padding
    codes: dict[str, np.ndarray]  # codes at each mover's axis
    start: dict[str, np.ndarray]
    state: dict[str, np.ndarray]
    lasting: bool = False
    ok: dict[str, np.ndarray] = field(default_factory=dict)
    sig: dict[str, np.ndarray] = field(default_factory=dict)
    next: dict[str, np.ndarray] = field(default_factory=dict)
    _flat: dict[tuple, Any] = field(default_factory=dict)

    chain: bool = False
    """No stage has two movers with more than one move each (set by ``build``)."""
    utility_key: Any = None
    """Profiles with the same key have the same utilities (same states, menus, lasting)."""

    def move(self, actor: str) -> np.ndarray:
        """Codes of ``actor``'s moves, at its axis."""
        return self.codes[actor]

    def signal(self, name: str, default: float = 0.0) -> Any:
        """A quantity some mover signals (e.g. ``pressure_seoul``), or ``default``."""
        return self.sig.get(name, default)

    @property
    def batch(self) -> int:
        """Number of states."""
        return self.shape[0]

    def axis(self, actor: str) -> int:
        """Profile axis of ``actor``'s moves."""
        return 1 + self.cast.order.movers.index(actor)

    def flat_ok(self, actor: str, shape: tuple[int, ...]) -> np.ndarray:
        """``actor``'s feasibility over the nodes ``shape`` (its axis last but for
        single-move axes after it), as a contiguous (nodes, moves) array; cached."""
        key = (actor, shape)
        if key not in self._flat:
            ok = np.broadcast_to(_squeeze_to(self.ok[actor], len(shape)), shape)
            a = self.shape[self.axis(actor)]
            self._flat[key] = np.ascontiguousarray(ok).reshape(-1, a)
        return self._flat[key]

    def flat_live(self, actor: str) -> np.ndarray | None:
        """Which of ``actor``'s nodes (the profiles of the state and the earlier movers'
        moves) a feasible path reaches: every earlier mover's move feasible there, as a
        contiguous bool (nodes,) array; None when all are; cached."""
        key = ("live", actor)
        if key not in self._flat:
            k = self.axis(actor)
            live = np.ones(self.shape[:k], dtype=bool)
            for m in self.cast.order.movers[: k - 1]:
                live &= np.broadcast_to(_squeeze_to(self.ok[m], k), self.shape[:k])
            flat = live.reshape(-1)
            self._flat[key] = None if flat.all() else flat
        return self._flat[key]

    def memo(self, key: Any, compute: Any) -> Any:
        """A value computed from these profiles alone (no parameters, no slow variables),
        computed once: the profiles are cached per scenario, so the value is shared by
        the months and runs that reach the same states."""
        if key not in self._flat:
            self._flat[key] = compute(self)
        return self._flat[key]

    def memo_params(self, key: Any, p: Any, compute: Any) -> Any:
        """``compute(self, p)``: a value computed from these profiles and the parameters
        ``p`` alone, computed once per parameter vector (by identity, then equality) and
        shared by every month and seed that reaches these profiles with equal
        parameters."""
        held = self._flat.get(key)
        if held is None or (held[0] is not p and held[0] != p):
            held = self._flat[key] = (p, compute(self, p))
        return held[1]

    def flat_penalty(self, actor: str, shape: tuple[int, ...]) -> np.ndarray | None:
        """``flat_ok`` as an additive penalty (0 feasible, -inf not), or None when every
        move is feasible at every node; cached."""
        key = ("penalty", actor, shape)
        if key not in self._flat:
            ok = self.flat_ok(actor, shape)
            self._flat[key] = None if ok.all() else np.where(ok, 0.0, -np.inf)
        return self._flat[key]


def _at_axis(arr: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """(B, A) codes reshaped to (B, 1, .., A, .., 1) with A at ``axis``."""
    shape = [1] * ndim
    shape[0], shape[axis] = arr.shape
    return arr.reshape(shape)


def build(
    cast: Cast,
    cal: MonthCalendar,
    start: Mapping[str, np.ndarray],
    menus: Mapping[str, np.ndarray],
    valid: Mapping[str, np.ndarray] | None = None,
    lasting: bool = False,
) -> Profiles:
    """Apply every mover's moves in move order to a batch of ``start`` states (each
    variable (B,)); ``menus`` gives each mover's move codes, (B, A) per state or (A,),
    and ``valid`` marks padding in per-state menus."""
    movers = cast.order.movers
    b = len(next(iter(start.values())))
    full, ok_menu = {}, {}
    for m in movers:
        codes = np.asarray(menus[m])
        full[m] = np.broadcast_to(codes, (b, codes.shape[-1])) if codes.ndim == 1 else codes
        mask = None if valid is None else valid.get(m)
        ok_menu[m] = np.ones(full[m].shape, dtype=bool) if mask is None else np.asarray(mask)
    shape = (b, *(full[m].shape[1] for m in movers))
    ndim = len(shape)
    st = {k: np.asarray(v).reshape((b,) + (1,) * (ndim - 1)) for k, v in start.items()}
    g = Profiles(
        cast=cast,
        cal=cal,
        shape=shape,
        menus=full,
        valid=ok_menu,
        codes={m: _at_axis(full[m], 1 + i, ndim) for i, m in enumerate(movers)},
        start=st,
        state=dict(st),
        lasting=lasting,
    )
    for i, m in enumerate(movers):
        actor = cast.actor(m)
        move = g.codes[m]
        ok = np.asarray(actor.feasible(g, move), dtype=bool)
        ok = ok.reshape((1,) * (ndim - ok.ndim) + ok.shape)
        # feasibility may depend on the state and earlier moves only
        ok = np.broadcast_to(ok, shape[: i + 2] + (1,) * (ndim - i - 2))
        g.ok[m] = ok & _at_axis(ok_menu[m], 1 + i, ndim)
        g.state.update(actor.transition(g, move))
        g.sig.update(actor.signals(g, move))
    g.next = dict(g.state)
    for actor in cast.actors:
        g.next.update(actor.settle(g))
    g.chain = all(sum(shape[g.axis(m)] > 1 for m in st) <= 1 for st in cast.order.stages)
    return g


def _with_derived(g: Profiles, p: Any) -> Profiles:
    """``g`` with the signals that depend on parameters (``derived``) added."""
    view = g
    for a in g.cast.actors:
        extra = a.derived(view, p)
        if extra:
            if view is g:
                view = copy.copy(g)
                view.sig = dict(g.sig)
            view.sig.update(extra)
    return view


def utilities(g: Profiles, p: Any, env: Any) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Every actor's utility for the month under every profile: totals (shape + (P,))
    and the components of each actor (dicts of arrays broadcastable to ``shape``).
    Signals that depend on parameters (``derived``) are added first."""
    view = g.memo_params("derived", p, _with_derived)
    comps = [a.utility(view, p, env) for a in g.cast.actors]
    order = g.cast.components
    total = np.zeros((*g.shape, len(comps)))
    for i, parts in enumerate(comps):
        acc: Any = 0.0
        for c in order:
            if c in parts:
                acc = acc + parts[c]
        total[..., i] = acc
    return total, comps


def components(g: Profiles, comps: list[dict[str, Any]]) -> np.ndarray:
    """The utilities by component, shape + (P, C)."""
    order = g.cast.components
    out = np.zeros((*g.shape, len(comps), len(order)))
    for i, parts in enumerate(comps):
        for k, c in enumerate(order):
            if c in parts:
                out[..., i, k] = parts[c]
    return out


# ---- solving the month ------------------------------------------------------------------
def expect(probs: np.ndarray, values: np.ndarray, trailing: int) -> np.ndarray:
    """Expectation over a mover's axis: probs (..., A) with values (..., A, *rest), where
    ``rest`` has ``trailing`` axes."""
    lead = values.shape[: values.ndim - trailing - 1]
    a = values.shape[values.ndim - trailing - 1]
    rest = values.shape[values.ndim - trailing :]
    probs = np.broadcast_to(probs, (*lead, a))
    out = probs[..., None, :] @ values.reshape(*lead, a, -1)
    return out.reshape(*lead, *rest)


@dataclass
class Policy:
    """The solved month: each mover's choice probabilities at its nodes, keyed by
    actor; ``probs[m]`` has the axes (B, A_1, ..., A_m) of the movers up to ``m`` (for a
    simultaneous stage, the axes before the stage and the mover's own)."""

    probs: dict[str, np.ndarray]
    value: np.ndarray  # (B, P) totals


def _squeeze_to(arr: np.ndarray, ndim: int) -> np.ndarray:
    """Drop trailing singleton axes down to ``ndim`` axes."""
    while arr.ndim > ndim:
        arr = arr[..., 0]
    return arr


def _chain(g: Profiles, totals: np.ndarray, lam: float) -> Policy:
    """``solve`` when no stage has two movers with a choice: a chain of logit responses,
    each one pass over the nodes of its mover (``model.kernels.logit_nodes``)."""
    cast, p = g.cast, totals.shape[-1]
    v = np.ascontiguousarray(totals)
    probs: dict[str, np.ndarray] = {}
    lam = float(lam)
    for m in reversed(cast.order.movers):
        k = g.axis(m)
        nodes = g.shape[: k + 1]
        if g.shape[k] == 1:
            probs[m] = np.ones(nodes)
            continue
        pr, v = kernels.logit_nodes(
            v.reshape(-1, g.shape[k], p),
            g.flat_penalty(m, nodes),
            cast.player(m),
            lam,
            g.flat_live(m),
        )
        probs[m] = pr.reshape(nodes)
    return Policy(probs=probs, value=v.reshape(g.shape[0], p))


def solve(g: Profiles, totals: np.ndarray, lam: float) -> Policy:
    """Backward induction within the month on total utilities (B, A_1..A_n, P): the last
    stage's logit response at every node, then each earlier stage's given the later
    ones; a stage of simultaneous movers plays a logit QRE at each node."""
    cast = g.cast
    if g.chain:
        return _chain(g, totals, lam)
    v = totals
    probs: dict[str, np.ndarray] = {}
    axis = len(cast.order.movers)
    for stage in reversed(cast.order.stages):
        first = axis - len(stage) + 1  # profile axis of the stage's first mover
        active = [m for m in stage if g.shape[g.axis(m)] > 1]
        if len(stage) == 1 or len(active) <= 1:
            # one mover that matters: a logit response; the others have a single move
            for m in stage:
                if m not in active:
                    probs[m] = np.ones(v.shape[: g.axis(m) + 1])
            lead = v.shape[:first]
            if active:
                m = active[0]
                a = g.shape[g.axis(m)]
                pr, ev = kernels.logit_nodes(
                    np.ascontiguousarray(v).reshape(-1, a, v.shape[-1]),
                    g.flat_penalty(m, v.shape[:-1]),
                    cast.player(m),
                    float(lam),
                )
                probs[m] = pr.reshape(v.shape[:-1])
                v = ev.reshape(*lead, v.shape[-1])
            else:
                v = v.reshape(*lead, v.shape[-1])
        else:
            lead = v.shape[:first]
            pays = [v[..., cast.player(m)] for m in stage]
            masks = [
                np.broadcast_to(
                    _squeeze_to(g.ok[m], v.ndim - 1).any(
                        axis=tuple(i for i in range(first, v.ndim - 1) if i != g.axis(m))
                    ),
                    (*lead, v.shape[g.axis(m)]),
                )
                for m in stage
            ]
            all_ok = all(bool(mk.all()) for mk in masks)
            res = games.logit_qre(pays, lam, masks=None if all_ok else masks)
            for m, s in zip(stage, res.strategies, strict=True):
                shape = [*lead] + [1] * len(stage)
                shape[g.axis(m)] = s.shape[-1]
                probs[m] = s.reshape(shape)
            # expectation over the stage's movers, last first
            for m in reversed(stage):
                pr = _squeeze_to(probs[m], v.ndim - 1)
                pr = np.broadcast_to(pr, v.shape[:-1]) if pr.shape != v.shape[:-1] else pr
                v = expect(pr, v, 1)
        axis = first - 1
    return Policy(probs=probs, value=v)


def expect_stage(
    g: Profiles, policy: Policy, stage: Sequence[str], values: np.ndarray, trailing: int
) -> np.ndarray:
    """``values`` (B, A_1..A_k, *rest), k the last axis of ``stage``, in expectation over
    the stage's movers, last first."""
    v = values
    for m in reversed(stage):
        pr = _squeeze_to(policy.probs[m], v.ndim - trailing)
        v = expect(np.broadcast_to(pr, v.shape[: v.ndim - trailing]), v, trailing)
    return v


def expect_policy(g: Profiles, policy: Policy, values: np.ndarray, trailing: int) -> np.ndarray:
    """``values`` (B, A_1..A_n, *rest) in expectation over every mover's policy."""
    v = values
    for stage in reversed(g.cast.order.stages):
        v = expect_stage(g, policy, stage, v, trailing)
    return v


# ---- successor states and the lookahead -----------------------------------------------
@dataclass(frozen=True)
class StateCodec:
    """Mixed-radix code of a reduced state (one integer per combination of values)."""

    names: tuple[str, ...]
    sizes: tuple[int, ...]

    @classmethod
    def of(cls, cast: Cast) -> StateCodec:
        """The codec of a cast's state variables."""
        sv = cast.state_vars
        return cls(tuple(sv), tuple(sv.values()))

    def encode(self, state: Mapping[str, np.ndarray]) -> np.ndarray:
        """Integer code of each state (broadcast)."""
        code: Any = 0
        for n, s in zip(self.names, self.sizes, strict=True):
            code = code * s + np.asarray(state[n], dtype=np.int64)
        return np.asarray(code)

    def decode(self, codes: np.ndarray) -> dict[str, np.ndarray]:
        """States of the codes, one array per variable."""
        out: dict[str, np.ndarray] = {}
        rest = np.asarray(codes, dtype=np.int64)
        for n, s in reversed(list(zip(self.names, self.sizes, strict=True))):
            out[n] = rest % s
            rest = rest // s
        return {n: out[n] for n in self.names}


def feasible_profiles(g: Profiles) -> np.ndarray:
    """Whether every mover's move is feasible, for every profile (shape)."""
    ok = np.ones(g.shape, dtype=bool)
    for m in g.cast.order.movers:
        ok &= g.ok[m]
    return ok


@dataclass(frozen=True, eq=False)
class Transitions:
    """A month's profiles with their successors: the code of the state each profile
    leads to and the position of that state among ``successors``."""

    g: Profiles
    successors: np.ndarray  # codes of the reachable next states, sorted
    index: np.ndarray  # shape: position in ``successors`` (0 where infeasible)


def transitions(g: Profiles, codec: StateCodec, targets: np.ndarray | None = None) -> Transitions:
    """Successor states of the feasible profiles of ``g``; ``index`` positions them among
    ``targets`` (sorted codes that hold every successor) or, by default, among the
    successors themselves."""
    nxt = np.broadcast_to(codec.encode(g.next), g.shape)
    ok = feasible_profiles(g)
    succ = np.unique(nxt[ok])
    among = succ if targets is None else targets
    if not np.isin(succ, among).all():
        raise ValueError("targets must hold every successor state")
    index = np.where(ok, np.searchsorted(among, nxt), 0)  # every feasible nxt is in among
    return Transitions(g=g, successors=succ, index=index)


def compact_menus(
    cast: Cast,
    states: Mapping[str, np.ndarray],
    cals: Sequence[MonthCalendar],
    fixed: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-state menus (B, A) of the moves each mover can take in some calendar of
    ``cals`` (after any moves of the earlier movers), padded, with their validity;
    ``fixed`` gives the moves of movers whose menu is given (same for every state)."""
    b = len(next(iter(states.values())))
    probe = {m: np.asarray(fixed[m]) for m in fixed}
    for m in cast.order.movers:
        if m not in probe:
            probe[m] = np.arange(len(cast.actor(m).moves))
    ok = {m: np.zeros((b, len(probe[m])), dtype=bool) for m in cast.order.movers}
    for cal in dict.fromkeys(cals):
        g = build(cast, cal, states, probe)
        for m in cast.order.movers:
            k = g.axis(m)
            mk = np.moveaxis(np.broadcast_to(g.ok[m], g.shape), k, -1)
            ok[m] |= mk.reshape(b, -1, g.shape[k]).any(axis=1)
    codes, valid = {}, {}
    for m in cast.order.movers:
        if m in fixed:
            codes[m], valid[m] = probe[m], np.ones((b, len(probe[m])), dtype=bool)
            continue
        width = max(1, int(ok[m].sum(axis=1).max()))
        codes[m] = np.zeros((b, width), dtype=np.int64)
        valid[m] = np.zeros((b, width), dtype=bool)
        for row, mask in enumerate(ok[m]):
            feas = probe[m][mask]
            codes[m][row, : len(feas)] = feas
            valid[m][row, : len(feas)] = True
    return codes, valid
