"""Continuation values: the month's game played backwards from the next deadline.

The value of the state a month leads to comes from the same game played over the months
to the next deadline (the lapse of a notice, the anniversary, or a scheduled signing),
each government choosing by logit. Every government counts what its moves do to what its
payoffs read, read from the state of each month (``model.environment.Environment``: the
commitment a notice creates, trust, the expected public); what no move changes (the
threat, the historical tension, the growth of Tokyo's grievance) is held at its current
value. After
the deadline the resulting state is valued as ``terminal_months`` of its monthly payoff,
with the actors that keep their stance (``Government.keeps_stance``) keeping the move
they made in the deadline month and the others holding; a notice still standing then
counts as the lapse it promises (``Government.at_horizon``).

Only states reachable from the current one are solved. What depends on the scenario
alone (which states are reachable, which moves feasible, where each profile leads) is
built once per (state, calendars, menus) and cached (``Horizon``); a run then only sums
utilities and solves, on total utilities. The split of values by payoff component,
which only the explanations need, is computed on demand from the stored policies
(``Continuation.components``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from model import kernels
from model.calendar import MonthCalendar
from model.game import (
    Cast,
    Policy,
    Profiles,
    StateCodec,
    Transitions,
    build,
    compact_menus,
    components,
    expect_policy,
    solve,
    transitions,
    utilities,
)

QUIET = MonthCalendar(notice_open=False, expiry=False, signing=False)


@dataclass(frozen=True)
class Terminal:
    """The states after the last month of a horizon, as ``lasting`` profiles: actors
    that keep their stance keep the deadline month's moves, the others hold."""

    g: Profiles
    gather: tuple[np.ndarray, ...]  # indexes the terminal arrays per profile of the month
    flat: np.ndarray  # the same as one index into the terminal arrays' flattened profiles

    def at(self, values: np.ndarray) -> np.ndarray:
        """Terminal ``values`` (g.shape + rest) for each profile of the month before."""
        rest = values.shape[len(self.g.shape) :]
        return np.take(values.reshape(-1, *rest), self.flat, axis=0)

    @classmethod
    def after(cls, tr: Transitions) -> Terminal:
        """The terminal profiles after the month ``tr``."""
        g, cast = tr.g, tr.g.cast
        codec = StateCodec.of(cast)
        state = codec.decode(tr.successors)
        for actor in cast.actors:
            state.update(actor.at_horizon(state))
        menus, gather = {}, [tr.index]
        ndim = len(g.shape)
        for i, m in enumerate(cast.order.movers):
            if cast.actor(m).keeps_stance:
                rows = g.menus[m]
                if not (rows == rows[:1]).all():
                    raise ValueError(f"{m} keeps its stance but its menu differs by state")
                menus[m] = rows[0]
                shape = [1] * ndim
                shape[1 + i] = rows.shape[1]
                gather.append(np.arange(rows.shape[1]).reshape(shape))
            else:
                menus[m] = np.zeros(1, dtype=np.int64)  # move 0: hold
                gather.append(np.zeros([1] * ndim, dtype=np.int64))
        tg = build(cast, QUIET, state, menus, lasting=True)
        return cls(g=tg, gather=tuple(gather), flat=_flat_index(tg.shape, tuple(gather), g.shape))


def _flat_index(
    shape: tuple[int, ...], gather: tuple[np.ndarray, ...], out: tuple[int, ...]
) -> np.ndarray:
    """``gather`` (one index array per axis of ``shape``) as flat positions, shape ``out``."""
    flat = np.zeros(out, dtype=np.int64)
    for size, idx in zip(shape, gather, strict=True):
        flat = flat * size + idx
    return flat


@dataclass(frozen=True)
class Horizon:
    """Everything about a lookahead that the parameters do not change."""

    first: Transitions  # the month being decided
    months: tuple[Transitions, ...]  # the months after it, up to the deadline
    terminal: Terminal  # after the last of them


