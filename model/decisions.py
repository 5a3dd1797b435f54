"""How the governments choose: a logit agent-QRE of each month's game, with backward
induction over the months to the next deadline.

Each month is a small extensive-form game. Washington (pressure on Seoul and on Tokyo)
and Beijing (rhetoric or inducement toward Seoul) move first and simultaneously; Tokyo
moves next, seeing them; Seoul moves last, seeing all (in 2019 Seoul answered Tokyo's
moves: the notice of 2019-08-22 followed the white-list removal of 2019-08-02). Every
mover picks a move with logit probabilities ``exp(lambda * EU)`` over its feasible moves
(quantal response: McKelvey & Palfrey 1995, 1998 for the agent form), where EU is the
month's utility plus the discounted value of the state the month leads to. That value
comes from the same game played backwards from the next deadline (expiry of a notice,
renewal, or a scheduled signing) to next month, on a reduced state space, with the slow
variables (opinion, threat, trust, grievance) held at their current values: each
government believes the mood of the moment will last. Nothing here knows the date of any
2019 event; the sequence comes out of payoffs, state and the pact's calendar.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from model import games
from model.actions import (
    BEIJING,
    N_CURB,
    N_PACT,
    SEOUL,
    SEOUL_ACTIONS,
    TOKYO,
    TOKYO_ACTIONS,
    US_ACTIONS,
    WASHINGTON,
)
from model.payoffs import (
    WTO_ACTIVE,
    WTO_STATES,
    Environment,
    Menus,
    MonthCalendar,
    Profiles,
    States,
    month_profiles,
    seoul_moves,
    terminal_values,
    tokyo_moves,
)

N_WTO = len(WTO_STATES)
N_TALKS = 2


def state_index(
    pact: np.ndarray, curb: np.ndarray, wto: np.ndarray, talks: np.ndarray
) -> np.ndarray:
    """Position of (pact, curb, wto, talks) in the reduced state grid."""
    return ((pact * N_CURB + curb) * N_WTO + wto) * N_TALKS + talks


@dataclass(frozen=True)
class MonthSolution:
    """The solved month: move probabilities at every node and expected values.

    ``flow`` and ``cont`` are (B, U, J, T, S, 4, C) and (B, 1, 1, T, S, 4, C): the month's
    utility and the discounted continuation of each profile, per player and component.
    """

    flow: np.ndarray
    cont: np.ndarray
    p_seoul: np.ndarray  # (B, U, J, T, S)
    p_tokyo: np.ndarray  # (B, U, J, T)
    sigma_us: np.ndarray  # (B, U)
    sigma_beijing: np.ndarray  # (B, J)
    value: np.ndarray  # (B, 4, C)


def _choice(utilities: np.ndarray, lam: float, feasible: np.ndarray) -> np.ndarray:
    """Logit choice over the last axis with infeasible moves at probability 0; the hot
    path of the backward induction (``games.logit_response`` without its input checks,
    which the callers here guarantee: finite utilities, a feasible move in every row)."""
    z = np.where(feasible, lam * utilities, -np.inf)
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def _expect(probs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Expectation over a mover's axis: probs (..., A) with values (..., A, P, C)."""
    lead, (a, p, c) = values.shape[:-3], values.shape[-3:]
    out = probs[..., None, :] @ values.reshape(*lead, a, p * c)
    return out.reshape(*lead, p, c)


def solve_month(prof: Profiles, cont: np.ndarray, lam: float) -> MonthSolution:
    """Backward induction within the month: Seoul's logit response at every node, then
    Tokyo's given Seoul's, then the logit QRE of Washington and Beijing's simultaneous
    game given both."""
    values = prof.flow + cont
    totals = prof.flow_total + cont.sum(-1)
    seoul_ok = np.broadcast_to(prof.seoul_ok[:, None, None, :, :], totals.shape[:-1])
    p_seoul = _choice(totals[..., SEOUL], lam, seoul_ok)
    after_tokyo = _expect(p_seoul, values)
    tokyo_u = after_tokyo[..., TOKYO, :].sum(-1)
    tokyo_ok = np.broadcast_to(prof.tokyo_ok[:, None, None, :], tokyo_u.shape)
    p_tokyo = _choice(tokyo_u, lam, tokyo_ok)
    after_third = _expect(p_tokyo, after_tokyo)
    us_u = after_third[..., WASHINGTON, :].sum(-1)
    bj_u = after_third[..., BEIJING, :].sum(-1)
    if us_u.shape[2] == 1:  # Beijing's stance fixed: Washington alone decides
        sigma_us = _choice(us_u[:, :, 0], lam, np.ones(us_u.shape[:2], dtype=bool))
        sigma_bj = np.ones((us_u.shape[0], 1))
    else:
        sigma_us, sigma_bj = games.logit_qre([us_u, bj_u], lam).strategies
    value = np.einsum("bu,bj,bujpc->bpc", sigma_us, sigma_bj, after_third)
    return MonthSolution(prof.flow, cont, p_seoul, p_tokyo, sigma_us, sigma_bj, value)