_BUILD_CACHE_SIZE = 1024
"""Cached structures per function: bounded, so a sweep over many scenarios keeps a flat
memory footprint (a structure is some tens of kB)."""


@lru_cache(maxsize=_BUILD_CACHE_SIZE)
def _menus(
    cast: Cast,
    codes: tuple[int, ...],
    cals: tuple[MonthCalendar, ...],
    fixed: tuple[tuple[str, tuple], ...],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    states = StateCodec.of(cast).decode(np.array(codes, dtype=np.int64))
    fixed_menus = {m: np.array(c, dtype=np.int64) for m, c in fixed}
    return compact_menus(cast, states, cals, fixed_menus)


@lru_cache(maxsize=_BUILD_CACHE_SIZE)
def _profiles(
    cast: Cast,
    codes: tuple[int, ...],
    cal: MonthCalendar,
    fixed: tuple[tuple[str, tuple], ...],
    menu_cals: tuple[MonthCalendar, ...],
) -> Profiles:
    """Profiles of the month ``cal`` from the states ``codes``, with the menus of every
    month of ``menu_cals``: months sharing states and menus have the same utilities
    (utilities do not read the calendar; feasibility does), tagged by ``utility_key``."""
    states = StateCodec.of(cast).decode(np.array(codes, dtype=np.int64))
    menus, valid = _menus(cast, codes, menu_cals, fixed)
    g = build(cast, cal, states, menus, valid)
    g.utility_key = (codes, fixed, menu_cals)
    return g


@lru_cache(maxsize=_BUILD_CACHE_SIZE)
def _month(
    cast: Cast,
    codes: tuple[int, ...],
    cal: MonthCalendar,
    fixed: tuple[tuple[str, tuple], ...],
    targets: tuple[int, ...] | None,
    menu_cals: tuple[MonthCalendar, ...] | None = None,
) -> Transitions:
    g = _profiles(cast, codes, cal, fixed, (cal,) if menu_cals is None else menu_cals)
    among = None if targets is None else np.array(targets, dtype=np.int64)
    return transitions(g, StateCodec.of(cast), among)


@lru_cache(maxsize=_BUILD_CACHE_SIZE)
def _first(
    cast: Cast, code: int, cal: MonthCalendar, targets: tuple[int, ...] | None
) -> Transitions:
    codec = StateCodec.of(cast)
    states = codec.decode(np.array([code], dtype=np.int64))
    menus = {m: np.arange(len(cast.actor(m).moves)) for m in cast.order.movers}
    among = None if targets is None else np.array(targets, dtype=np.int64)
    return transitions(build(cast, cal, states, menus), codec, among)


@lru_cache(maxsize=_BUILD_CACHE_SIZE)
def _terminal(tr: Transitions) -> Terminal:
    return Terminal.after(tr)


def _codes(arr: np.ndarray) -> tuple[int, ...]:
    return tuple(int(x) for x in arr)


@lru_cache(maxsize=_BUILD_CACHE_SIZE)
def horizon(
    cast: Cast,
    code: int,
    cal: MonthCalendar,
    ahead: tuple[MonthCalendar, ...],
    fixed: tuple[tuple[str, tuple], ...],
) -> Horizon:
    """The month decided from state ``code`` under ``cal``, with full menus, then the
    months ``ahead`` with the menus of the lookahead (``fixed``: movers whose expected
    moves are given), each on every state reachable in some month of the horizon (one
    state set for all months, so months with the same calendar share their profiles and
    utilities)."""
    if not ahead:
        first = _first(cast, code, cal, None)
        return Horizon(first=first, months=(), terminal=_terminal(first))
    # the states reachable from ``code``, closed under every month before the last
    closure = set(_codes(_first(cast, code, cal, None).successors))
    cals = tuple(dict.fromkeys(ahead[:-1]))
    grown = True
    while grown:
        states_now = tuple(sorted(closure))
        size = len(closure)
        for c in cals:
            closure |= set(_codes(_month(cast, states_now, c, fixed, None).successors))
        grown = len(closure) > size
    states = tuple(sorted(closure))
    first = _first(cast, code, cal, states)
    every = tuple(dict.fromkeys(ahead))
    months = [_month(cast, states, c, fixed, states, every) for c in ahead[:-1]]
    months.append(_month(cast, states, ahead[-1], fixed, None, every))
    return Horizon(first=first, months=tuple(months), terminal=_terminal(months[-1]))


def clear_caches() -> None:
    """Forget every cached horizon (for benchmarks of the cold path, and before each test of
    a mutation run: tests/conftest.py)."""
    for f in (_menus, _profiles, _month, _first, _terminal, horizon):
        f.cache_clear()


@dataclass
class Solved:
    """One month of the horizon, solved: its policy and utilities by component."""

    tr: Transitions
    comps: list[dict[str, Any]]
    policy: Policy


@dataclass
class Continuation:
    """The solved horizon: the month being decided gets ``cont`` (total discounted
    continuation of every profile, shape + (P,)); ``components`` splits it."""

    horizon: Horizon
    cont: np.ndarray
    solved: list[Solved]  # the months ahead, in calendar order
    terminal_comps: list[dict[str, Any]]
    discount: float
    terminal_months: float

    def components(self) -> np.ndarray:
        """The continuation of every profile of the month by component, shape + (P, C):
        the same backward pass as ``solve_horizon``, with the stored policies."""
        h = self.horizon
        term = components(h.terminal.g, self.terminal_comps)
        cont = self.discount * (self.terminal_months * h.terminal.at(term))
        for k in range(len(self.solved) - 1, -1, -1):
            s = self.solved[k]  # the month h.months[k]
            value = expect_policy(s.tr.g, s.policy, components(s.tr.g, s.comps) + cont, 2)
            before = h.months[k - 1] if k else h.first
            cont = self.discount * np.take(value, before.index, axis=0)
        return cont


def solve_horizon(h: Horizon, p: Any, env: Any, lam: float) -> Continuation:
    """Backward induction over the months of ``h`` on total utilities."""
    discount, tmonths = float(p.discount), float(p.terminal_months)
    cache: dict[Any, tuple[np.ndarray, list[dict[str, Any]]]] = {}

    def utils(g: Profiles) -> tuple[np.ndarray, list[dict[str, Any]]]:
        key = g.utility_key if g.utility_key is not None else id(g)
        if key not in cache:
            cache[key] = utilities(g, p, env)
        return cache[key]

    term_tot, term_comps = utils(h.terminal.g)
    # the last month's profiles lead to the terminal states, each earlier month's to the
    # states of the month after it: its utilities plus the discounted value of that state
    later = tmonths * h.terminal.at(term_tot)
    solved: list[Solved] = []
    for k in range(len(h.months) - 1, -1, -1):
        tr = h.months[k]
        tot, comps = utils(tr.g)
        if k == len(h.months) - 1:
            values = tot + discount * later
        else:
            p_ = tot.shape[-1]
            flat = kernels.add_discounted(
                tot.reshape(-1, p_), later, h.months[k].index.reshape(-1), discount
            )
            values = flat.reshape(tot.shape)
        policy = solve(tr.g, values, lam)
        solved.append(Solved(tr, comps, policy))
        later = policy.value
    solved.reverse()
    cont = discount * np.take(later, h.first.index, axis=0) if h.months else discount * later
    return Continuation(h, cont, solved, term_comps, discount, tmonths)


def fixed_key(fixed: Mapping[str, Sequence[int]]) -> tuple[tuple[str, tuple], ...]:
    """A hashable form of the lookahead's given menus."""
    return tuple(sorted((m, tuple(int(c) for c in codes)) for m, codes in fixed.items()))