def continuation(
    table: np.ndarray | None,
    prof: Profiles,
    menus: Menus,
    p: dict[str, float],
    env: Environment,
) -> np.ndarray:
    """Discounted value of the state each profile leads to, (B, U or 1, J or 1, T, S, 4, C).

    ``table`` is the value of every reduced state at the start of next month; ``None``
    when this month is the last of the horizon, so the resulting states are valued by
    ``terminal_values`` under this month's third-party stance.
    """
    shape = prof.seoul_ok.shape
    curb = np.broadcast_to(prof.curb_next[:, :, None], shape)
    if table is not None:
        v = table[state_index(prof.pact_next, curb, prof.wto_next, prof.talks_next)]
        return p["discount"] * v[:, None, None]
    nxt = States(
        pact=prof.pact_next.reshape(-1),
        curb=curb.reshape(-1),
        wto=prof.wto_next.reshape(-1),
        talks=prof.talks_next.reshape(-1),
    )
    v = terminal_values(p, env, nxt, menus.us, menus.beijing)  # (B*T*S, U, J, 4, C)
    v = v.reshape(*shape, *v.shape[1:]).transpose(0, 3, 4, 1, 2, 5, 6)
    return p["discount"] * v


class Lookahead:
    """Values of every reduced state by backward induction over the months ahead.

    The reduced state is (pact, curb level, WTO complaint, talks); each state gets a
    compact menu of the moves that can ever be feasible in it, so the arrays stay small.
    Washington chooses its pressure on Seoul (none on Tokyo) and Beijing is expected to
    keep last month's stance (code given to ``table``); everybody chooses by logit.
    """

    def __init__(self, include_negotiating: bool) -> None:
        pacts = range(N_PACT) if include_negotiating else range(1, N_PACT)
        # Talks run only on curbs in force and only with the WTO complaint paused (or
        # never filed): other combinations cannot occur and are left out.
        grid = np.array(
            [
                (pa, cu, wt, tk)
                for pa, cu, wt, tk in itertools.product(
                    pacts, range(N_CURB), range(N_WTO), range(N_TALKS)
                )
                if not tk or (cu > 0 and wt != WTO_ACTIVE)
            ],
            dtype=np.int64,
        )
        self.states = States(pact=grid[:, 0], curb=grid[:, 1], wto=grid[:, 2], talks=grid[:, 3])
        self.size_full = N_PACT * N_CURB * N_WTO * N_TALKS
        self.index = state_index(*grid.T)
        self._tokyo, self._tokyo_valid = _compact(self._tokyo_feasible())
        self._seoul, self._seoul_valid = _compact(self._seoul_feasible())
        self._us = np.array([i for i, (_, pt) in enumerate(US_ACTIONS) if pt == 0])

    def _tokyo_feasible(self) -> np.ndarray:
        all_t = np.tile(np.arange(len(TOKYO_ACTIONS)), (self.states.size, 1))
        return tokyo_moves(self.states, all_t)[1]

    def _seoul_feasible(self) -> np.ndarray:
        all_t = np.tile(np.arange(len(TOKYO_ACTIONS)), (self.states.size, 1))
        all_s = np.tile(np.arange(len(SEOUL_ACTIONS)), (self.states.size, 1))
        curb_next, _ = tokyo_moves(self.states, all_t)
        ok = np.zeros(all_s.shape, dtype=bool)
        for flags in itertools.product((False, True), repeat=3):
            cal = MonthCalendar(*flags)
            ok |= seoul_moves(self.states, cal, all_t, curb_next, all_s)[0].any(axis=1)
        return ok

    def menus(self, beijing: int) -> Menus:
        """The compact menus, with Beijing's stance fixed at ``beijing``."""
        return Menus(
            us=self._us,
            beijing=np.array([beijing]),
            tokyo=self._tokyo,
            seoul=self._seoul,
            tokyo_valid=self._tokyo_valid,
            seoul_valid=self._seoul_valid,
        )

    def table(
        self,
        p: dict[str, float],
        env: Environment,
        calendars: list[MonthCalendar],
        beijing: int,
    ) -> np.ndarray:
        """Value of each reduced state at the start of ``calendars[0]``'s month, playing
        the months in ``calendars`` and valuing the states after the last one with
        ``terminal_values``; (size_full, 4, C), rows of unreachable states are zero."""
        menus = self.menus(beijing)
        profiles: dict[MonthCalendar, Profiles] = {}
        table: np.ndarray | None = None
        lam = p["rationality"]
        for cal in reversed(calendars):
            prof = profiles.get(cal)
            if prof is None:
                prof = profiles[cal] = month_profiles(p, env, cal, self.states, menus)
            sol = solve_month(prof, continuation(table, prof, menus, p, env), lam)
            table = np.zeros((self.size_full, *sol.value.shape[1:]))
            table[self.index] = sol.value
        if table is None:
            raise ValueError("calendars must name at least one month")
        return table


def _compact(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row list of the feasible codes in ``ok`` (B, A), padded; and its validity."""
    width = max(1, int(ok.sum(axis=1).max()))
    codes = np.zeros((ok.shape[0], width), dtype=np.int64)
    valid = np.zeros((ok.shape[0], width), dtype=bool)
    for row, mask in enumerate(ok):
        feasible = np.flatnonzero(mask)
        codes[row, : len(feasible)] = feasible
        valid[row, : len(feasible)] = True
    return codes, valid


def draw(rng: np.random.Generator, probs: np.ndarray) -> int:
    """One index drawn with probabilities ``probs`` from the model's generator."""
    cdf = np.cumsum(probs)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(probs) - 1))
